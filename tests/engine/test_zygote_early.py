"""The zygote a CLI command starts early (``start_early``) boots beside the command's own
start-up; the first worker adopts it, and one nobody adopts ends with its process."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from tests.clirun import SRC, alive
from wac.engine.rounds import zygote_client
from wac.engine.rounds.envzygotes import ZygotePool

pytestmark = pytest.mark.slow  # real interpreters


def test_the_first_pool_adopts_the_zygote_started_early_and_later_pools_start_their_own() -> None:
    zygote_client.start_early()
    early = zygote_client._early
    assert early is not None and early.pid is not None
    first, second = ZygotePool(), ZygotePool()
    try:
        assert first.default is early  # the same process: nothing booted twice
        first.start()
        assert first.default.pid == early.pid
        assert second.default is not early and second.default.pid is None  # a new one, not started yet
        assert zygote_client._early is None
    finally:
        first.stop()
        second.stop()


def test_a_zygote_started_early_that_no_worker_adopts_ends_with_its_process() -> None:
    code = ("from wac.engine.rounds import zygote_client as z; z.start_early(); "
            "print(z._early.pid, flush=True)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=60)
    pid = int(out.stdout.split()[0])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    assert not alive(pid), "the zygote outlived the process that started it"


