"""Issue 11 item 6: a round does not outlive its claim (real workers, SIGSTOP/SIGCONT, SIGKILL)."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.engine.enginerun import submit, workspace
from tests.faults.helpers import finish, start_wac, wait_until

pytestmark = pytest.mark.slow

SLOW_STEP = """
    import os, time
    from wac import step, workflow

    def note(what):
        with open({marks!r}, "a") as f:
            f.write(f"{{what}} {{os.getpid()}}\\n")

    def body():
        note("start")
        time.sleep(8)
        note("end")
        return 1

    @workflow
    async def main():
        a = await step("slow", body)
        b = await step("after", lambda: note("after") or 2)
        return a + b
"""


def _marks(path) -> list[tuple[str, int]]:
    if not path.exists():
        return []
    return [(w, int(p)) for w, p in (line.split() for line in path.read_text().splitlines())]


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].startswith("Z")  # a zombie runs no code
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_stopped_workers_round_dies_at_its_lease_and_never_runs_user_code_again(repo, write):
    marks = repo / "marks.txt"
    write("f/l/slow.py", SLOW_STEP.format(marks=str(marks)))
    first = start_wac(repo, "worker", "--lease", "2", "-c", "1")
    second = None
    try:
        with workspace(repo) as ws:
            job_id = submit(ws, "f/l/slow.py")
            wait_until(lambda: _marks(marks), 60, "the step body to start")
            (_, old_round), = _marks(marks)
            first.send_signal(signal.SIGSTOP)  # only the worker: its round is not stopped
            wait_until(lambda: _gone(old_round), 30, "the old round to die once its lease ran out")
            second = start_wac(repo, "worker", "--lease", "2", "-c", "1")
            job = ws.store.wait_for_result(job_id, 90)
            assert job.status == "succeeded" and job.result == 3
            first.send_signal(signal.SIGCONT)
            time.sleep(3)  # give the old worker every chance to do something wrong
    finally:
        for proc in (first, second):
            if proc is not None:
                proc.send_signal(signal.SIGCONT)
                proc.send_signal(signal.SIGINT)
                finish(proc, 30)
    seen = _marks(marks)
    by_old = [w for w, pid in seen if pid == old_round]
    assert by_old == ["start"], seen  # the old round started the body, then ran nothing more
    assert [w for w, _ in seen].count("after") == 1, seen


def test_a_round_dies_with_its_worker(repo, write):
    marks = repo / "marks.txt"
    write("f/l/slow.py", SLOW_STEP.format(marks=str(marks)))
    worker = start_wac(repo, "worker", "--lease", "30", "-c", "1")
    with workspace(repo) as ws:
        submit(ws, "f/l/slow.py")
        wait_until(lambda: _marks(marks), 60, "the step body to start")
        (_, round_pid), = _marks(marks)
        worker.send_signal(signal.SIGKILL)
        finish(worker, 30)
        wait_until(lambda: _gone(round_pid), 30, "the round to die with its worker")
    time.sleep(0.5)
    assert [w for w, _ in _marks(marks)] == ["start"]
    assert os.path.exists(marks)
