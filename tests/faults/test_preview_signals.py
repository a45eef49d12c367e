"""Issue 11 item 8: SIGTERM and SIGHUP during `wac script preview` act as Ctrl-C does."""

from __future__ import annotations

import signal

import pytest

from tests.engine.enginerun import workspace
from tests.faults.helpers import finish, start_wac, wait_until

pytestmark = pytest.mark.slow

BUSY = """
    import time

    def main():
        while True:
            time.sleep(0.01)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_preview_gives_the_job_back_and_exits_with_128_plus_signal(repo, write, sig):
    write("f/r/loop.py", BUSY)
    proc = start_wac(repo, "script", "preview", "f/r/loop.py")
    try:
        with workspace(repo) as ws:
            def running() -> bool:
                jobs = ws.store.list_jobs() if (repo / ".wac" / "wac.db").exists() else []
                return any(j.status == "running" for j in jobs)

            wait_until(running, 60, "the preview's job to run")
            proc.send_signal(sig)
            code, out, err = finish(proc, 30)
            (job,) = ws.store.list_jobs()
            assert job.status == "queued", (job.status, code, err)  # given back: any worker resumes it
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 128 + sig, err
    # the signal may land while the run is followed, or (on a loaded machine) while it is submitted
    assert (f"interrupted; job {job.id} stays in the workspace" in err
            or "interrupted while starting the run" in err), err
    assert "wac worker" in err
    assert "Traceback" not in err and out == ""
