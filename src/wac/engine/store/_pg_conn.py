"""The PostgreSQL dialect (see :mod:`._dialect`): psycopg 3 connections, transactions, the
database clock, ``LISTEN/NOTIFY`` wake-ups and numbered migrations under an advisory lock.

- Every operation is one transaction at READ COMMITTED. A write transaction first takes the
  store's transaction-scoped advisory lock, so the store's rules (written once, for one writer at
  a time) hold unchanged; reads take no lock. A claim's candidate query ends with
  ``FOR UPDATE SKIP LOCKED``.
- The clock is the server's (``clock_timestamp()``), read in the same connection as the
  transaction that uses it: every deadline compares against one clock whatever the workers'.
- Each write transaction ends with ``NOTIFY`` on the store's channel (delivered at commit); a
  listener thread per process turns notifications into wake-ups. Waits also re-read the store at
  least every :data:`SAFETY_POLL_S` (G5: notifications are hints).
- Lost connections (a server restart) are retried with backoff for :data:`RETRY_BUDGET_S`,
  with one line on stderr per outage.
- A transaction left idle by a frozen client is ended by the server after
  :data:`IDLE_IN_TRANSACTION_S`, so a stopped worker cannot hold the write lock for longer.

SQL translation and rows are in :mod:`._pg_sql`, migrations in :mod:`._pg_migrate`. psycopg is
imported in these modules only, so ``import wac`` stays light.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar
from urllib.parse import urlsplit

from wac.engine.store._pg_sql import PgConn
from wac.engine.store._sqlite_conn import waker_for
from wac.errors import AuthError, NetworkError, StoreError

T = TypeVar("T")

#: Waits re-read the store at least this often even without a notification (G5).
SAFETY_POLL_S = 1.0
#: How long an operation keeps retrying a lost server before giving up.
RETRY_BUDGET_S = 300.0
#: A transaction idle this long is ended by the server: a client frozen inside a write (SIGSTOP,
#: a partition) holds the store's write lock, and every other writer waits on it, at most this
#: long. An operation never idles in its transaction (its statements run back to back); one
#: ended this way is retried whole when its client comes back.
IDLE_IN_TRANSACTION_S = 5.0
_LOCK_SPACE = 0x7761_6300  # "wac\0": advisory lock keys of wac, per schema


def safe_url(url: str) -> str:
    """``url`` without its password (for messages; a password is never printed)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def host_of(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{host}:{parts.port or 5432}"


# ---------------------------------------------------------------------------- errors
def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # a dependency of wac: missing in a script's environment of another Python
        from wac.owndeps import MISMATCH_VAR, missing

        if os.environ.get(MISMATCH_VAR):
            message, hint = missing("psycopg", exc)
            raise StoreError(f"PostgreSQL stores need psycopg: {message}; {hint}", hint=hint) from exc
        raise StoreError("PostgreSQL stores need psycopg", hint="pip install 'psycopg[binary]' psycopg-pool") from exc
    return psycopg


def connect_error(exc: BaseException, url: str) -> StoreError | NetworkError | AuthError:
    """The one error for a connection that could not be made."""
    state = getattr(exc, "sqlstate", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    where = host_of(url)
    if state in ("28P01", "28000") or "password authentication failed" in text or "no password supplied" in text:
        return AuthError(
            f"PostgreSQL at {where} refused the login: {text}",
            hint="check the user and password (in the URL, PGPASSWORD or ~/.pgpass)",
        )
    if state == "3D000" or "does not exist" in text:
        return StoreError(f"PostgreSQL at {where}: {text}",
                          hint="create the database first (createdb), or fix the URL's database name")
    return NetworkError(
        f"cannot reach PostgreSQL at {where}: {text}",
        hint="check that the server runs and accepts TCP connections from this machine",
    )


def _transient(exc: BaseException) -> bool:
    """A lost connection or a server going down/up: worth retrying the whole transaction."""
    psycopg = _psycopg()
    if isinstance(exc, psycopg.OperationalError):
        return True
    state = getattr(exc, "sqlstate", None) or ""
    # 25P03: the server ended a transaction this client left idle too long (it was frozen).
    return state.startswith(("08", "57P", "40")) or state == "25P03"


def _configure(raw: Any) -> None:
    """Every pooled connection: the server ends a transaction its client leaves idle for
    :data:`IDLE_IN_TRANSACTION_S` (a frozen or cut-off worker), releasing the store's write lock."""
    raw.execute(f"SET idle_in_transaction_session_timeout = '{IDLE_IN_TRANSACTION_S:g}s'")


# ---------------------------------------------------------------------------- the dialect
class PgPool:
    """The PostgreSQL dialect: a psycopg_pool of connections to one database (and schema)."""

    skip_locked = " FOR UPDATE OF j SKIP LOCKED"
    #: Measurement knobs (bench/store_engine_bench.py), never turned off in use: a write takes
    #: the store's write lock, and ends with NOTIFY.
    write_lock = True
    notify_on_write = True

    def __init__(self, url: str, *, max_size: int = 8) -> None:
        self._url = url
        self._max = max_size
        self._local = threading.local()
        self._pool: Any = None
        self._pid = 0
        self._lock = threading.RLock()
        self._closed = False
        self.waker = waker_for(url)
        self._notified = 0
        self._listener: threading.Thread | None = None
        self._schema = ""
        self._channel = ""
        self._write_key = 0
        self._outage = False

    # -------------------------------------------------------------- connections
    @property
    def url(self) -> str:
        return self._url

    def connect_raw(self, **kwargs: Any) -> Any:
        """One connection of its own (not pooled), errors translated."""
        psycopg = _psycopg()
        try:
            return psycopg.connect(self._url, connect_timeout=10, **kwargs)
        except psycopg.Error as exc:
            raise connect_error(exc, self._url) from exc

    def _ensure(self) -> Any:
        if self._closed:
            raise StoreError("the store is closed")
        if self._pool is not None and self._pid == os.getpid():
            return self._pool
        with self._lock:
            if self._pool is not None and self._pid == os.getpid():
                return self._pool
            conn = self.connect_raw(autocommit=True)  # a clear error now, not a pool timeout
            try:
                schema = conn.execute("SELECT current_schema()").fetchone()[0] or "public"
            finally:
                conn.close()
            self._schema = schema
            self._channel = "wac_" + re.sub(r"\W", "_", schema)
            self._write_key = _LOCK_SPACE + zlib.crc32(schema.encode())
            from psycopg_pool import ConnectionPool as Pool

            self._pool = Pool(self._url, min_size=1, max_size=self._max, open=True,
                              kwargs={"connect_timeout": 10, "autocommit": True}, check=Pool.check_connection,
                              configure=_configure, name="wac-store")
            self._pid = os.getpid()
            self._listener = None
            return self._pool

    def _run(self, fn: Callable[[Any], T], *, write: bool, work: bool = True) -> T:
        """``fn(PgConn)`` in one transaction (a write) or in autocommit (a read: at READ COMMITTED
        each statement sees its own snapshot either way), retried as a whole while the server is
        away. A write whose COMMIT reply is lost is looked up, not retried blindly (:meth:`_settle`)."""
        psycopg = _psycopg()
        give_up = time.monotonic() + RETRY_BUDGET_S
        delay = 0.05
        nested = getattr(self._local, "conn", None)
        if nested is not None:  # an operation inside an operation (now() in a txn): same txn
            return fn(nested)
        while True:
            pool = self._ensure()
            try:
                try:
                    with pool.connection(timeout=30) as raw:
                        out = self._once(raw, fn, write, work)
                except _CommitUnknown as unknown:
                    if not self._settle(unknown, give_up):
                        raise unknown.cause from None  # it did not commit: retried whole below
                    out = unknown.out
                if write:
                    self.waker.notify(work=False)
                if self._outage:
                    self._outage = False
                    print(f"wac: PostgreSQL at {host_of(self._url)} is back", file=sys.stderr)
                return out
            except psycopg.Error as exc:
                if not _transient(exc) or time.monotonic() > give_up:
                    raise _store_error(exc, self._url) from exc
                self._lost(exc)
            except Exception as exc:
                if type(exc).__name__ in ("PoolTimeout", "PoolClosed") and time.monotonic() <= give_up:
                    self._lost(None)
                else:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def _lost(self, exc: BaseException | None) -> None:
        """One stderr line when the server goes away (not one per retry)."""
        if self._outage or (exc is not None and not isinstance(exc, _psycopg().OperationalError)):
            return
        self._outage = True
        why = f"lost PostgreSQL at {host_of(self._url)} ({_first_line(exc)})" if exc is not None \
            else f"cannot reach PostgreSQL at {host_of(self._url)}"
        print(f"wac: {why}; retrying", file=sys.stderr)

    def _once(self, raw: Any, fn: Callable[[Any], T], write: bool, work: bool = True) -> T:
        """One attempt. A write opens its transaction, takes the store's write lock, queues its
        NOTIFY (sent at commit), and reads its transaction id and the clock, in one round trip;
        then ``fn``'s statements; then COMMIT."""
        conn = PgConn(raw)
        self._local.conn = conn
        try:
            if not write:
                return fn(conn)
            head = ["BEGIN ISOLATION LEVEL READ COMMITTED"]
            if self.write_lock:
                head.append(f"SELECT pg_advisory_xact_lock({self._write_key:d})")
            # Only a commit that may make work runnable notifies (a heartbeat, a claim, a step or a
            # log line does not: each notification wakes a backend and a listener in every
            # process); waits on other changes see them at the safety poll (G5). The payload
            # says who: a process ignores its own.
            if self.notify_on_write and work:
                head.append(f"NOTIFY {self._channel}, '{os.getpid()} 1'")
            head.append("SELECT pg_current_xact_id()::text, extract(epoch from clock_timestamp())::float8")
            cur = raw.execute("; ".join(head))
            while cur.nextset():
                pass
            xid, self._local.now = cur.fetchone()
            try:
                out = fn(conn)
            except BaseException:
                with contextlib.suppress(Exception):
                    raw.execute("ROLLBACK")
                raise
            try:
                raw.execute("COMMIT")
            except _psycopg().OperationalError as exc:  # did the server commit before the line broke?
                raise _CommitUnknown(xid, out, exc) from exc
            return out
        finally:
            self._local.conn = None
            self._local.now = None

    def _settle(self, unknown: _CommitUnknown, give_up: float) -> bool:
        """Whether the transaction whose COMMIT reply was lost committed (``pg_xact_status``),
        asked on a new connection until the server knows. Retrying it blindly could apply it
        twice (a submit, a dispatch); this way every write applies exactly once."""
        psycopg = _psycopg()
        self._lost(unknown.cause)
        delay = 0.05
        while True:
            try:
                with self._ensure().connection(timeout=30) as raw:
                    row = raw.execute("SELECT pg_xact_status(%s::xid8)", (unknown.xid,)).fetchone()
                status = row[0] if row else None
                if status == "committed":
                    return True
                if status != "in progress":  # aborted (or forgotten: it cannot have committed)
                    return False
            except (psycopg.Error, Exception) as exc:
                if time.monotonic() > give_up:
                    raise NetworkError(
                        f"lost PostgreSQL at {host_of(self._url)} while committing, and could not learn"
                        f" whether the commit landed: {_first_line(exc)}",
                        hint="look at the workspace's jobs (wac job list) before doing it again") from exc
            time.sleep(delay)
            delay = min(delay * 2, 2.0)

    def write(self, fn: Callable[[Any], T], *, work: bool = True) -> T:
        return self._run(fn, write=True, work=work)

    @contextlib.contextmanager
    def batch(self) -> Iterator[bool]:
        """Writes commit one by one here: a lost COMMIT reply is settled per transaction
        (:meth:`_settle`), which needs each write whole."""
        yield False

    def read(self, fn: Callable[[Any], T]) -> T:
        return self._run(fn, write=False)

    def peek(self, fn: Callable[[Any], T]) -> T:
        return self._run(fn, write=False)

    def now(self) -> float:
        """The server's clock; inside a write, the moment it took the write lock (one reading
        per transaction, read with the lock: no round trip of its own)."""
        if getattr(self._local, "conn", None) is not None and getattr(self._local, "now", None) is not None:
            return float(self._local.now)
        return float(self._run(
            lambda c: c.execute("SELECT extract(epoch from clock_timestamp())::float8 AS now").fetchone()["now"],
            write=False))

    # -------------------------------------------------------------- wake-ups
    def data_version(self) -> int:
        """Moves on every notification of a commit that may have made work runnable (and when the
        listener had to reconnect); other commits wake waits on a change through the waker."""
        self._listen()
        return self._notified

    def _listen(self) -> None:
        if self._listener is not None and self._listener.is_alive():
            return
        with self._lock:
            if self._listener is not None and self._listener.is_alive():
                return
            self._ensure()
            ready = threading.Event()
            t = threading.Thread(target=self._listen_loop, args=(ready,), name="wac-pg-listen", daemon=True)
            self._listener = t
            t.start()
        ready.wait(10)  # a baseline taken after this sees every later commit

    def _listen_loop(self, ready: threading.Event) -> None:
        psycopg = _psycopg()
        pid = os.getpid()
        while not self._closed and os.getpid() == pid:
            try:
                conn = psycopg.connect(self._url, autocommit=True, connect_timeout=10)
            except psycopg.Error:
                time.sleep(1.0)
                continue
            try:
                conn.execute(f"LISTEN {self._channel}")
                if ready.is_set():
                    self._bump(True)  # a reconnect: anything committed while we were not listening
                ready.set()
                while not self._closed:
                    for note in conn.notifies(timeout=1.0):
                        # This process's own commits woke its waiters synchronously already; a
                        # late echo of them would only be a spurious wake-up.
                        who, _, work = note.payload.partition(" ")
                        if who != str(pid):
                            self._bump(work != "0")
            except psycopg.Error:
                time.sleep(0.2)
            finally:
                with contextlib.suppress(Exception):  # closing a broken connection
                    conn.close()

    def _bump(self, work: bool) -> None:
        """Another process committed: wake this one's waits on a change, and, when the commit may
        have made work runnable, its idle workers (a heartbeat or a step wakes no idle slot)."""
        if work:
            self._notified += 1
        self.waker.notify(work=work)

    # -------------------------------------------------------------- lifecycle
    def end_thread(self) -> None:
        pass  # a thread holds no connection of its own between operations (the pool's)

    def close(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None and self._pid == os.getpid():
            pool.close()

    def migrate(self) -> int:
        from wac.engine.store._pg_migrate import migrate

        return migrate(self)


class _CommitUnknown(Exception):
    """The connection broke while COMMIT was on its way: it may or may not have landed."""

    def __init__(self, xid: str, out: Any, cause: BaseException) -> None:
        super().__init__(f"the reply of COMMIT (transaction {xid}) was lost")
        self.xid = xid
        self.out = out
        self.cause = cause


def _first_line(exc: BaseException | None) -> str:
    if exc is None:
        return ""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _store_error(exc: BaseException, url: str) -> StoreError | NetworkError | AuthError:
    psycopg = _psycopg()
    if isinstance(exc, psycopg.OperationalError):
        return connect_error(exc, url)
    return StoreError(f"store error (PostgreSQL at {host_of(url)}): {_first_line(exc)}")
