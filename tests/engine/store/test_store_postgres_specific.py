"""PostgreSQL-only behaviour: schema parity with SQLite, the server's clock, migrations under
concurrency, SKIP LOCKED claims from many processes' connections, a server restart mid-use."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from tests import pg_server
from tests.engine.store.conftest import BUNDLE, spec
from wac.engine.store import ANY_TAG, open_store
from wac.engine.store._pg_conn import safe_url
from wac.engine.store._pg_migrate import _migration_files
from wac.engine.store._pg_sql import translate
from wac.engine.store.postgres import PostgresStore


@pytest.fixture
def server() -> pg_server.PgServer:
    found = pg_server.server()
    if found is None:
        if os.environ.get("WAC_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL binaries are missing in CI (.ci/run installs them)")
        pytest.skip("no PostgreSQL here")
    return found


def _pg_columns(url: str) -> dict[str, set[str]]:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name <> 'wac_schema'").fetchall()
    out: dict[str, set[str]] = {}
    for table, column in rows:
        out.setdefault(table, set()).add(column)
    return out


def test_the_postgresql_schema_has_every_table_and_column_of_the_sqlite_one(
    server: pg_server.PgServer, tmp_path: Path,
) -> None:
    open_store(f"sqlite://{tmp_path}/wac.db").close()
    with sqlite3.connect(tmp_path / "wac.db") as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        lite = {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
    url = server.fresh_url()
    open_store(url).close()
    pg = _pg_columns(url)
    assert pg.pop("secret_key") == {"id", "key"}  # PostgreSQL only: the workspace's own key
    assert pg == lite


def test_racing_migrations_from_many_processes_make_one_schema(server: pg_server.PgServer) -> None:
    url = server.fresh_url()
    errors: list[BaseException] = []

    def go() -> None:
        try:
            open_store(url).close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    import psycopg

    with psycopg.connect(url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM wac_schema ORDER BY version")]
    assert versions == [v for v, _name, _sql in _migration_files()]  # each migration applied once


def test_a_worker_whose_own_clock_is_an_hour_off_parks_a_3s_sleep_for_3s_and_keeps_live_leases(
    server: pg_server.PgServer, monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = server.fresh_url()
    honest = open_store(url)
    honest.put_bundle(BUNDLE, {"main.py": ""})
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3600)  # this process's clock is off
    skewed = PostgresStore(url)
    try:
        job_id = skewed.submit(spec())
        c = skewed.claim("w-skewed", ANY_TAG, 30)
        assert c is not None and c.job.id == job_id
        assert abs(skewed.now() - real_time()) < 60  # the store clock is the server's
        skewed.sleep(c.token, "nap", skewed.now() + 3)
        due = honest.next_due(ANY_TAG)
        assert due is not None and 2 < due - honest.now() < 4
        # A live lease taken by the skewed process is not reaped by an honest one.
        job2 = honest.submit(spec())
        c2 = skewed.claim("w-skewed", ANY_TAG, 30)
        assert c2 is not None and c2.job.id == job2
        assert honest.reap() == 0 and skewed.holds(c2.token)
    finally:
        skewed.close()
        honest.close()


def test_claims_from_many_connections_at_once_take_each_job_exactly_once(server: pg_server.PgServer) -> None:
    url = server.fresh_url()
    setup = open_store(url)
    setup.put_bundle(BUNDLE, {"main.py": ""})
    ids = {setup.submit(spec(args={"i": i})) for i in range(60)}
    taken: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        store = PostgresStore(url)
        try:
            while (c := store.claim(f"w{n}", ANY_TAG, 30)) is not None:
                with lock:
                    taken.append(c.job.id)
                store.complete(c.token, n)
        finally:
            store.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert sorted(taken) == sorted(ids)
    assert all(setup.get_job(i).status == "succeeded" for i in ids)
    setup.close()


def test_a_server_restarted_mid_use_is_reconnected_with_one_line_per_outage(
    server: pg_server.PgServer, capfd: pytest.CaptureFixture[str],
) -> None:
    if server.pg_ctl is None:
        pytest.skip("the server is not ours to restart (WAC_TEST_POSTGRES_URL)")
    url = server.fresh_url()
    store = open_store(url)
    store.put_bundle(BUNDLE, {"main.py": ""})
    before = store.submit(spec())
    server.restart_immediate()
    after = store.submit(spec())  # the pool's old connections are dead: retried, not failed
    assert store.get_job(before).status == "queued" and store.get_job(after).status == "queued"
    err = capfd.readouterr().err
    assert err.count("lost PostgreSQL") <= 1 and pg_server.PASSWORD not in err
    store.close()


def test_the_store_sql_is_translated_once_and_a_password_never_shows() -> None:
    assert translate("SELECT ? WHERE a = :now AND b LIKE '5%'") == "SELECT %s WHERE a = %(now)s AND b LIKE '5%%'"
    assert translate("INSERT INTO concurrency_slots (window) VALUES (?)") == \
        'INSERT INTO concurrency_slots ("window") VALUES (%s)'
    assert safe_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    assert safe_url("postgresql://u@h/db") == "postgresql://u@h/db"


def test_a_postgresql_row_is_read_by_column_name_and_refuses_a_position(server: pg_server.PgServer) -> None:
    store = PostgresStore(server.fresh_url())
    store.migrate()
    row = store._pool.read(lambda c: c.execute("SELECT 1 AS one, 'x' AS two").fetchone())
    assert (row["one"], row["two"], list(row), row.keys()) == (1, "x", [1, "x"], ["one", "two"])
    with pytest.raises(TypeError, match="by column name"):
        row[0]
    with pytest.raises(KeyError, match="no column 'three'"):
        row["three"]
    store.close()


@pytest.mark.slow  # waits out the server's 5 s idle-in-transaction timeout
def test_a_client_frozen_inside_a_write_blocks_other_writers_only_until_the_server_ends_its_transaction(
    server: pg_server.PgServer,
) -> None:
    """A worker stopped (SIGSTOP) or cut off in the middle of a write transaction holds the
    store's write lock; the server ends the idle transaction after IDLE_IN_TRANSACTION_S, the
    other writers go on, and the frozen operation is retried whole when its client comes back."""
    from wac.engine.store._pg_conn import IDLE_IN_TRANSACTION_S

    url = server.fresh_url()
    frozen, other = PostgresStore(url), PostgresStore(url)
    frozen.migrate()
    frozen.put_bundle(BUNDLE, {"main.py": ""})
    thaw, inside = threading.Event(), threading.Event()
    calls: list[int] = []

    def stalled_write(conn: object) -> None:
        calls.append(1)
        conn.execute("INSERT INTO settings (name, value) VALUES ('frozen', 'x')"  # type: ignore[attr-defined]
                     " ON CONFLICT (name) DO UPDATE SET value = excluded.value")
        inside.set()
        thaw.wait(120)  # the client is "stopped" here, idle inside its transaction

    t = threading.Thread(target=lambda: frozen._pool.write(stalled_write))
    t.start()
    assert inside.wait(30)
    t0 = time.monotonic()
    job_id = other.submit(spec())  # waits on the write lock until the server ends the idle one
    waited = time.monotonic() - t0
    assert not thaw.is_set() and other.get_job(job_id).status == "queued"
    assert waited >= IDLE_IN_TRANSACTION_S * 0.5
    thaw.set()
    t.join(60)
    assert len(calls) == 2  # the ended transaction was retried whole
    assert other.get_setting("frozen") == "x"
    frozen.close()
    other.close()


class CommitCutter:
    """A TCP proxy in front of the server that can break the line around one COMMIT: after the
    server committed, before its reply reaches the client ("reply"), or before the server even
    sees the COMMIT ("request")."""

    REPLY = b"C\x00\x00\x00\x0bCOMMIT\x00"  # CommandComplete "COMMIT"
    REQUEST = b"COMMIT\x00"  # the Query message's text

    def __init__(self, port: int) -> None:
        import socket

        self.target = port
        self.cut: str | None = None
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket

        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            threading.Thread(target=self._pump, args=(client, upstream, "request"), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, "reply"), daemon=True).start()

    def _pump(self, src: object, dst: object, direction: str) -> None:
        import contextlib

        marker = self.REQUEST if direction == "request" else self.REPLY
        try:
            while data := src.recv(65536):  # type: ignore[attr-defined]
                if self.cut == direction and marker in data:
                    self.cut = None
                    self.cuts += 1
                    break
                dst.sendall(data)  # type: ignore[attr-defined]
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(2)  # type: ignore[attr-defined]
                s.close()  # type: ignore[attr-defined]


@pytest.mark.parametrize("where", ["reply", "request"])
def test_a_commit_whose_line_breaks_is_looked_up_and_applied_exactly_once(
    server: pg_server.PgServer, where: str, capfd: pytest.CaptureFixture[str],
) -> None:
    """The connection drops with COMMIT on its way: after the server committed (the reply is
    lost) or before it got there. The store asks the server whether that transaction committed
    (pg_xact_status) instead of retrying blindly: the submit lands exactly once either way."""
    from urllib.parse import urlsplit

    url = server.fresh_url()
    parts = urlsplit(url)
    cutter = CommitCutter(parts.port or 5432)
    via = parts._replace(netloc=parts.netloc.replace(f":{parts.port}", f":{cutter.port}")).geturl()
    store = PostgresStore(via)
    store.migrate()
    store.put_bundle(BUNDLE, {"main.py": ""})
    cutter.cut = where
    job_id = store.submit(spec())
    assert cutter.cuts == 1
    assert [j.id for j in store.list_jobs()] == [job_id]
    assert store.get_job(job_id).status == "queued"
    err = capfd.readouterr().err
    assert err.count("lost PostgreSQL") == 1 and "is back" in err
    store.close()
    cutter.sock.close()
