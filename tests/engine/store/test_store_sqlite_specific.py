"""SQLite-only behaviour: migrations, pragmas, busy handling (not part of the contract)."""

from __future__ import annotations

import sqlite3
from importlib import resources
from pathlib import Path

import pytest

from wac.engine.store import open_store
from wac.engine.store._sqlite_conn import _statements, is_busy


def test_an_old_schema_is_upgraded_in_place_and_keeps_its_jobs(tmp_path: Path) -> None:
    path = tmp_path / "wac.db"
    first = resources.files("wac.engine.store").joinpath("migrations/0001_init.sql").read_text()
    with sqlite3.connect(path) as conn:
        for stmt in _statements(first):
            conn.execute(stmt)
        conn.execute("PRAGMA user_version = 1")
        conn.execute("INSERT INTO bundles VALUES ('b', '{}', 0)")
        conn.execute(
            "INSERT INTO jobs (id, root_id, status, bundle_hash, entry, script_path, name, args,"
            " options, tag, created_at, scheduled_at, secret)"
            " VALUES ('00000000000001', '00000000000001', 'queued', 'b', 'main.py', 'f/x', 'x',"
            " '{}', '{}', 'default', 0, 0, 's')"
        )
    store = open_store(f"sqlite://{path}")
    try:
        assert store.get_job("00000000000001").status == "queued"
        with sqlite3.connect(path) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            cols = {r[1] for r in conn.execute("PRAGMA table_info(jobs)")}
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        latest = max(int(f.name[:4]) for f in resources.files("wac.engine.store").joinpath("migrations").iterdir()
                     if f.name.endswith(".sql"))
        assert version == latest and "round_deadline" in cols and "scripts" in tables
    finally:
        store.close()


def test_upgrading_empties_job_secrets_and_keeps_waiting_approvals_answerable(tmp_path: Path) -> None:
    """Issue 11 item 10: a store made before version 5 kept each job's secret, which derived its
    approval tokens. After the upgrade no secret is left, and the approval that was waiting
    still takes the token it had handed out (its hash was already stored)."""
    import hashlib
    import hmac

    path = tmp_path / "wac.db"
    with sqlite3.connect(path) as conn:
        for n in (1, 2, 3):
            name = next(f for f in ("0001_init.sql", "0002_round_deadline.sql", "0003_scripts.sql")
                        if f.startswith(f"000{n}"))
            for stmt in _statements(resources.files("wac.engine.store").joinpath(f"migrations/{name}").read_text()):
                conn.execute(stmt)
        conn.execute("PRAGMA user_version = 3")
        conn.execute("INSERT INTO bundles VALUES ('b', '{}', 0)")
        secret = "old-job-secret-123456"
        conn.execute(
            "INSERT INTO jobs (id, root_id, status, bundle_hash, entry, script_path, name, args,"
            " options, tag, created_at, scheduled_at, secret, suspended_key)"
            " VALUES ('00000000000001', '00000000000001', 'suspended', 'b', 'main.py', 'f/x', 'x',"
            " '{}', '{}', 'default', 0, 0, ?, 'approval')", (secret,),
        )
        old_token = hmac.new(secret.encode(), b"00000000000001/approval", hashlib.sha256).hexdigest()[:40]
        conn.execute("INSERT INTO steps (job_id, key, seq, kind) VALUES ('00000000000001', 'approval', 1, 'approval')")
        conn.execute("INSERT INTO approvals (job_id, key, token_hash, created_at) VALUES"
                     " ('00000000000001', 'approval', ?, 0)", (hashlib.sha256(old_token.encode()).hexdigest(),))
    store = open_store(f"sqlite://{path}")
    try:
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT secret FROM jobs").fetchall() == [("",)]
            assert conn.execute("SELECT token_hash FROM approvals").fetchall() == [("",)]
            dump = "\n".join(conn.iterdump())
        assert secret not in dump
        store.resume("00000000000001", "approval", hashlib.sha256(old_token.encode()).hexdigest(), True, 1, "ann")
        assert store.get_job("00000000000001").status == "queued"
    finally:
        store.close()


def test_connections_use_wal_normal_sync_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    store = open_store(f"sqlite://{tmp_path / 'wac.db'}")
    try:
        conn = store._pool.get()  # type: ignore[attr-defined]
        assert conn.execute("PRAGMA journal_mode").fetchone()["journal_mode"] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()["synchronous"] == 1  # NORMAL
        assert conn.execute("PRAGMA foreign_keys").fetchone()["foreign_keys"] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()["timeout"] == 30_000
    finally:
        store.close()


@pytest.mark.parametrize("busy_timeout_ms", [30_000, 0])
def test_a_writer_waits_out_a_long_lock_instead_of_reporting_database_locked(
    tmp_path: Path, busy_timeout_ms: int
) -> None:
    """With SQLite's own busy handler, and with only the store's retry loop (timeout 0)."""
    import threading
    import time

    from tests.engine.store.conftest import BUNDLE, spec

    path = tmp_path / "wac.db"
    store = open_store(f"sqlite://{path}")
    store.put_bundle(BUNDLE, {})
    store._pool.get().execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")  # type: ignore[attr-defined]
    blocker = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    blocker.execute("PRAGMA busy_timeout = 0")
    blocker.execute("BEGIN IMMEDIATE")
    threading.Timer(0.4, lambda: blocker.execute("COMMIT")).start()
    t0 = time.monotonic()
    try:
        job_id = store.submit(spec())  # blocks ~0.4 s, then succeeds
        assert time.monotonic() - t0 >= 0.3
        assert store.get_job(job_id).status == "queued"
    finally:
        blocker.close()
        store.close()


def test_busy_errors_are_recognised_and_others_are_not() -> None:
    assert is_busy(sqlite3.OperationalError("database is locked"))
    assert not is_busy(sqlite3.OperationalError("no such table: jobs"))
    assert not is_busy(ValueError("locked"))


def test_migration_scripts_split_into_statements_ignoring_comments() -> None:
    sql = "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nCREATE INDEX i ON a(x);\n-- end\n"
    assert _statements(sql) == [
        "-- a comment; with a semicolon\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "CREATE INDEX i ON a(x);",
    ]


def test_a_store_path_that_cannot_be_opened_is_a_clear_store_error(tmp_path: Path) -> None:
    from wac.engine.store.sqlite import SqliteStore
    from wac.errors import StoreError

    (tmp_path / "a_file").write_text("not a folder")
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite://{tmp_path / 'a_file' / 'wac.db'}")
    assert info.value.hint
    with pytest.raises(StoreError) as info:
        SqliteStore(str(tmp_path / "missing" / "wac.db")).migrate()
    assert "cannot open" in info.value.message and info.value.hint
    (tmp_path / "garbage.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError):
        open_store(f"sqlite://{tmp_path / 'garbage.db'}")


def test_an_idle_wait_for_work_sleeps_through_this_processs_own_commits_that_queue_nothing(tmp_path: Path) -> None:
    """A busy slot's commits move ``PRAGMA data_version`` for an idle slot's connection too; the
    idle slot must not wake (and take the GIL and the store) for each of them when nothing is
    claimable. A commit by another process that queues work still ends the wait at once."""
    import subprocess
    import sys
    import threading
    import time

    from wac.engine.store import ANY_TAG, JobSpec

    db = tmp_path / "wac.db"
    store = open_store(f"sqlite://{db}")
    store.put_bundle("b" * 64, {"main.py": "async def main(): ...\n"})
    job = store.submit(JobSpec("b" * 64, "main.py", {}, "f/x"))
    claim = store.claim("w1", ANY_TAG, 60)
    assert claim is not None and claim.job.id == job
    stop = threading.Event()

    def busy() -> None:  # another thread of this process commits, making no work
        while not stop.is_set():
            store.append_log(job, "x")
            time.sleep(0.002)

    writer = threading.Thread(target=busy)
    writer.start()
    try:
        t0 = time.monotonic()
        store.wait_for_work(ANY_TAG, 0.5)
        assert time.monotonic() - t0 >= 0.45  # it waited out its timeout
    finally:
        stop.set()
        writer.join()
    code = (f"from wac.engine.store import open_store, JobSpec; import time; time.sleep(0.3);"
            f"open_store('sqlite://{db}').submit(JobSpec('{'b' * 64}', 'main.py', {{}}, 'f/y'))")
    other = subprocess.Popen([sys.executable, "-c", code])
    try:
        t0 = time.monotonic()
        store.wait_for_work(ANY_TAG, 60.0)
        assert time.monotonic() - t0 < 50  # woken by the other process's commit, not the timeout
    finally:
        other.wait(60)
        store.close()


def test_a_parked_parents_partial_claim_reads_its_new_steps_through_an_index(tmp_path: Path) -> None:
    """``seq > ?`` on one job's steps is a range of the ``steps_by_seq`` index (migration 0009),
    not a walk over every step of a long run: a sequential task costs the same at the 1,000th
    call as at the 10th (issue 17)."""
    from wac.engine.store._sqlite_rows import STEP_COLUMNS

    db = tmp_path / "wac.db"
    open_store(f"sqlite://{db}").close()
    with sqlite3.connect(db) as conn:
        plan = conn.execute(
            f"EXPLAIN QUERY PLAN SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? AND done = 1 AND seq > ?"
            " ORDER BY seq", ("j", 5)).fetchall()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "steps_by_seq" in detail and "seq>?" in detail.replace(" ", ""), detail


def test_an_idle_wait_polls_at_its_slowest_once_nothing_has_happened_for_a_while(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An idle worker's poll of ``PRAGMA data_version`` backs off to ``poll_max``, then, once
    nothing has happened for ``QUIET_S``, to ``poll_quiet`` (issue 17: an idle worker's CPU)."""
    from wac.engine.store import ANY_TAG, _sqlite_reads
    from wac.engine.store.sqlite import SqliteStore

    monkeypatch.setattr(_sqlite_reads, "QUIET_S", 0.2)
    store = SqliteStore(str(tmp_path / "wac.db"), poll_interval=0.001, poll_max=0.01, poll_quiet=0.25)
    store.migrate()
    polls = []
    real = store._data_version
    monkeypatch.setattr(store, "_data_version", lambda: polls.append(1) or real())
    try:
        store.wait_for_work(ANY_TAG, 0.2)  # the first 0.2 s: backing off to every 10 ms
        busy = len(polls)
        polls.clear()
        store.wait_for_work(ANY_TAG, 1.0)  # quiet since: backing off on to every 250 ms
        # at 10 ms a second of waiting would be ~100 polls; ramping up ×1.5 to 250 ms, about 12
        assert busy >= 8 and len(polls) <= 20, (busy, len(polls))
    finally:
        store.close()
