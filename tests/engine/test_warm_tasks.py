"""Warm task processes (issue 17): a direct child's round process is kept for the next direct
child of the same code instead of a fork per child (WAC_WARM_TASKS)."""

from __future__ import annotations

import pytest

from tests.engine.enginerun import submit, workers, workspace
from wac.engine.worker import WorkerConfig

pytestmark = pytest.mark.slow

PIDS = """
    import os
    from wac import step, task, workflow, TaskError

    SEEN = []  # a module global: what earlier tasks of this process left here

    @task
    def pid(i: int) -> list:
        print(f"task {i} in its own log")
        SEEN.append(i)
        return [os.getpid(), list(SEEN)]

    @task
    def boom(i: int) -> int:
        print(f"boom {i}")
        raise ValueError(f"boom {i}")

    @workflow
    async def main(n: int, fail_at: int = -1):
        out = []
        for i in range(n):
            if i == fail_at:
                try:
                    await boom(i)
                except TaskError:
                    pass
            out.append(await pid(i))
        return out
"""


def _run(repo, args: dict, slots: int = 1):
    with workspace(repo) as ws:
        job_id = submit(ws, "f/w/pids.py", args)
        with workers(ws, WorkerConfig(slots=slots)) as started:
            job = ws.store.wait_for_result(job_id, 120)
            reused = started[0].warm.reused
        children = {c.id: c for c in ws.store.children(job_id)}
        logs = {cid: "".join(line.text for line in ws.store.read_logs(cid)) for cid in children}
        return job, children, logs, reused


@pytest.mark.parametrize("warm", ["1", "0"])
def test_direct_children_of_one_script_share_a_warm_process_each_with_its_own_job_and_log(
        repo, write, monkeypatch, warm):
    monkeypatch.setenv("WAC_WARM_TASKS", warm)
    write("f/w/pids.py", PIDS)
    job, children, logs, reused = _run(repo, {"n": 5})
    assert job.status == "succeeded", job.error
    pids = [pid for pid, _seen in job.result]
    assert all(c.options.direct for c in children.values())
    for i, (_cid, text) in enumerate(sorted(logs.items(), key=lambda kv: children[kv[0]].created_at)):
        assert f"task {i} in its own log" in text and text.count("in its own log") == 1, text
    if warm == "1":
        assert len(set(pids)) == 1 and reused == 4  # one fork, then the same process four times
        assert job.result[-1][1] == [0, 1, 2, 3, 4]  # module globals live on, as documented
    else:
        assert len(set(pids)) == 5 and reused == 0
        assert all(seen == [i] for i, (_pid, seen) in enumerate(job.result))


def test_a_task_that_raises_ends_its_warm_process_and_the_next_child_gets_a_fresh_one(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_WARM_TASKS", "1")
    write("f/w/pids.py", PIDS)
    job, children, logs, _reused = _run(repo, {"n": 4, "fail_at": 2})
    assert job.status == "succeeded", job.error
    pids = [pid for pid, _seen in job.result]
    assert pids[0] == pids[1]  # kept between the first two
    assert pids[2] != pids[1] and pids[3] == pids[2]  # the process that raised was not kept
    failed = [c for c in children.values() if c.status == "failed"]
    assert len(failed) == 1 and "boom 2" in logs[failed[0].id] and "in its own log" not in logs[failed[0].id]


def test_a_warm_process_killed_while_kept_is_replaced_by_a_fork(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_WARM_TASKS", "1")
    write("f/w/kill.py", """
        import os, time
        from wac import step, task, workflow

        @task
        def pid() -> int:
            return os.getpid()

        def kill(p):
            os.kill(p, 9)
            for _ in range(1000):  # until it is gone (its zygote reaps it)
                try:
                    os.kill(p, 0)
                except ProcessLookupError:
                    return True
                time.sleep(0.01)
            return False

        @workflow
        async def main():
            first = await pid()
            gone = await step("kill", lambda: kill(first))
            second = await pid()
            return [gone, first != second]
    """)
    with workspace(repo) as ws:
        job_id = submit(ws, "f/w/kill.py", {})
        with workers(ws, WorkerConfig(slots=1)):
            job = ws.store.wait_for_result(job_id, 120)
    assert (job.status, job.result) == ("succeeded", [True, True]), job.error


def test_a_task_running_in_a_warm_process_is_still_killed_at_its_timeout(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_WARM_TASKS", "1")
    write("f/w/slow.py", """
        import time
        from wac import task, workflow, TaskError

        @task
        def quick() -> int:
            return 1

        @task(timeout=1)
        def slow() -> int:
            time.sleep(60)
            return 2

        @workflow
        async def main():
            a = await quick()
            try:
                await slow()
            except TaskError as exc:
                return [a, str(exc)]
            return [a, "not stopped"]
    """)
    with workspace(repo) as ws:
        job_id = submit(ws, "f/w/slow.py", {})
        with workers(ws, WorkerConfig(slots=1)) as started:
            job = ws.store.wait_for_result(job_id, 120)
            reused = started[0].warm.reused
    assert job.status == "succeeded", job.error
    assert job.result[0] == 1 and "timed out" in job.result[1]
    assert reused >= 1  # the slow task ran in the process the quick one left
