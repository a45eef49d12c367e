"""Issue 11 items 1–3, 5: the store file deleted, truncated or damaged under a live worker; a
read-only repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.clirun import wac
from tests.engine.enginerun import submit, workspace
from tests.faults.helpers import (
    finish,
    mount_tmpfs,
    remount,
    start_wac,
    unmount,
)

pytestmark = pytest.mark.slow

QUICK = """
    from wac import step, workflow

    @workflow
    async def main(n: int = 1):
        return await step("s", lambda: n + 1)
"""


def _worker_served_a_run(repo: Path, write) -> tuple:
    write("f/q/quick.py", QUICK)
    proc = start_wac(repo, "worker", "-c", "2", "--lease", "2")
    with workspace(repo) as ws:
        job_id = submit(ws, "f/q/quick.py", {"n": 1})
        assert ws.store.wait_for_result(job_id, 60).status == "succeeded"
    return proc, job_id


def test_deleting_the_store_under_a_live_worker_stops_it_with_one_error(repo, write):
    proc, _ = _worker_served_a_run(repo, write)
    try:
        for name in os.listdir(repo / ".wac"):
            if name.startswith("wac.db"):
                os.unlink(repo / ".wac" / name)
        code, _out, err = finish(proc, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 5, err
    assert "was deleted" in err and "Traceback" not in err
    assert err.count("error:") == 1, err


def test_replacing_the_store_under_a_live_worker_stops_it(repo, write):
    proc, _ = _worker_served_a_run(repo, write)
    try:
        db = repo / ".wac" / "wac.db"
        os.rename(db, repo / ".wac" / "old.db")
        db.write_bytes((repo / ".wac" / "old.db").read_bytes())
        code, _out, err = finish(proc, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 5, err
    assert "was replaced" in err


def test_truncating_the_store_under_a_live_worker_stops_it_cleanly(repo, write):
    proc, _ = _worker_served_a_run(repo, write)
    try:
        with open(repo / ".wac" / "wac.db", "r+b") as f:
            f.truncate(0)
        with workspace(repo) as ws_unused:  # noqa: F841 — opening must not hang or crash
            pass
    except Exception as exc:  # the new command may refuse the damaged store: that is fine
        assert "store" in str(exc)
    try:
        # a new job is submitted by another command; the old worker must notice and stop
        listing = wac("job", "list", cwd=repo, code=None, timeout=30)
        assert "Traceback" not in listing.stderr
        code, _out, err = finish(proc, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code != 0
    assert "Traceback" not in err, err
    assert err.count("error:") == 1, err
    assert len(err.splitlines()) < 10, err


def test_read_only_repo_without_state_names_the_folder_and_wac_state_dir(tmp_path, write, repo):
    ro = tmp_path / "ro"
    mount_tmpfs(ro, "4m")
    try:
        (ro / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\n")
        (ro / "f" / "a").mkdir(parents=True)
        (ro / "f" / "a" / "s.py").write_text("def main(x: int = 1):\n    return x\n")
        remount(ro, "ro")
        for args in (("script", "preview", "f/a/s.py"), ("job", "list")):
            r = wac(*args, cwd=ro, code=None)
            assert r.code == 5, (args, r.stderr)
            assert str(ro / ".wac") in r.stderr and "WAC_STATE_DIR" in r.stderr, r.stderr
            assert "unexpected" not in r.stderr
        r = wac("generate-metadata", "--yes", cwd=ro, code=None)
        assert r.code != 0 and "unexpected" not in r.stderr, r.stderr
        assert f"cannot write in {ro}" in r.stderr and "read-only" in r.stderr.lower(), r.stderr
        assert "WAC_STATE_DIR" in r.stderr
        # the hint works: state elsewhere, the preview runs
        ok = wac("script", "preview", "f/a/s.py", "-d", '{"x": 3}', cwd=ro,
                 env={"WAC_STATE_DIR": str(tmp_path / "state")})
        assert ok.stdout.strip() == "3"
    finally:
        unmount(ro)
