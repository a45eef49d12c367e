"""The PostgreSQL implementation of the engine's :class:`~wac.engine.store.base.Store`.

The same semantics as the embedded store (:class:`~wac.engine.store.sqlite.StoreCore`) over the
PostgreSQL dialect (:mod:`._pg_conn`): workers on many machines share one database, and
everything they need — code bundles, results, logs, variables and resources — travels through it.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from typing import Any

from wac.engine.store._pg_conn import SAFETY_POLL_S, PgPool, safe_url
from wac.engine.store.sqlite import StoreCore

__all__ = ["PostgresStore"]


class PostgresStore(StoreCore):
    """A store in one PostgreSQL database (``postgresql://user@host:port/db``).

    Args:
        url: a libpq URL; the password may come from the URL, ``PGPASSWORD`` or ``~/.pgpass``.
        clock: the store clock (G4) for tests; None is the server's ``clock_timestamp()``.
        poll_interval: how often an idle wait looks at the listener's notification counter.
    """

    def __init__(
        self, url: str, *, clock: Callable[[], float] | None = None, poll_interval: float = 0.05,
    ) -> None:
        self._pool = PgPool(url)
        self.path = safe_url(url)
        self._waker = self._pool.waker
        self._clock = clock
        self._poll = poll_interval
        self._poll_max = poll_interval  # the listener's counter is cheap to look at: no back-off
        self._poll_quiet = poll_interval
        self._secret_key: bytes | None = None
        self._secret_lock = threading.Lock()

    def secret_key(self) -> bytes:
        """The workspace's own secret key (the one-row ``secret_key`` table), made by the first
        store that asks: ``ON CONFLICT DO NOTHING`` then a read, so two machines racing agree on
        one key. Read once per store."""
        with self._secret_lock:
            if self._secret_key is None:
                fresh = secrets.token_bytes(32)

                def txn(conn: Any) -> bytes:
                    conn.execute("INSERT INTO secret_key (id, key) VALUES (1, ?) ON CONFLICT (id) DO NOTHING",
                                 (fresh,))
                    return bytes(conn.execute("SELECT key FROM secret_key WHERE id = 1").fetchone()["key"])

                self._secret_key = self._pool.write(txn, work=False)
            return self._secret_key

    def wait_for_work(self, tags: frozenset[str], timeout: float) -> None:
        """As the embedded store's, but never longer than SAFETY_POLL_S: a lost notification
        (G5: hints only) delays a worker by at most that much."""
        super().wait_for_work(tags, min(timeout, SAFETY_POLL_S))

    def wait_for_change(self, job_id: str, timeout: float, since: tuple[int, int, int] | None = None) -> None:
        """As the embedded store's, but never longer than SAFETY_POLL_S: a commit that makes no
        work runnable (a log line, a step) sends no notification and is seen at the next look."""
        super().wait_for_change(job_id, min(timeout, SAFETY_POLL_S), since)
