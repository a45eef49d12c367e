"""Issue 11 item 4: a full disk is one error naming it (exit 5) within seconds, and the run
resumes when space is back. Needs root to mount a small tmpfs (skipped otherwise)."""

from __future__ import annotations

import json
import os
import signal
import textwrap

import pytest

from tests.clirun import wac
from tests.faults.helpers import (
    finish,
    mount_tmpfs,
    remount,
    start_wac,
    unmount,
    wait_until,
)

pytestmark = pytest.mark.slow

BIG = """
    from wac import task, workflow

    @task
    def t(i: int) -> str:
        return "x" * 100_000

    @workflow
    async def main(n: int = 40):
        out = []
        for i in range(n):
            out.append(len(await t(i)))
        return sum(out)
"""


@pytest.fixture
def small_repo(tmp_path):
    where = tmp_path / "small"
    mount_tmpfs(where, "2m")
    (where / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\n")
    (where / "f" / "d").mkdir(parents=True)
    (where / "f" / "d" / "big.py").write_text(textwrap.dedent(BIG).lstrip())
    yield where
    unmount(where)


def _one_disk_full_error(r_stderr: str, where) -> None:
    assert f"error: no space left on the disk holding {where}" in r_stderr, r_stderr
    assert r_stderr.count("error:") == 1, r_stderr
    assert "Traceback" not in r_stderr and "Exception in thread" not in r_stderr
    assert "worker lost" not in r_stderr


def test_a_full_disk_during_a_preview_is_one_error_and_the_run_resumes_later(small_repo):
    r = wac("script", "preview", "f/d/big.py", cwd=small_repo, code=5, timeout=120)
    _one_disk_full_error(r.stderr, small_repo / ".wac")
    (job,) = json.loads(wac("job", "list", "--json", cwd=small_repo, code=None).stdout or "[]") or [None]
    assert job is not None and job["status"] not in ("succeeded", "failed"), job

    remount(small_repo, "size=32m")  # space is back
    worker = start_wac(small_repo, "worker", "--lease", "2")
    try:
        def done() -> bool:
            got = wac("job", "get", job["id"], "--json", cwd=small_repo, code=None)
            return got.code == 0 and got.json()["status"] in ("succeeded", "failed")

        wait_until(done, 120, "the run to finish after space came back")
    finally:
        worker.send_signal(signal.SIGINT)
        finish(worker, 30)
    final = wac("job", "get", job["id"], "--json", cwd=small_repo).json()
    assert final["status"] == "succeeded" and final["result"] == 40 * 100_000


def test_a_disk_full_before_the_code_is_written_is_the_same_one_error(small_repo):
    wac("script", "preview", "f/d/big.py", "-d", '{"n": 1}', cwd=small_repo)  # the store exists
    filler = small_repo / "filler"
    (small_repo / "f" / "d" / "other.py").write_text("def main():\n    return 1\n")  # a new bundle
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:  # fill the disk to the last byte
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    r = wac("script", "preview", "f/d/other.py", cwd=small_repo, code=5, timeout=120)
    _one_disk_full_error(r.stderr, small_repo / ".wac")
