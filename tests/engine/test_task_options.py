"""Task options are honoured by the engine: timeout, tag, priority, cache_ttl, concurrency."""

from __future__ import annotations

import time

import pytest

from tests.engine.enginerun import submit, workers, workspace
from wac.engine.worker import WorkerConfig

pytestmark = pytest.mark.slow  # real workers and round processes: about a second each


def _events_peak(path) -> int:
    events = sorted((float(t), int(d)) for t, d in (line.split() for line in path.read_text().splitlines()))
    level = peak = 0
    for _t, delta in events:
        level += delta
        peak = max(peak, level)
    return peak


def test_task_timeout_kills_the_task_and_raises_task_error_in_the_parent(repo, write):
    marker = repo / "finished"
    write("f/t/slow.py", f"""
        import time
        from wac import task, workflow, TaskError

        @task(timeout=1)
        def slow() -> int:
            time.sleep(20)
            open({str(marker)!r}, "w").close()
            return 1

        @workflow
        async def main():
            try:
                return await slow()
            except TaskError as exc:
                return "caught: " + str(exc)
    """)
    with workspace(repo) as ws, workers(ws, WorkerConfig(slots=2)):
        t0 = time.monotonic()
        job = ws.store.wait_for_result(submit(ws, "f/t/slow.py"), 30)
        elapsed = time.monotonic() - t0
    assert job.status == "succeeded", job.error
    assert job.result.startswith("caught:") and "timed out" in job.result
    assert elapsed < 10 and not marker.exists()


def test_tagged_task_runs_only_on_a_worker_with_that_tag(repo, write):
    write("f/t/tagged.py", """
        from wac import task, workflow

        @task(tag="gpu")
        def on_gpu() -> str:
            return "gpu"

        @task
        def anywhere() -> str:
            return "cpu"

        @workflow
        async def main():
            return [await anywhere(), await on_gpu()]
    """)
    with workspace(repo) as ws, workers(ws, WorkerConfig(slots=2, tags=frozenset({"default"})),
                                        WorkerConfig(slots=1, tags=frozenset({"gpu"}))) as (cpu, gpu):
        job = ws.store.wait_for_result(submit(ws, "f/t/tagged.py"), 30)
        kids = {c.name: c for c in ws.store.children(job.id)}
    assert job.result == ["cpu", "gpu"]
    assert kids["on_gpu"].worker_id == gpu.worker_id
    assert kids["anywhere"].worker_id == cpu.worker_id


def test_higher_priority_children_are_claimed_first(repo, write):
    order = repo / "order.txt"
    write("f/t/prio.py", f"""
        import asyncio
        from wac import task, workflow

        def mark(name):
            with open({str(order)!r}, "a") as f:
                f.write(name + "\\n")
            return name

        @task(priority=1)
        def low(i: int) -> str:
            return mark(f"low{{i}}")

        @task(priority=10)
        def high(i: int) -> str:
            return mark(f"high{{i}}")

        @workflow
        async def main():
            return await asyncio.gather(low(1), low(2), high(1), high(2))
    """)
    with workspace(repo) as ws, workers(ws, WorkerConfig(slots=1)):
        job = ws.store.wait_for_result(submit(ws, "f/t/prio.py"), 30)
    assert job.result == ["low1", "low2", "high1", "high2"]
    assert order.read_text().split() == ["high1", "high2", "low1", "low2"]


def test_cached_task_result_is_reused_within_its_ttl(repo, write):
    runs = repo / "runs.txt"
    write("f/t/cached.py", f"""
        from wac import task, workflow

        @task(cache_ttl=600)
        def expensive(x: int) -> int:
            with open({str(runs)!r}, "a") as f:
                f.write("r")
            return x * 2

        @workflow
        async def main(x: int):
            return await expensive(x)
    """)
    with workspace(repo) as ws, workers(ws, WorkerConfig(slots=2)):
        first = ws.store.wait_for_result(submit(ws, "f/t/cached.py", {"x": 21}), 30)
        second = ws.store.wait_for_result(submit(ws, "f/t/cached.py", {"x": 21}), 30)
        other = ws.store.wait_for_result(submit(ws, "f/t/cached.py", {"x": 1}), 30)
    assert (first.result, second.result, other.result) == (42, 42, 2)
    assert runs.read_text() == "rr"


def test_concurrency_limit_keeps_one_task_of_a_key_running(repo, write):
    log = repo / "inflight.log"
    write("f/t/limited.py", f"""
        import time
        from wac import task, workflow, parallel

        @task(concurrency_limit=1, concurrency_key="db")
        def query(i: int) -> int:
            with open({str(log)!r}, "a") as f:
                f.write(f"{{time.time()}} +1\\n")
            time.sleep(0.15)
            with open({str(log)!r}, "a") as f:
                f.write(f"{{time.time()}} -1\\n")
            return i

        @workflow
        async def main():
            return await parallel([1, 2, 3, 4], query)
    """)
    with workspace(repo) as ws, workers(ws, WorkerConfig(slots=4)):
        job = ws.store.wait_for_result(submit(ws, "f/t/limited.py"), 30)
    assert job.result == [1, 2, 3, 4]
    assert _events_peak(log) == 1


def test_cancel_stops_the_workflow_and_kills_its_running_task(repo, write):
    marker = repo / "finished"
    write("f/t/long.py", f"""
        import time
        from wac import task, workflow

        @task
        def long() -> int:
            time.sleep(10)
            open({str(marker)!r}, "w").close()
            return 1

        @workflow
        async def main():
            return await long()
    """)
    with workspace(repo) as ws, workers(ws, WorkerConfig(slots=2, lease_s=3)):
        job_id = submit(ws, "f/t/long.py")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            kids = ws.store.children(job_id)
            if kids and kids[0].status == "running":
                break
            time.sleep(0.05)
        assert ws.store.cancel(job_id, "test") >= 1
        root = ws.store.wait_for_result(job_id, 15)
        deadline = time.monotonic() + 5
        while ws.store.children(job_id)[0].status not in ("cancelled", "failed") and time.monotonic() < deadline:
            time.sleep(0.05)
        child = ws.store.children(job_id)[0]
    assert root.status == "cancelled"
    assert child.status == "cancelled"
    time.sleep(0.2)
    assert not marker.exists()
