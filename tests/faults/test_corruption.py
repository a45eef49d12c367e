"""Issue 11 item 3: a damaged store is one clear error (exit 5), never a success; `wac store
check`, `backup` and `recover` are the way out."""

from __future__ import annotations

import os
import random
import sqlite3

import pytest

from tests.clirun import wac
from tests.faults.helpers import finish, start_wac

pytestmark = pytest.mark.slow

QUICK = """
    from wac import step, workflow

    @workflow
    async def main(n: int = 1):
        return await step("s", lambda: n + 1)
"""


def _damage(db) -> None:
    """8 KiB of random bytes at offset 4096, after the write-ahead log went into the file."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    conn.close()
    with open(db, "r+b") as f:
        f.seek(4096)
        f.write(random.Random(7).randbytes(8192))
        f.flush()
        os.fsync(f.fileno())


def test_a_damaged_store_is_an_error_never_a_success_and_recover_brings_it_back(repo, write):
    write("f/q/quick.py", QUICK)
    db = repo / ".wac" / "wac.db"
    assert wac("script", "preview", "f/q/quick.py", cwd=repo).stdout.strip() == "2"
    backup = wac("store", "backup", cwd=repo)
    saved = backup.stdout.strip()
    assert saved.endswith(".db") and os.path.exists(saved)
    assert wac("store", "check", cwd=repo).stdout.strip() == "ok"

    worker = start_wac(repo, "worker", "-c", "2", "--lease", "2")
    try:
        _damage(db)
        r = wac("script", "preview", "f/q/quick.py", "-d", '{"n": 5}', cwd=repo, code=None)
        assert r.code == 5, (r.code, r.stdout, r.stderr)
        assert "damaged" in r.stderr and "wac store check" in r.stderr and "Traceback" not in r.stderr
        assert r.stdout == ""
        code, _out, err = finish(worker, 60) if worker.poll() is not None else (None, "", "")
        if code is not None:  # the worker noticed too: one error, exit 5
            assert code == 5 and err.count("error:") == 1, err
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()

    check = wac("store", "check", cwd=repo, code=5)
    assert check.stdout.strip() and "wac store recover" in check.stderr
    assert wac("job", "list", cwd=repo, code=5).stderr.startswith("error: ")

    restored = wac("store", "recover", "--from", saved, cwd=repo)
    assert "the old store is kept at" in restored.stderr
    assert wac("store", "check", cwd=repo).stdout.strip() == "ok"
    assert len(wac("job", "list", "--json", cwd=repo).json()) == 1  # the run from before the backup
    assert wac("script", "preview", "f/q/quick.py", "-d", '{"n": 5}', cwd=repo).stdout.strip() == "6"


def test_recover_without_a_backup_salvages_what_is_readable(repo, write):
    write("f/q/quick.py", QUICK)
    for n in range(3):
        wac("script", "preview", "f/q/quick.py", "-d", f'{{"n": {n}}}', cwd=repo)
    db = repo / ".wac" / "wac.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    (root,) = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'logs'").fetchone()
    conn.close()
    with open(db, "r+b") as f:  # damage one table the jobs do not need
        f.seek((root - 1) * 4096)
        f.write(b"\xff" * 4096)
    assert wac("store", "check", cwd=repo, code=5)
    r = wac("store", "recover", cwd=repo)
    assert "recovered" in r.stderr and "jobs" in r.stderr
    assert wac("store", "check", cwd=repo).stdout.strip() == "ok"
    assert len(wac("job", "list", "--json", cwd=repo).json()) == 3
    assert list(repo.joinpath(".wac").glob("wac.db.damaged-*"))
