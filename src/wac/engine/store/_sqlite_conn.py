"""SQLite plumbing for :mod:`wac.engine.store.sqlite`: connections, write transactions, migrations.

One connection per thread (and per process: a forked child opens its own). Writers take the
write lock up front with ``BEGIN IMMEDIATE`` so a transaction never has to upgrade a read lock;
SQLITE_BUSY is retried here, so "database is locked" never reaches a user.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from importlib import resources
from typing import TypeVar

from wac.errors import StoreCorruptError, StoreError, StoreGoneError
from wac.project.textio import disk_full as disk_full  # also imported from here by engine/worker.py

T = TypeVar("T")

BUSY_TIMEOUT_MS = 30_000
#: How long a writer keeps retrying a busy database before giving up with a StoreError.
RETRY_BUDGET_S = 300.0
_BUSY_CODES = {5, 6, 261, 517}  # SQLITE_BUSY, SQLITE_LOCKED, BUSY_RECOVERY, BUSY_SNAPSHOT


def is_busy(exc: BaseException) -> bool:
    """True for the transient "database is locked/busy" errors worth retrying."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code in _BUSY_CODES:
        return True
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class Waker:
    """In-process wake-ups for one database file, shared by every store opened on it.

    ``work`` counts commits that can make a job runnable; ``change`` counts every commit.
    Other processes are seen through ``PRAGMA data_version`` instead (G5: hints only).
    """

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.work = 0
        self.change = 0

    def notify(self, work: bool) -> None:
        with self.cond:
            self.change += 1
            if work:
                self.work += 1
            self.cond.notify_all()


_WAKERS: dict[str, Waker] = {}
_WAKERS_LOCK = threading.Lock()


def waker_for(path: str) -> Waker:
    with _WAKERS_LOCK:
        return _WAKERS.setdefault(path, Waker())


_NOW_SQL = "SELECT (julianday('now') - 2440587.5) * 86400.0 AS now"
#: Rows the store reads by column name (see :mod:`._sqlite_rows`); tests swap in rows that refuse
#: positions, to prove no code reads one by position.
ROW_FACTORY: type[sqlite3.Row] = sqlite3.Row


class ConnectionPool:
    """The SQLite dialect (see :mod:`._dialect`): thread-local connections to one database file,
    with a retrying write transaction.

    SQLite has one writer at a time (``BEGIN IMMEDIATE``), so a claim needs no row locks; its
    clock is ``julianday('now')`` (the OS clock of the host that holds the file, which every
    process on that host shares); other processes' commits show in ``PRAGMA data_version``.
    """

    skip_locked = ""

    def __init__(self, path: str, *, create: bool = True) -> None:
        self.path = path
        self.create = create  # False: the file must exist (a round process never creates a store)
        self._local = threading.local()
        self._all: list[tuple[int, sqlite3.Connection]] = []
        self._lock = threading.Lock()
        self._closed = False
        self._identity: tuple[int, int] | None = None  # (st_dev, st_ino) of the file first opened

    def check_identity(self) -> None:
        """Raise StoreGoneError when the file at ``path`` is no longer the one this pool opened.

        A store deleted (or replaced) under a live process would otherwise split silently: the
        process goes on in the unlinked file while every new command creates a fresh one.
        """
        if self._identity is None:
            return
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise StoreGoneError(f"the store {self.path} was deleted while this process was using it") from None
        except OSError:
            return  # cannot tell (e.g. a transient EIO): SQLite's own errors still surface
        if (st.st_dev, st.st_ino) != self._identity:
            raise StoreGoneError(f"the store {self.path} was replaced by another file while this process was using it")
        if st.st_size == 0:
            raise StoreCorruptError(f"the store {self.path} was truncated to 0 bytes while this process was using it")

    def _refuse_truncated(self) -> None:
        """A 0-byte store next to a non-empty write-ahead log was truncated under its users: SQLite
        would take it for a new empty store (and wait on the live users' locks to convert it)."""
        try:
            size = os.stat(self.path).st_size
            wal = os.stat(self.path + "-wal").st_size
        except OSError:
            return
        if size == 0 and wal > 0:
            raise StoreCorruptError(f"the store {self.path} is empty but its write-ahead log is not: "
                                    "the file was truncated")

    def get(self) -> sqlite3.Connection:
        pid = os.getpid()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == pid:
            return conn
        if self._closed:
            raise StoreError("the store is closed")
        conn = self._connect()
        self._local.conn = conn
        self._local.pid = pid
        with self._lock:
            self._all.append((pid, conn))
        return conn

    def _connect(self) -> sqlite3.Connection:
        self.check_identity()
        self._refuse_truncated()
        try:
            conn = sqlite3.connect(
                self.path if self.create else f"file:{self.path}?mode=rw",
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
                uri=not self.create,
            )
        except sqlite3.Error as exc:
            if not self.create and not os.path.exists(self.path):
                raise StoreGoneError(f"the store {self.path} was deleted while this process was using it") from exc
            raise StoreError(
                f"cannot open the store at {self.path}: {exc}",
                hint="check that the directory exists and is writable (WAC_STATE_DIR moves wac's state folder)",
            ) from exc
        conn.row_factory = ROW_FACTORY
        pragmas = (
            f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",
            "PRAGMA foreign_keys=ON",
        )
        for pragma in pragmas:
            self._retry(functools.partial(_run_pragma, conn, pragma))
        try:
            st = os.stat(self.path)
        except OSError:
            return conn
        if self._identity is None:
            self._identity = (st.st_dev, st.st_ino)
        return conn

    def _retry(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` until it stops failing with a busy error (bounded by RETRY_BUDGET_S)."""
        give_up = time.monotonic() + RETRY_BUDGET_S
        delay = 0.0005
        while True:
            try:
                return fn()
            except sqlite3.Error as exc:
                if not is_busy(exc) or time.monotonic() > give_up:
                    raise _store_error(exc, self.path) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.05)

    @contextlib.contextmanager
    def batch(self) -> Iterator[bool]:
        """This thread's writes inside run in one ``BEGIN IMMEDIATE`` transaction, committed when
        the block ends (rolled back whole if it raises); each write is a savepoint in it, so a
        write that raises undoes only itself. Yields False inside a batch already (the outer one
        commits)."""
        if getattr(self._local, "batch", False):
            yield False
            return
        conn = self.get()
        self.check_identity()
        self._retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        self._local.batch = True
        self._local.now = None  # read once per batch, like a PostgreSQL transaction's clock
        try:
            yield True
        except BaseException:
            self._local.batch = False
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise
        self._local.batch = False
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            raise _store_error(exc, self.path) from exc

    def _in_batch(self, conn: sqlite3.Connection, fn: Callable[[sqlite3.Connection], T]) -> T:
        """One write of a :meth:`batch`: a savepoint, undone alone if ``fn`` raises."""
        try:
            conn.execute("SAVEPOINT w")
            try:
                out = fn(conn)
            except BaseException:
                conn.execute("ROLLBACK TO w")
                conn.execute("RELEASE w")
                raise
            conn.execute("RELEASE w")
            return out
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc

    def write(self, fn: Callable[[sqlite3.Connection], T], *, work: bool = True) -> T:
        """Run ``fn(conn)`` in one ``BEGIN IMMEDIATE`` transaction (G1), retrying on busy."""
        conn = self.get()
        if getattr(self._local, "batch", False):
            return self._in_batch(conn, fn)
        self.check_identity()
        give_up = time.monotonic() + RETRY_BUDGET_S
        delay = 0.0005
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    out = fn(conn)
                    conn.execute("COMMIT")
                    return out
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:
                if not is_busy(exc) or time.monotonic() > give_up:
                    raise _store_error(exc, self.path) from exc
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.05)

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``fn(conn)`` in one read transaction (a consistent snapshot)."""
        conn = self.get()
        if getattr(self._local, "batch", False):  # inside a batch: its transaction is the snapshot
            try:
                return fn(conn)
            except sqlite3.Error as exc:
                raise _store_error(exc, self.path) from exc
        self.check_identity()

        def run() -> T:
            conn.execute("BEGIN")
            try:
                return fn(conn)
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

        try:
            return self._retry(run)
        except sqlite3.Error as exc:
            raise _store_error(exc, self.path) from exc

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def peek(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """One statement in autocommit mode (no transaction, no write lock)."""
        conn = self.get()
        return self._retry(lambda: fn(conn))

    def now(self) -> float:
        """SQLite's ``julianday('now')`` in seconds since the epoch (millisecond steps); inside a
        :meth:`batch`, its first reading (one instant per transaction)."""
        conn = self.get()
        if getattr(self._local, "batch", False):
            at: float | None = self._local.now
            if at is None:
                at = self._local.now = float(self._retry(lambda: conn.execute(_NOW_SQL).fetchone()["now"]))
            return at
        return float(self._retry(lambda: conn.execute(_NOW_SQL).fetchone()["now"]))

    def data_version(self) -> int:
        conn = self.get()
        return int(self._retry(lambda: conn.execute("PRAGMA data_version").fetchone()["data_version"]))

    def migrate(self) -> int:
        return migrate(self)

    def end_thread(self) -> None:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        pid = os.getpid()
        if conn is None or getattr(self._local, "pid", None) != pid:
            return
        self._local.conn = None
        with self._lock:
            self._all = [entry for entry in self._all if entry[1] is not conn]
        conn.close()

    def close(self) -> None:
        self._closed = True
        pid = os.getpid()
        with self._lock:
            conns, self._all = self._all, []
        for owner, conn in conns:
            if owner == pid:
                conn.close()
        self._local = threading.local()


def _run_pragma(conn: sqlite3.Connection, pragma: str) -> None:
    conn.execute(pragma).fetchall()


_CORRUPT, _FULL, _NOTADB, _READONLY, _IOERR = 11, 13, 26, 8, 10
_READONLY_DBMOVED = 1032


def _no_space(path: str) -> bool:
    try:
        st = os.statvfs(os.path.dirname(path))
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < 256 * 1024


def _store_error(exc: sqlite3.Error, path: str) -> StoreError:
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    if is_busy(exc):
        return StoreError(
            f"the store at {path} stayed locked for {RETRY_BUDGET_S:.0f} s",
            hint="another process holds a long write transaction; stop it and retry",
        )
    if primary == _FULL or "disk is full" in text or (primary == _IOERR and _no_space(path)):
        return disk_full(path)  # SQLite reports ENOSPC in WAL/shm writes as a plain I/O error
    if primary == _IOERR and not os.path.exists(path):
        return StoreGoneError(f"the store {path} was deleted while this process was using it")
    if code == _READONLY_DBMOVED:
        return StoreGoneError(f"the store {path} was moved or deleted while this process was using it")
    if primary == _NOTADB or "not a database" in text:
        return StoreCorruptError(f"{path} is not a wac store, or it is damaged ({text})")
    if primary == _CORRUPT or "malformed" in text:
        return StoreCorruptError(f"the store {path} is damaged ({text})")
    if primary == _READONLY:
        return StoreError(f"the store {path} cannot be written ({text})",
                          hint="make its folder writable, or set WAC_STATE_DIR to a writable folder")
    return StoreError(f"store error ({path}): {exc}")


def _migration_files() -> list[tuple[int, str, str]]:
    """``(version, name, sql)`` of every numbered migration shipped as package data, in order."""
    out = []
    folder = resources.files("wac.engine.store").joinpath("migrations")
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, item.read_text(encoding="utf-8")))
    return sorted(out)


def _statements(sql: str) -> list[str]:
    """Split a script into complete statements (executescript would commit implicitly)."""
    out, buf = [], ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip() and not all(ln.strip().startswith("--") for ln in buf.strip().splitlines()):
        raise StoreError("a migration ends with an incomplete SQL statement")
    return out


def migrate(pool: ConnectionPool) -> int:
    """Apply every migration newer than ``PRAGMA user_version``, one transaction each.

    Idempotent and safe to race from many processes: the version is re-read under the write lock.
    Returns the schema version.
    """
    files = _migration_files()
    latest = files[-1][0] if files else 0
    conn = pool.get()
    current = int(pool._retry(lambda: conn.execute("PRAGMA user_version").fetchone()["user_version"]))
    if current > latest:
        raise StoreError(
            f"the store at {pool.path} has schema version {current}, newer than this wac ({latest})",
            hint="upgrade wac",
        )
    for version, name, sql in files:
        if version <= current:
            continue

        def apply(c: sqlite3.Connection, version: int = version, sql: str = sql) -> None:
            if int(c.execute("PRAGMA user_version").fetchone()["user_version"]) >= version:
                return
            for stmt in _statements(sql):
                c.execute(stmt)
            c.execute(f"PRAGMA user_version = {version:d}")

        try:
            pool.write(apply)
        except StoreError as exc:
            raise StoreError(f"migration {name} failed: {exc.message}") from exc
    return latest
