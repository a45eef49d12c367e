"""Issue 11 item 7: one clock for every deadline in the store, whatever each process's clock says.

Workers run with their Python clock shifted (tests/faults/clockhook), the way a process on a
machine with a wrong clock would see time; the store must take its deadlines from one clock."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

from tests.clirun import SRC
from tests.engine.enginerun import submit, workspace
from tests.faults.helpers import finish, start_wac, wait_until

pytestmark = pytest.mark.slow

HOOK = str(Path(__file__).resolve().parent / "clockhook")


def _skewed(offset: float) -> dict[str, str]:
    return {"PYTHONPATH": f"{SRC}:{HOOK}", "WAC_TEST_CLOCK_OFFSET": str(offset)}


SLEEPER = """
    from wac import sleep, step, workflow

    @workflow
    async def main():
        a = await step("a", lambda: 1)
        await sleep(3)
        return a + 1
"""


def test_a_worker_an_hour_ahead_does_not_park_a_sleep_for_an_hour(repo, write):
    write("f/t/sleeper.py", SLEEPER)
    ahead = start_wac(repo, "worker", "--lease", "2", env=_skewed(3600))
    with workspace(repo) as ws:
        try:
            job_id = submit(ws, "f/t/sleeper.py")
            # the worker an hour ahead runs the first round and writes the sleep's deadline
            wait_until(lambda: any(s.kind == "sleep" for s in ws.store.get_steps(job_id)), 60, "the sleep")
        finally:
            ahead.send_signal(signal.SIGINT)
            finish(ahead, 30)
        sleeping = ws.store.get_job(job_id)
        assert sleeping.scheduled_at < ws.store.now() + 30, "the sleep was parked by the skewed clock"
        normal = start_wac(repo, "worker", "--lease", "2")
        try:
            job = ws.store.wait_for_result(job_id, 60)
        finally:
            normal.send_signal(signal.SIGINT)
            finish(normal, 30)
    assert job.status == "succeeded" and job.result == 2


BUSY_STEP = """
    import time
    from wac import step, workflow

    def body():
        with open({starts!r}, "a") as f:
            f.write("start\\n")
        time.sleep(5)
        return 1

    @workflow
    async def main():
        return await step("slow", body)
"""


def test_a_worker_an_hour_behind_does_not_have_its_lease_fired_early(repo, write):
    starts = repo / "starts.txt"
    write("f/t/busy.py", BUSY_STEP.format(starts=str(starts)))
    behind = start_wac(repo, "worker", "--lease", "2", env=_skewed(-3600))
    with workspace(repo) as ws:
        try:
            job_id = submit(ws, "f/t/busy.py")
            wait_until(lambda: starts.exists(), 60, "the step body to start")
            other = start_wac(repo, "worker", "--lease", "2")  # a worker with a correct clock
            try:
                job = ws.store.wait_for_result(job_id, 60)
            finally:
                other.send_signal(signal.SIGINT)
                finish(other, 30)
        finally:
            behind.send_signal(signal.SIGINT)
            finish(behind, 30)
    assert job.status == "succeeded"
    assert starts.read_text().split() == ["start"], "the lease fired early and the body ran again"
