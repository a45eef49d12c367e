"""Durability under SIGKILL and load: real `wac worker` processes on one SQLite store."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirun import SRC
from tests.engine.enginerun import submit, workspace

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each


@pytest.fixture(autouse=True, params=["direct-sticky-warm", "direct-sticky-fresh", "direct-replay-warm",
                                      "replayed-sticky", "replayed-replay", "direct-sticky-warm-unchained",
                                      "direct-sticky-warm-unshared"])
def child_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Every test here runs under both values of both settings of issue 17: children called
    directly or replaying their parent (WAC_DIRECT_CHILDREN), parents kept alive while their
    children run or ending their round at each dispatch (WAC_STICKY_PARENTS); direct children
    also with and without warm task processes (WAC_WARM_TASKS: a kept process runs the next
    direct child, or a fresh fork each); and with a slot's next claim taken in the commit of a
    round's outcome (WAC_CHAIN_CLAIMS, on everywhere but "unchained"); and with parked parents
    sharing round processes (WAC_STICKY_SHARE, 16) or each in a process of its own ("unshared").
    The worker processes inherit the settings."""
    children, parents, *rest = request.param.split("-")
    direct = children == "direct"
    monkeypatch.setenv("WAC_DIRECT_CHILDREN", "1" if direct else "0")
    monkeypatch.setenv("WAC_STICKY_PARENTS", "1" if parents == "sticky" else "0")
    monkeypatch.setenv("WAC_WARM_TASKS", "0" if "fresh" in rest else "1")
    monkeypatch.setenv("WAC_CHAIN_CLAIMS", "0" if "unchained" in rest else "1")
    monkeypatch.setenv("WAC_STICKY_SHARE", "1" if "unshared" in rest else "16")
    return direct


def _assert_child_path(store, job_id: str, direct: bool) -> None:
    """The children of ``job_id`` took the path the setting asks for (the test is not vacuous)."""
    children = store.children(job_id)
    assert children
    assert all((c.options.direct is not None) == direct for c in children), [c.options for c in children]

CRASH_WORKFLOW = """
    import time
    from wac import parallel, sleep, step, task, workflow

    SIDE = {side!r}

    def effect(name, value):
        with open(SIDE, "a") as f:
            f.write(name + "\\n")
        return value

    @task
    def work(i: int) -> int:
        time.sleep(0.1)
        return i * i

    @task
    def combine(a: int, b: int) -> int:
        time.sleep(0.02)
        return a + b

    @workflow
    async def main(rounds: int = 4):
        total = 0
        for r in range(rounds):
            s = await step(f"s{{r}}", lambda: effect(f"s{{r}}", r * 100))
            squares = await parallel([1, 2, 3], work)
            total = await combine(total, s + sum(squares))
            t = await step(f"t{{r}}", lambda: effect(f"t{{r}}", 1))
            total += t
            if r % 3 == 2:
                await sleep(1)
        return total
"""


ROUNDS = 14


def _start_worker(repo: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "--lease", "1", "-c", "3"],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _progress(store, job_id: str) -> tuple:
    """The results committed so far (not claims or re-queues)."""
    return tuple(s.key for s in store.get_steps(job_id) if s.done)


def _between_steps(store, job_id: str) -> bool:
    """True while no round of the workflow itself runs: it waits on running tasks, or sleeps.

    A step body and the commit of its value are two instants; a kill between them re-runs the body
    (at-least-once, as in every engine). Killing while the workflow's own round is not running
    makes the exactly-once count of step bodies a guarantee the test can assert.
    """
    root = store.get_job(job_id)
    if root.status == "waiting":
        return any(c.status == "running" for c in store.children(job_id))
    return root.status == "queued" and root.scheduled_at > store.now() + 0.3


def test_sigkill_at_twenty_points_loses_nothing_and_never_reruns_a_step(repo, write, child_path):
    side = repo / "side_effects.txt"
    write("f/crash/wf.py", CRASH_WORKFLOW.format(side=str(side)))
    rng = random.Random(1234)
    kills: set[tuple] = set()
    with workspace(repo) as ws:
        job_id = submit(ws, "f/crash/wf.py", {"rounds": ROUNDS})
        deadline = time.monotonic() + 150
        while ws.store.get_job(job_id).status not in ("succeeded", "failed") and time.monotonic() < deadline:
            proc = _start_worker(repo)
            before = _progress(ws.store, job_id)
            skip = rng.randint(0, 3)  # which of the next safe instants to kill at
            while time.monotonic() < deadline and ws.store.get_job(job_id).status not in ("succeeded", "failed"):
                if _progress(ws.store, job_id) != before and _between_steps(ws.store, job_id):
                    if skip == 0:
                        break
                    skip -= 1
                time.sleep(0.002)
            kills.add(_progress(ws.store, job_id))
            proc.send_signal(signal.SIGKILL)
            _out, err = proc.communicate(timeout=10)
            assert b"database is locked" not in err
            if len(kills) >= 21:
                break
        # finish the run with one last worker that is left alone
        proc = _start_worker(repo)
        try:
            job = ws.store.wait_for_result(job_id, 60)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=20)
        _assert_child_path(ws.store, job_id, child_path)
    assert len(kills) >= 20, f"only {len(kills)} distinct kill points"
    assert job.status == "succeeded", job.error
    expected = 0
    for r in range(ROUNDS):
        expected = expected + r * 100 + 14 + 1
    assert job.result == expected
    lines = side.read_text().split()
    assert sorted(lines) == sorted({f"{p}{r}" for p in "st" for r in range(ROUNDS)}), lines


def test_worker_killed_mid_round_reruns_the_round_but_not_its_committed_step(repo, write):
    side, reached, go = repo / "side.txt", repo / "reached.txt", repo / "go"
    write("f/crash/mid.py", f"""
        import os, time
        from wac import step, workflow

        def effect():
            with open({str(side)!r}, "a") as f:
                f.write("s\\n")
            return 42

        @workflow
        async def main():
            v = await step("s", effect)
            with open({str(reached)!r}, "a") as f:
                f.write("r\\n")
            while not os.path.exists({str(go)!r}):   # the round stays busy here until the test says go
                time.sleep(0.01)
            return v
    """)
    with workspace(repo) as ws:
        job_id = submit(ws, "f/crash/mid.py")
        proc = _start_worker(repo)
        deadline = time.monotonic() + 120  # generous: a loaded 2-core machine starts workers slowly
        while not reached.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reached.exists(), "the first worker never reached the point where it is killed"
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
        go.touch()
        proc = _start_worker(repo)
        try:
            job = ws.store.wait_for_result(job_id, 60)
        finally:
            proc.send_signal(signal.SIGINT)
            proc.communicate(timeout=20)
    assert job.status == "succeeded" and job.result == 42
    assert side.read_text().split() == ["s"]  # the committed step ran once
    assert reached.read_text().split() == ["r", "r"]  # the body ran twice


def test_four_worker_processes_finish_200_fan_out_workflows_without_losing_a_result(repo, write, child_path):
    write("f/load/fan.py", """
        from wac import task, workflow
        import asyncio

        @task
        def leaf(i: int, j: int) -> int:
            return i * 100 + j

        @workflow
        async def main(i: int):
            values = await asyncio.gather(*[leaf(i, j) for j in range(10)])
            return sum(values)
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    with workspace(repo) as ws:
        ids = [submit(ws, "f/load/fan.py", {"i": i}) for i in range(200)]
        procs = [
            subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "-c", "2"],
                             cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
            for _ in range(4)
        ]
        try:
            jobs = [ws.store.wait_for_result(job_id, 240) for job_id in ids]
        finally:
            errs = []
            for p in procs:
                p.send_signal(signal.SIGINT)
            for p in procs:
                _out, err = p.communicate(timeout=30)
                errs.append(err.decode())
    assert all("database is locked" not in e for e in errs), errs
    assert [j.status for j in jobs] == ["succeeded"] * 200
    assert [j.result for j in jobs] == [sum(i * 100 + j for j in range(10)) for i in range(200)]
    # every child result landed in its parent
    with workspace(repo) as ws2:
        for job in jobs:
            steps = ws2.store.get_steps(job.id)
            assert len(steps) == 10 and all(s.done for s in steps)
            _assert_child_path(ws2.store, job.id, child_path)
