"""The line between the store's semantics and a database: what a dialect provides.

:class:`~wac.engine.store.sqlite.StoreCore` (with its mixins) holds every rule of the store —
the job state machine, fencing (G2), the one ``_finish_child`` path, caching, concurrency slots,
approvals — and runs its SQL, written in the subset SQLite and PostgreSQL share, through a
dialect. A dialect owns what differs between databases:

- connections and transactions (``read``/``write``/``peek``; one transaction per operation, G1),
  and turning driver errors into :class:`~wac.errors.StoreError` subclasses;
- the clock (``now``: the database's, G4) and the SQL spelling of it;
- wake-ups across processes (``data_version``: a value that moves when another process may have
  committed; in-process waits share a :class:`~._sqlite_conn.Waker`);
- claiming (``skip_locked``: the clause a claim's candidate query ends with);
- migrations, and the URL that opens the same store again.

The SQLite dialect is :class:`~._sqlite_conn.ConnectionPool`; the PostgreSQL one is
:class:`~._pg_conn.PgPool`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")


class Dialect(Protocol):
    """What :class:`~wac.engine.store.sqlite.StoreCore` needs from a database."""

    #: Per-thread scratch (a claim's wake-up baseline).
    _local: threading.local
    #: Appended to a claim's candidate query (``FOR UPDATE SKIP LOCKED`` where rows lock).
    skip_locked: str

    @property
    def url(self) -> str: ...

    def write(self, fn: Callable[[Any], T], *, work: bool = True) -> T:
        """Run ``fn(conn)`` in one write transaction; retried as a whole on transient errors.
        ``work``: the commit may make a job runnable (other processes' idle workers wake for it;
        a commit without work wakes only those waiting on a change)."""

    def batch(self) -> AbstractContextManager[bool]:
        """This thread's writes inside commit together, as one transaction, when the block ends
        (each still undone alone if it raises). Yields whether it batches: False inside a batch
        already, or where the dialect commits each write alone (PostgreSQL, whose lost-commit
        check needs each write whole)."""

    def read(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(conn)`` in one read transaction."""

    def peek(self, fn: Callable[[Any], T]) -> T:
        """Run one cheap read statement outside any write lock (a claim's first look)."""

    def now(self) -> float:
        """The database clock, seconds since the epoch."""

    def data_version(self) -> int:
        """A value that changes when another process may have committed (G5: a hint)."""

    def migrate(self) -> int:
        """Bring the schema up to date (or refuse a newer one); returns its version."""

    def end_thread(self) -> None:
        """This thread is done with the store: close what it holds of its own (a connection)."""

    def close(self) -> None: ...
