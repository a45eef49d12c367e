"""Issue 11 item 9: a cancelled job never starts user code again."""

from __future__ import annotations

import signal
import time

import pytest

from tests.clirun import wac
from tests.engine.enginerun import submit, workspace
from tests.faults.helpers import finish, start_wac, wait_until

GATHER = """
    import time
    from wac import parallel, task, workflow

    @task
    def slow(i: int) -> int:
        with open({bodies!r}, "a") as f:
            f.write(f"start {{i}}\\n")
        time.sleep(60)
        return i

    @workflow
    async def main():
        return await parallel([1, 2], slow)
"""


def _starts(path) -> list[str]:
    return path.read_text().split("\n")[:-1] if path.exists() else []


@pytest.mark.slow
def test_cancel_during_a_preview_never_runs_the_cancelled_tasks_again(repo, write):
    bodies = repo / "bodies.txt"
    write("f/c/g.py", GATHER.format(bodies=str(bodies)))
    proc = start_wac(repo, "script", "preview", "f/c/g.py")
    try:
        wait_until(lambda: len(_starts(bodies)) == 2, 60, "both task bodies to start")
        with workspace(repo) as ws:
            (root,) = ws.store.list_jobs()
            assert "cancelled 3 job(s)" in wac("job", "cancel", root.id, cwd=repo).stderr
            code, _out, err = finish(proc, 60)
            assert code == 1 and "cancelled" in err
            states = {j.id: j.status for j in [root, *ws.store.children(root.id)]}
            states = {i: ws.store.get_job(i).status for i in states}
            assert set(states.values()) == {"cancelled"}, states
            # a later worker finds nothing to run
            worker = start_wac(repo, "worker", "-c", "2", "--lease", "2")
            time.sleep(3)
            worker.send_signal(signal.SIGINT)
            finish(worker, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert sorted(_starts(bodies)) == ["start 1", "start 2"]


def test_a_queued_job_whose_cancel_was_asked_is_cancelled_at_claim_not_run(repo, write):
    write("f/c/one.py", "def main():\n    return 1\n")
    with workspace(repo) as ws:
        job_id = submit(ws, "f/c/one.py")
        claim = ws.store.claim("w1", frozenset({"default"}), 30)
        assert claim is not None
        ws.store.cancel(job_id, "stop it")  # running: only asked
        # the round requeues itself (e.g. a checkpoint) before any heartbeat saw the cancel
        ws.store.checkpoint(claim.token, "s", 1, requeue=True)
        assert ws.store.get_job(job_id).status == "queued"
        assert ws.store.claim("w2", frozenset({"default"}), 30) is None
        job = ws.store.get_job(job_id)
        assert job.status == "cancelled" and "stop it" in job.error["message"]
