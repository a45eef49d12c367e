"""Reads, logs, bundles, waking and pruning of the SQLite store (a mixin of ``SqliteStore``)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any

from wac.engine.store._dialect import Dialect
from wac.engine.store._sqlite_conn import Waker
from wac.engine.store._sqlite_rows import (
    JOB_COLUMNS,
    STEP_COLUMNS,
    dumps,
    loads,
    row_to_job,
    row_to_step,
)
from wac.engine.store.base import TERMINAL, Job, LogLine, Step, TimelineEntry, Token
from wac.errors import JobNotFoundError, LostClaimError, StoreError

#: After this many seconds without a commit seen, an idle wait polls at its slowest (``_poll_quiet``).
QUIET_S = 5.0
#: The tag set that matches every job (``wac worker`` without ``--tag`` in a local store).
ANY_TAG: frozenset[str] = frozenset({"*"})

# A queued candidate may run if it has no concurrency key, already holds its slot, or its key
# has fewer than `limit` live slots (with a time window: live or started inside the window).
SLOT_FREE = (
    "(j.conc_key IS NULL"
    " OR EXISTS (SELECT 1 FROM concurrency_slots s WHERE s.job_id = j.id)"
    " OR (SELECT count(*) FROM concurrency_slots s WHERE s.key = j.conc_key AND (s.live = 1"
    " OR (j.conc_window IS NOT NULL AND s.started_at > :now - j.conc_window))) < j.conc_limit)"
)
# When a window-limited key is full, the earliest moment one of its starts leaves the window.
_WINDOW_FREES = (
    "(SELECT min(s.started_at) FROM concurrency_slots s WHERE s.key = j.conc_key AND s.live = 0"
    " AND s.started_at > :now - j.conc_window) + j.conc_window"
)


def tag_filter(tags: frozenset[str]) -> tuple[str, dict[str, str]]:
    """SQL (`` AND j.tag IN (…)``, or nothing for :data:`ANY_TAG`) and its named parameters."""
    if "*" in tags:
        return "", {}
    if not tags:
        return " AND 1 = 0", {}
    params = {f"t{i}": t for i, t in enumerate(sorted(tags))}
    return f" AND j.tag IN ({', '.join(':' + k for k in params)})", params


_TIMELINE_STATUS = {
    "queued": "queued", "blocked": "blocked", "running": "running", "waiting": "running",
    "suspended": "waiting", "cancelled": "cancelled", "failed": "failed", "succeeded": "done",
}


class SqliteReads:
    """Everything of :class:`SqliteStore` that is not a round outcome."""

    path: str
    _pool: Dialect
    _waker: Waker
    _poll: float
    _poll_max: float
    _poll_quiet: float

    def now(self) -> float:
        raise NotImplementedError

    def _write(self, fn: Callable[[sqlite3.Connection], Any], *, work: bool) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ bundles
    def put_bundle(self, bundle_hash: str, files: dict[str, str]) -> None:
        text = dumps(files, "bundle")

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO bundles (hash, files, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (hash) DO NOTHING",
                (bundle_hash, text, self.now()),
            )

        self._pool.write(txn)

    def get_bundle(self, bundle_hash: str) -> dict[str, str]:
        row = self._pool.read(
            lambda c: c.execute("SELECT files FROM bundles WHERE hash = ?", (bundle_hash,)).fetchone()
        )
        if row is None:
            raise StoreError(f"no code bundle {bundle_hash[:12]} in the store")
        files: dict[str, str] = loads(row["files"])
        return files

    def set_bundle(self, token: Token, bundle_hash: str) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM bundles WHERE hash = ?", (bundle_hash,)).fetchone() is None:
                raise StoreError(f"no code bundle {bundle_hash[:12]} in the store")
            row = conn.execute(
                "UPDATE jobs SET bundle_hash = ? WHERE id = ? AND status = 'running' AND attempt = ?"
                " AND worker_id = ? RETURNING id", (bundle_hash, token.job_id, token.attempt, token.worker_id),
            ).fetchone()
            if row is None:
                raise LostClaimError(f"job {token.job_id} is no longer held by worker {token.worker_id}"
                                     f" (attempt {token.attempt})",
                                     hint="its environment was pinned for nothing; the job was re-queued, "
                                     "cancelled or finished")

        self._write(txn, work=False)

    # ------------------------------------------------------------------ logs
    def _log_txn(self, conn: sqlite3.Connection, job_id: str, text: str, now: float) -> None:
        if text:
            if not text.isascii():  # lone surrogates cannot be stored as UTF-8: escape them
                text = text.encode("utf-8", "backslashreplace").decode("utf-8")
            conn.execute(
                "INSERT INTO logs (job_id, seq, ts, text) SELECT ?, coalesce(max(seq), 0) + 1, ?, ?"
                " FROM logs WHERE job_id = ?",
                (job_id, now, text, job_id),
            )

    def append_log(self, job_id: str, text: str) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is None:
                raise JobNotFoundError(f"no job {job_id}")
            self._log_txn(conn, job_id, text, self.now())

        self._write(txn, work=False)

    def read_logs(self, job_id: str, after_seq: int = 0) -> list[LogLine]:
        rows = self._pool.read(
            lambda c: c.execute(
                "SELECT seq, ts, text FROM logs WHERE job_id = ? AND seq > ? ORDER BY seq",
                (job_id, after_seq),
            ).fetchall()
        )
        return [LogLine(job_id, r["seq"], r["ts"], r["text"]) for r in rows]

    # ------------------------------------------------------------------ jobs and steps
    def get_job(self, job_id: str) -> Job:
        row = self._pool.read(
            lambda c: c.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        )
        if row is None:
            raise JobNotFoundError(f"no job {job_id}")
        return row_to_job(row)

    def list_jobs(
        self, *, root_only: bool = True, status: str | None = None, limit: int = 50
    ) -> list[Job]:
        where, params = [], []
        if root_only:
            where.append("parent_id IS NULL")
        if status is not None:
            where.append("status = ?")
            params.append(status)
        sql = f"SELECT {JOB_COLUMNS} FROM jobs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq DESC LIMIT ?"
        rows = self._pool.read(lambda c: c.execute(sql, (*params, limit)).fetchall())
        return [row_to_job(r) for r in rows]

    def children(self, job_id: str) -> list[Job]:
        rows = self._pool.read(
            lambda c: c.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE parent_id = ? ORDER BY seq", (job_id,)
            ).fetchall()
        )
        return [row_to_job(r) for r in rows]

    def get_steps(self, job_id: str) -> list[Step]:
        rows = self._pool.read(
            lambda c: c.execute(
                f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY seq", (job_id,)
            ).fetchall()
        )
        return [row_to_step(r) for r in rows]

    def timeline(self, job_id: str) -> list[TimelineEntry]:
        """The job's steps in order, each with the state of the child that computes it."""

        def read(c: sqlite3.Connection) -> tuple[Any, list[Any]]:
            exists = c.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone()
            rows = c.execute(
                "SELECT s.key, s.kind, s.done, s.failed, s.started_at, s.finished_at,"
                " s.child_job_id, j.status AS child_status, j.started_at AS child_started,"
                " j.finished_at AS child_finished FROM steps s"
                " LEFT JOIN jobs j ON j.id = s.child_job_id WHERE s.job_id = ? ORDER BY s.seq",
                (job_id,),
            ).fetchall()
            return exists, rows

        exists, rows = self._pool.read(read)
        if exists is None:
            raise JobNotFoundError(f"no job {job_id}")
        out = []
        for r in rows:
            cstatus, cstart, finished = r["child_status"], r["child_started"], r["finished_at"]
            if r["done"]:
                status = "cancelled" if cstatus == "cancelled" else ("failed" if r["failed"] else "done")
            elif cstatus is not None:
                status = _TIMELINE_STATUS.get(cstatus, cstatus)
            else:
                status = "waiting"
            out.append(
                TimelineEntry(
                    key=r["key"], kind=r["kind"], status=status,
                    started_at=cstart if cstart is not None else r["started_at"],
                    finished_at=finished if finished is not None else r["child_finished"],
                    child_job_id=r["child_job_id"],
                )
            )
        return out

    def prune(self, before: float) -> int:
        """Delete finished workflow trees whose root finished before ``before``; returns roots.

        Also drops expired cache entries. Bundles are kept (deployed scripts may use them).
        """

        def txn(conn: sqlite3.Connection) -> int:
            roots = [
                r["id"]
                for r in conn.execute(
                    "SELECT id FROM jobs r WHERE parent_id IS NULL AND finished_at < ?"
                    " AND status IN ('succeeded', 'failed', 'cancelled') AND NOT EXISTS"
                    " (SELECT 1 FROM jobs d WHERE d.root_id = r.id"
                    " AND d.status NOT IN ('succeeded', 'failed', 'cancelled'))",
                    (before,),
                ).fetchall()
            ]
            for root in roots:
                conn.execute(
                    "DELETE FROM concurrency_slots WHERE job_id IN"
                    " (SELECT id FROM jobs WHERE root_id = ?)",
                    (root,),
                )
                conn.execute("DELETE FROM jobs WHERE root_id = ? AND parent_id IS NOT NULL", (root,))
                conn.execute("DELETE FROM jobs WHERE id = ?", (root,))
            conn.execute("DELETE FROM cache WHERE expires_at <= ?", (self.now(),))
            return len(roots)

        n: int = self._write(txn, work=False)
        return n

    # ------------------------------------------------------------------ waking (G5)
    def next_due(self, tags: frozenset[str]) -> float | None:
        """Earliest moment something may need a worker with these tags: queued work coming
        due (or a concurrency window freeing), an approval timing out, a lease expiring, a
        round overrunning its timeout."""
        where, params = tag_filter(tags)
        sql = (
            "SELECT min(d) AS due FROM ("
            f" SELECT min(CASE WHEN {SLOT_FREE} THEN j.scheduled_at WHEN j.conc_window IS NOT NULL"
            f" THEN max(j.scheduled_at, {_WINDOW_FREES}) END) AS d"
            f" FROM jobs j WHERE j.status = 'queued'{where}"
            " UNION ALL SELECT min(timeout_at) FROM approvals WHERE resolved_at IS NULL"
            " UNION ALL SELECT min(lease_until) FROM jobs WHERE status = 'running'"
            " UNION ALL SELECT min(round_deadline) FROM jobs WHERE status = 'running') AS candidates"
        )
        all_params = {"now": self.now(), **params}
        row = self._pool.read(lambda c: c.execute(sql, all_params).fetchone())
        return None if row["due"] is None else float(row["due"])

    def _data_version(self) -> int:
        return self._pool.data_version()

    def _baseline(self) -> tuple[int, int, int]:
        """What "nothing happened yet" looks like: waker counters and ``PRAGMA data_version``."""
        waker = self._waker
        with waker.cond:
            work, change = waker.work, waker.change
        return work, change, self._data_version()

    def _remember_baseline(self) -> None:
        """Taken by claim() just before it looks for work, so a commit that lands between a
        fruitless claim and the following wait_for_work still wakes that wait."""
        self._pool._local.baseline = self._baseline()

    def _wait(self, index: int, deadline: float, base: tuple[int, int, int],
              recheck: Callable[[], bool] | None = None) -> None:
        """Block until waker counter ``index`` (0 work, 1 change) moves past ``base``, another
        connection commits, or ``deadline`` (monotonic) passes.

        ``recheck``: asked when another connection committed while this process committed too
        (``PRAGMA data_version`` moves for both, so the commit may be this process's own); False
        means nothing to wake for, and the wait goes on, backing off as if nothing happened."""
        waker = self._waker

        def moved() -> bool:
            return (waker.work, waker.change)[index] != base[index]

        # Commits of this process wake the condition at once; other processes' are seen by
        # polling ``PRAGMA data_version``: every ``_poll`` seconds at first, backing off to
        # ``_poll_max`` while nothing happens, and to ``_poll_quiet`` once nothing has happened
        # for QUIET_S seconds, so an idle worker costs almost no CPU (issue 17). The back-off
        # carries over to the thread's next wait until something happens.
        local = self._pool._local
        poll = getattr(local, "poll", None) or self._poll
        quiet_since = getattr(local, "quiet_since", None) or time.monotonic()
        while True:
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                local.poll, local.quiet_since = poll, quiet_since
                return
            with waker.cond:
                if waker.cond.wait_for(moved, timeout=min(left, poll)):
                    local.poll = local.quiet_since = None
                    return
            version = self._data_version()
            if version != base[2]:
                if recheck is None or waker.change == base[1] or recheck():
                    local.poll = local.quiet_since = None
                    return
                base = (base[0], waker.change, version)
            cap = self._poll_max if now - quiet_since < QUIET_S else max(self._poll_max, self._poll_quiet)
            poll = min(poll * 1.5, max(self._poll, cap))

    def wait_for_work(self, tags: frozenset[str], timeout: float) -> None:
        """Return when a job with these tags may be runnable (hint), at ``next_due`` at the
        latest, or after ``timeout`` seconds."""
        base = getattr(self._pool._local, "baseline", None) or self._baseline()
        self._pool._local.baseline = None
        wait = timeout
        due = self.next_due(tags)
        if due is not None:  # 2 ms past it: the store clock (SQLite's) moves in whole milliseconds
            wait = min(wait, due - self.now() + 0.002)
        if wait <= 0:
            return
        # While this process's own slots commit (a busy slot's chained claims), every one of their
        # commits moves data_version: an idle slot then wakes only if a job is claimable.
        where, params = tag_filter(tags)
        sql = f"SELECT 1 FROM jobs j WHERE j.status = 'queued' AND j.scheduled_at <= :now{where} LIMIT 1"

        def claimable() -> bool:
            return self._pool.peek(lambda c: c.execute(sql, {"now": self.now(), **params}).fetchone()) is not None

        self._wait(0, time.monotonic() + wait, base, claimable)

    def wake(self) -> None:
        """End every wait_for_work / wait_for_change of this process now (e.g. a worker stopping)."""
        self._waker.notify(work=True)

    def change_token(self) -> tuple[int, int, int]:
        """What "nothing changed yet" looks like now; take it BEFORE reading the state you wait on."""
        return self._baseline()

    def wait_for_change(
        self, job_id: str, timeout: float, since: tuple[int, int, int] | None = None
    ) -> None:
        """Return after any commit that may have changed ``job_id`` (hint), or ``timeout``.

        With ``since`` (from :meth:`change_token`), a commit made after that token was taken ends
        the wait at once, so a change between reading a job and waiting on it is never missed.
        """
        if timeout > 0:
            self._wait(1, time.monotonic() + timeout, since if since is not None else self._baseline())

    def wait_for_result(self, job_id: str, timeout: float) -> Job:
        """Block until the job is terminal or ``timeout`` passes; returns its latest state."""
        started = time.monotonic()
        deadline = started + timeout
        while True:
            since = self._baseline()
            read_at = time.monotonic()
            job = self.get_job(job_id)
            left = deadline - time.monotonic()
            if job.status in TERMINAL or left <= 0:
                return job
            self.wait_for_change(job_id, min(left, 1.0), since)
            # Every commit ends the wait: once a run has gone on for a moment (hundreds of commits
            # a second, maybe), read the job at most every 10 ms, so the reads do not take the busy
            # slots' GIL and store; a short job's end is still seen at once.
            gap = read_at + 0.01 - time.monotonic()
            if gap > 0 and read_at - started >= 0.25:
                time.sleep(min(gap, max(0.0, deadline - time.monotonic())))

