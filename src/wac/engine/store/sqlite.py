"""The embedded SQLite implementation of the engine's :class:`~wac.engine.store.base.Store`.

Every public mutating method runs one ``BEGIN IMMEDIATE`` transaction (G1) that calls private
``_x_txn(conn, …)`` helpers, so operations compose. Every path that ends a child — complete,
fail, cancel, reap — goes through the one :meth:`SqliteStore._finish_child` (the Windmill
PR #11119 lesson). Reads, waking and maintenance live in :mod:`._sqlite_reads`.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from wac.engine.store._sqlite_conn import ConnectionPool, migrate, waker_for
from wac.engine.store._sqlite_reads import SLOT_FREE, SqliteReads, tag_filter
from wac.engine.store._sqlite_rows import (
    J_ATTEMPT, J_BUNDLE, J_CACHE_KEY, J_CACHE_TTL, J_CANCEL_REASON, J_CANCEL_REQ, J_CONC_KEY,
    J_CONC_WINDOW, J_EXEC, J_ID, J_LOST, J_PARENT, J_PATH, J_PKEY, J_PRIORITY, J_ROOT,
    J_STATUS, J_TAG, JOB_COLUMNS, STEP_COLUMNS, cache_key, dumps, failure_marker, next_id,
    normalise_error, row_to_job, row_to_step,
)
from wac.engine.store.base import (
    ChildSpec, Claim, HeartbeatReport, JobSpec, JsonValue, TaskOptions, Token,
)
from wac.errors import ConflictError, JobNotFoundError, LostClaimError, StoreError

Row = tuple[Any, ...]

#: A running job whose lease expires this many times in a row fails instead of being re-queued.
MAX_LOST = 5

_RELEASE = "lease_until = NULL"  # worker_id stays: the last worker that ran it


class SqliteStore(SqliteReads):
    """A store in one SQLite file, shared by threads and processes.

    Args:
        path: the database file (its directory must exist).
        clock: the store clock (G4), seconds since the epoch; tests inject a fake one.
        poll_interval: how often idle waits look at ``PRAGMA data_version`` for commits made by
            other processes.
    """

    def __init__(
        self, path: str, *, clock: Callable[[], float] | None = None, poll_interval: float = 0.003
    ) -> None:
        self.path = os.path.realpath(path)
        self._pool = ConnectionPool(self.path)
        self._waker = waker_for(self.path)
        self._clock = clock or time.time
        self._poll = poll_interval

    # ------------------------------------------------------------------ lifecycle
    def migrate(self) -> None:
        migrate(self._pool)

    def close(self) -> None:
        self._pool.close()

    def now(self) -> float:
        return self._clock()

    def _write(self, fn: Callable[[sqlite3.Connection], Any], *, work: bool) -> Any:
        out = self._pool.write(fn)
        self._waker.notify(work)
        return out

    # ------------------------------------------------------------------ fencing (G2)
    def _fence(self, conn: sqlite3.Connection, token: Token) -> Row:
        row = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND status = 'running'"
            " AND attempt = ? AND worker_id = ?",
            (token.job_id, token.attempt, token.worker_id),
        ).fetchone()
        if row is None:
            raise _lost(token)
        return row  # type: ignore[no-any-return]

    def _fence_seq(self, conn: sqlite3.Connection, token: Token) -> int:
        """Fence and allocate the next step ``seq`` of the job in one statement (hot path)."""
        row = conn.execute(
            "UPDATE jobs SET step_seq = step_seq + 1 WHERE id = ? AND status = 'running'"
            " AND attempt = ? AND worker_id = ? RETURNING step_seq",
            (token.job_id, token.attempt, token.worker_id),
        ).fetchone()
        if row is None:
            raise _lost(token)
        return int(row[0])

    # ------------------------------------------------------------------ submit / claim
    def submit(self, spec: JobSpec) -> str:
        args = dumps(spec.args, "job arguments")
        name = spec.script_path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".py")

        def txn(conn: sqlite3.Connection) -> str:
            if spec.idempotency_key is not None:
                row = conn.execute(
                    "SELECT id FROM jobs WHERE idempotency_key = ?", (spec.idempotency_key,)
                ).fetchone()
                if row is not None:
                    return str(row[0])
            if conn.execute("SELECT 1 FROM bundles WHERE hash = ?", (spec.bundle_hash,)).fetchone() is None:
                raise StoreError(
                    f"no code bundle {spec.bundle_hash[:12]} in the store",
                    hint="store the code with put_bundle() before submitting a job",
                )
            now = self.now()
            (job_id,) = next_id(conn, now)
            self._insert_job_txn(
                conn, job_id, job_id, None, None, "queued", spec.bundle_hash, spec.entry,
                spec.script_path, name, args, None, spec.options, now, spec.preview,
                spec.idempotency_key,
            )
            return job_id

        return str(self._write(txn, work=True))

    def _insert_job_txn(
        self, conn: sqlite3.Connection, job_id: str, root_id: str, parent_id: str | None,
        parent_key: str | None, status: str, bundle_hash: str, entry: str, script_path: str,
        name: str, args_json: str, executing_key: str | None, options: TaskOptions, now: float,
        preview: bool = False, idempotency_key: str | None = None, result_json: str | None = None,
        ckey: str | None = None,
    ) -> None:
        limit = options.concurrency_limit if options.concurrency_limit else None
        conc_key = (options.concurrency_key or f"{script_path}:{name}") if limit else None
        window = options.concurrency_time_window_s if limit else None
        done = status == "succeeded"
        conn.execute(
            "INSERT INTO jobs (id, root_id, parent_id, parent_key, status, bundle_hash, entry,"
            " script_path, name, args, executing_key, options, tag, priority, created_at,"
            " started_at, finished_at, scheduled_at, result, preview, idempotency_key, secret,"
            " conc_key, conc_limit, conc_window, cache_key, cache_ttl)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                job_id, root_id, parent_id, parent_key, status, bundle_hash, entry, script_path,
                name, args_json, executing_key, dumps(options.to_json(), "task options"),
                options.tag or "default", options.priority, now, now if done else None,
                now if done else None, now, result_json, int(preview), idempotency_key,
                secrets.token_urlsafe(18), conc_key, limit, window, ckey, options.cache_ttl,
            ),
        )

    def claim(self, worker_id: str, tags: frozenset[str], lease_s: float) -> Claim | None:
        where, tag_params = tag_filter(tags)
        sql = (
            "SELECT j.id FROM jobs j WHERE j.status = 'queued' AND j.scheduled_at <= :now"
            f"{where} AND {SLOT_FREE} ORDER BY j.priority DESC, j.scheduled_at, j.seq LIMIT 1"
        )
        # Look without the write lock first, so idle workers never queue up for it.
        conn = self._pool.get()
        self._remember_baseline()
        params = {"now": self.now(), **tag_params}
        if self._pool._retry(lambda: conn.execute(sql, params).fetchone()) is None:
            return None

        def txn(conn: sqlite3.Connection) -> tuple[Row, list[Row] | None] | None:
            now = self.now()
            found = conn.execute(sql, {"now": now, **tag_params}).fetchone()
            if found is None:
                return None
            row = conn.execute(
                "UPDATE jobs SET status = 'running', attempt = attempt + 1, rounds = rounds + 1,"
                " worker_id = ?, lease_until = ?, started_at = coalesce(started_at, ?)"
                f" WHERE id = ? RETURNING {JOB_COLUMNS}",
                (worker_id, now + lease_s, now, found[0]),
            ).fetchone()
            if row[J_CONC_KEY] is not None:
                conn.execute(
                    "INSERT INTO concurrency_slots (job_id, key, started_at, window)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
                    (row[J_ID], row[J_CONC_KEY], now, row[J_CONC_WINDOW]),
                )
            if row[J_EXEC] is not None and row[J_PARENT]:
                return row, None  # a @task child: its parent's steps are read after commit
            steps = conn.execute(
                f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY seq", (row[J_ID],)
            ).fetchall()
            return row, steps

        got = self._write(txn, work=False)
        if got is None:
            return None
        row, steps = got
        if steps is None:
            # A @task child replays its parent's checkpoint. Everything it needs was committed
            # before the dispatch and step rows are never changed once done, so reading them
            # outside the write transaction keeps the write lock short.
            steps = self._pool.read(
                lambda c: c.execute(
                    f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY seq",
                    (row[J_PARENT],),
                ).fetchall()
            )
        job = row_to_job(row)
        return Claim(job, Token(job.id, row[J_ATTEMPT], worker_id), [row_to_step(s) for s in steps])

    def heartbeat(self, tokens: list[Token], lease_s: float) -> HeartbeatReport:
        if not tokens:
            return HeartbeatReport(frozenset(), frozenset())

        def txn(conn: sqlite3.Connection) -> HeartbeatReport:
            until = self.now() + lease_s
            lost, cancel = set(), set()
            for t in tokens:
                row = conn.execute(
                    "UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running'"
                    " AND attempt = ? AND worker_id = ? RETURNING cancel_requested",
                    (until, t.job_id, t.attempt, t.worker_id),
                ).fetchone()
                if row is None:
                    lost.add(t.job_id)
                elif row[0]:
                    cancel.add(t.job_id)
            return HeartbeatReport(frozenset(lost), frozenset(cancel))

        report: HeartbeatReport = self._pool.write(txn)
        return report

    # ------------------------------------------------------------------ round outcomes
    def complete(self, token: Token, result: JsonValue, logs: str = "") -> None:
        result_json = dumps(result, "result")

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            row = self._fence(conn, token)
            self._complete_txn(conn, row, result_json, now)
            self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=True)

    def _complete_txn(self, conn: sqlite3.Connection, row: Row, result_json: str, now: float) -> None:
        conn.execute(
            f"UPDATE jobs SET status = 'succeeded', result = ?, error = NULL, finished_at = ?,"
            f" {_RELEASE}, lost_count = 0 WHERE id = ?",
            (result_json, now, row[J_ID]),
        )
        self._release_slot_txn(conn, row, now)
        if row[J_CACHE_KEY] is not None and row[J_CACHE_TTL]:
            conn.execute(
                "INSERT INTO cache (key, result, expires_at) VALUES (?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at",
                (row[J_CACHE_KEY], result_json, now + row[J_CACHE_TTL]),
            )
        self._finish_child(conn, row, result_json, False, now)

    def fail(
        self, token: Token, error: dict[str, JsonValue], logs: str = "", retry_at: float | None = None
    ) -> None:
        err = normalise_error(error)

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            row = self._fence(conn, token)
            self._fail_txn(conn, row, err, retry_at, now)
            self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=True)

    def _fail_txn(
        self, conn: sqlite3.Connection, row: Row, err: dict[str, JsonValue],
        retry_at: float | None, now: float,
    ) -> None:
        if row[J_CANCEL_REQ]:
            self._cancel_now_txn(conn, row, row[J_CANCEL_REASON] or "cancelled", now, finish=True)
        elif retry_at is not None:
            conn.execute(
                f"UPDATE jobs SET status = 'queued', scheduled_at = ?, error = ?, {_RELEASE},"
                " lost_count = 0 WHERE id = ?",
                (retry_at, dumps(err, "error"), row[J_ID]),
            )
        else:
            conn.execute(
                f"UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, {_RELEASE}"
                " WHERE id = ?",
                (dumps(err, "error"), now, row[J_ID]),
            )
            self._release_slot_txn(conn, row, now)
            self._finish_failed_child(conn, row, err, now)

    def _finish_failed_child(
        self, conn: sqlite3.Connection, row: Row, err: dict[str, JsonValue], now: float
    ) -> None:
        if row[J_PARENT] is not None:
            marker = failure_marker(err, row[J_PKEY], row[J_ID])
            self._finish_child(conn, row, dumps(marker, "error"), True, now)

    def _finish_child(
        self, conn: sqlite3.Connection, child: Row, value_json: str, failed: bool, now: float
    ) -> None:
        """THE one path that hands a finished child's outcome to its parent (G3).

        Writes the value into the parent's step row only if it is not done yet (exactly once),
        decrements the parent's ``pending``, re-queues the parent in the transaction that takes
        ``pending`` from 1 to 0, and promotes the next ``blocked`` sibling (sliding window).
        """
        parent_id = child[J_PARENT]
        if parent_id is None:
            return
        cur = conn.execute(
            "UPDATE steps SET done = 1, failed = ?, value = ?, finished_at = ?"
            " WHERE job_id = ? AND key = ? AND done = 0",
            (int(failed), value_json, now, parent_id, child[J_PKEY]),
        )
        if cur.rowcount == 0:
            return
        pending, status = conn.execute(
            "UPDATE jobs SET pending = pending - 1 WHERE id = ? RETURNING pending, status",
            (parent_id,),
        ).fetchone()
        if pending == 0 and status == "waiting":
            conn.execute(
                "UPDATE jobs SET status = 'queued', scheduled_at = ? WHERE id = ?", (now, parent_id)
            )
        if status in ("waiting", "queued", "running"):
            conn.execute(
                "UPDATE jobs SET status = 'queued', scheduled_at = ? WHERE seq = (SELECT min(seq)"
                " FROM jobs WHERE parent_id = ? AND status = 'blocked')",
                (now, parent_id),
            )

    def _release_slot_txn(self, conn: sqlite3.Connection, row: Row, now: float) -> None:
        if row[J_CONC_KEY] is None:
            return
        if row[J_CONC_WINDOW]:
            # Starts inside the window still count, so keep the row (without its live slot).
            conn.execute("UPDATE concurrency_slots SET live = 0 WHERE job_id = ?", (row[J_ID],))
            conn.execute(
                "DELETE FROM concurrency_slots WHERE key = ? AND live = 0 AND started_at <= ?",
                (row[J_CONC_KEY], now - row[J_CONC_WINDOW]),
            )
        else:
            conn.execute("DELETE FROM concurrency_slots WHERE job_id = ?", (row[J_ID],))

    def dispatch(
        self, token: Token, children: list[ChildSpec], max_in_flight: int | None = None, logs: str = ""
    ) -> list[str]:
        keys = [c.key for c in children]
        if len(set(keys)) != len(keys):
            raise StoreError(f"a dispatch repeats a step key: {sorted(keys)}")
        encoded = [dumps(c.args, f"arguments of {c.key!r}") for c in children]
        window = max_in_flight if max_in_flight and max_in_flight > 0 else None

        def txn(conn: sqlite3.Connection) -> list[str]:
            now = self.now()
            parent = self._fence(conn, token)
            ids = next_id(conn, now, len(children))
            (last_seq,) = conn.execute(
                "UPDATE jobs SET step_seq = step_seq + ? WHERE id = ? RETURNING step_seq",
                (len(children), token.job_id),
            ).fetchone()
            seq0 = last_seq - len(children)
            out: list[str] = []
            pending = in_flight = 0
            for i, (child, args_json) in enumerate(zip(children, encoded)):
                cid = ids[i]
                opts = _inherit(child.options, parent)
                bundle = child.bundle_hash or parent[J_BUNDLE]
                path = child.script_path or parent[J_PATH]
                kind = child.kind or ("task" if child.executing_key is not None else "script")
                cached = ckey = None
                if opts.cache_ttl:
                    ckey = cache_key(bundle, child.entry, child.name, child.args)
                    cached = conn.execute(
                        "SELECT result FROM cache WHERE key = ? AND expires_at > ?", (ckey, now)
                    ).fetchone()
                cur = conn.execute(
                    "INSERT INTO steps (job_id, key, seq, kind, done, value, child_job_id,"
                    " started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (job_id, key) DO NOTHING",
                    (token.job_id, child.key, seq0 + i + 1, kind, int(cached is not None),
                     cached[0] if cached else None, cid, now, now if cached else None),
                )
                if cur.rowcount == 0:
                    # The key already has a row: done means nothing to run; a live child still
                    # owns it and will finish it, so it is waited for but not created again.
                    prev = conn.execute(
                        "SELECT done, child_job_id FROM steps WHERE job_id = ? AND key = ?",
                        (token.job_id, child.key),
                    ).fetchone()
                    pending += 0 if prev[0] else 1
                    out.append(prev[1] or "")
                    continue
                if cached is not None:
                    status = "succeeded"
                elif window is None or in_flight < window:
                    status, in_flight, pending = "queued", in_flight + 1, pending + 1
                else:
                    status, pending = "blocked", pending + 1
                self._insert_job_txn(
                    conn, cid, parent[J_ROOT], token.job_id, child.key, status, bundle,
                    child.entry, path, child.name, args_json, child.executing_key, opts, now,
                    result_json=cached[0] if cached else None, ckey=ckey,
                )
                out.append(cid)
            status = "waiting" if pending else "queued"
            conn.execute(
                f"UPDATE jobs SET status = ?, pending = ?, scheduled_at = ?, {_RELEASE},"
                " lost_count = 0 WHERE id = ?",
                (status, pending, now, token.job_id),
            )
            self._log_txn(conn, token.job_id, logs, now)
            return out

        ids: list[str] = self._write(txn, work=True)
        return ids

    def checkpoint(
        self, token: Token, key: str, value: JsonValue, requeue: bool, failed: bool = False,
        started_at: float | None = None, logs: str = "",
    ) -> None:
        value_json = dumps(value, f"value of step {key!r}")

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            seq = self._fence_seq(conn, token)
            conn.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, failed, value, started_at,"
                " finished_at) VALUES (?, ?, ?, 'step', 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (token.job_id, key, seq, int(failed), value_json,
                 now if started_at is None else started_at, now),
            )
            if requeue:
                conn.execute(
                    f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {_RELEASE},"
                    " lost_count = 0 WHERE id = ?",
                    (now, token.job_id),
                )
            if logs:
                self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=requeue)

    def sleep(self, token: Token, key: str, until: float, logs: str = "") -> None:
        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            seq = self._fence_seq(conn, token)
            conn.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, started_at, finished_at)"
                " VALUES (?, ?, ?, 'sleep', 1, ?, ?) ON CONFLICT DO NOTHING",
                (token.job_id, key, seq, now, until),
            )
            conn.execute(
                f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {_RELEASE}, lost_count = 0"
                " WHERE id = ?",
                (until, token.job_id),
            )
            self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=True)

    def suspend(
        self, token: Token, key: str, timeout_at: float | None, token_hash: str,
        form: dict[str, JsonValue] | None, logs: str = "",
    ) -> None:
        form_json = None if form is None else dumps(form, "approval form")

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            seq = self._fence_seq(conn, token)
            conn.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, started_at)"
                " VALUES (?, ?, ?, 'approval', 0, ?) ON CONFLICT DO NOTHING",
                (token.job_id, key, seq, now),
            )
            conn.execute(
                "INSERT INTO approvals (job_id, key, token_hash, timeout_at, form, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, key) DO UPDATE SET"
                " token_hash = excluded.token_hash, timeout_at = excluded.timeout_at,"
                " form = excluded.form, resolved_at = NULL",
                (token.job_id, key, token_hash, timeout_at, form_json, now),
            )
            conn.execute(
                f"UPDATE jobs SET status = 'suspended', suspended_key = ?, {_RELEASE},"
                " lost_count = 0 WHERE id = ?",
                (key, token.job_id),
            )
            self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=True)

    # ------------------------------------------------------------------ approvals
    def resume(
        self, job_id: str, key: str | None, secret_hash: str | None, approved: bool,
        value: JsonValue, approver: str | None,
    ) -> None:
        payload = dumps({"value": value, "approver": approver, "approved": approved}, "approval")

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            row = conn.execute(
                "SELECT status, suspended_key FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise JobNotFoundError(f"no job {job_id}")
            status, waiting_on = row
            if status != "suspended" or (key is not None and key != waiting_on):
                what = f"approval {key!r}" if key is not None else "an approval"
                raise ConflictError(
                    f"job {job_id} is not waiting for {what} (it is {status})",
                    hint="it may have been approved, rejected or timed out already",
                )
            (stored,) = conn.execute(
                "SELECT token_hash FROM approvals WHERE job_id = ? AND key = ?", (job_id, waiting_on)
            ).fetchone()
            if secret_hash is not None and not secrets.compare_digest(secret_hash, stored):
                raise ConflictError(
                    f"the approval token does not match job {job_id}",
                    hint="use the resume URL of this approval, or `wac job approve` locally",
                )
            conn.execute(
                "UPDATE steps SET done = 1, value = ?, finished_at = ? WHERE job_id = ? AND key = ?",
                (payload, now, job_id, waiting_on),
            )
            conn.execute(
                "UPDATE approvals SET resolved_at = ? WHERE job_id = ? AND key = ?",
                (now, job_id, waiting_on),
            )
            conn.execute(
                "UPDATE jobs SET status = 'queued', suspended_key = NULL, scheduled_at = ?"
                " WHERE id = ?",
                (now, job_id),
            )

        self._write(txn, work=True)

    # ------------------------------------------------------------------ cancel / reap
    def cancel(self, job_id: str, reason: str) -> int:
        def txn(conn: sqlite3.Connection) -> int:
            now = self.now()
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is None:
                raise JobNotFoundError(f"no job {job_id}")
            rows = conn.execute(
                "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL"
                " SELECT j.id FROM jobs j JOIN sub ON j.parent_id = sub.id)"
                f" SELECT {JOB_COLUMNS} FROM jobs WHERE id IN sub"
                " AND status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY seq",
                (job_id,),
            ).fetchall()
            in_set = {r[J_ID] for r in rows}
            for r in rows:
                if r[J_STATUS] == "running":
                    # The worker sees it in heartbeat, kills the round and calls fail().
                    conn.execute(
                        "UPDATE jobs SET cancel_requested = 1, cancel_reason = ? WHERE id = ?",
                        (reason, r[J_ID]),
                    )
                else:
                    self._cancel_now_txn(conn, r, reason, now, finish=r[J_PARENT] not in in_set)
            return len(rows)

        n: int = self._write(txn, work=True)
        return n

    def _cancel_now_txn(
        self, conn: sqlite3.Connection, row: Row, reason: str, now: float, finish: bool
    ) -> None:
        err: dict[str, JsonValue] = {"name": "Cancelled", "message": f"cancelled: {reason}"}
        conn.execute(
            f"UPDATE jobs SET status = 'cancelled', error = ?, finished_at = ?, {_RELEASE},"
            " cancel_reason = ?, suspended_key = NULL WHERE id = ?",
            (dumps(err), now, reason, row[J_ID]),
        )
        conn.execute(
            "UPDATE approvals SET resolved_at = ? WHERE job_id = ? AND resolved_at IS NULL",
            (now, row[J_ID]),
        )
        self._release_slot_txn(conn, row, now)
        if finish:
            self._finish_failed_child(conn, row, err, now)

    def reap(self) -> int:
        now = self.now()
        conn = self._pool.get()
        due = self._pool._retry(lambda: conn.execute(_REAP_DUE, (now, now)).fetchone()[0])
        if not due:
            return 0
        n: int = self._write(self._reap_txn, work=True)
        return n

    def _reap_txn(self, conn: sqlite3.Connection) -> int:
        now = self.now()
        expired = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'running' AND lease_until < ?", (now,)
        ).fetchall()
        for r in expired:
            if r[J_CANCEL_REQ]:
                self._cancel_now_txn(conn, r, r[J_CANCEL_REASON] or "cancelled", now, finish=True)
            elif r[J_LOST] + 1 >= MAX_LOST:
                err: dict[str, JsonValue] = {
                    "name": "WorkerLostError",
                    "message": f"worker lost {MAX_LOST} times while running this job"
                    " (its lease expired each time)",
                }
                self._fail_txn(conn, r, err, None, now)
            else:
                conn.execute(
                    f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {_RELEASE},"
                    " lost_count = lost_count + 1 WHERE id = ?",
                    (now, r[J_ID]),
                )
        due = conn.execute(
            "SELECT a.job_id, a.key, a.timeout_at, a.created_at FROM approvals a"
            " JOIN jobs j ON j.id = a.job_id WHERE a.resolved_at IS NULL AND a.timeout_at <= ?"
            " AND j.status = 'suspended' AND j.suspended_key = a.key",
            (now,),
        ).fetchall()
        for job_id, key, timeout_at, created_at in due:
            message = f"approval '{key}' timed out after {round(timeout_at - created_at)}s"
            marker = failure_marker({"name": "ApprovalTimeout", "message": message}, key, None)
            conn.execute(
                "UPDATE steps SET done = 1, failed = 1, value = ?, finished_at = ?"
                " WHERE job_id = ? AND key = ? AND done = 0",
                (dumps(marker), now, job_id, key),
            )
            conn.execute(
                "UPDATE approvals SET resolved_at = ? WHERE job_id = ? AND key = ?", (now, job_id, key)
            )
            conn.execute(
                "UPDATE jobs SET status = 'queued', suspended_key = NULL, scheduled_at = ?"
                " WHERE id = ?",
                (now, job_id),
            )
        return len(expired) + len(due)


def _lost(token: Token) -> LostClaimError:
    return LostClaimError(
        f"job {token.job_id} is no longer held by worker {token.worker_id}"
        f" (attempt {token.attempt})",
        hint="the round's outcome was discarded; the job was re-queued, cancelled or finished",
    )


def _inherit(options: TaskOptions, parent: Row) -> TaskOptions:
    """A child runs under its own options, with the parent's tag and priority when unset."""
    tag = options.tag or (parent[J_TAG] if parent[J_TAG] != "default" else None)
    priority = options.priority or parent[J_PRIORITY]
    if tag == options.tag and priority == options.priority:
        return options
    return replace(options, tag=tag, priority=priority)


_REAP_DUE = (
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND lease_until < ?)"
    " OR EXISTS (SELECT 1 FROM approvals a JOIN jobs j ON j.id = a.job_id"
    " WHERE a.resolved_at IS NULL AND a.timeout_at <= ? AND j.status = 'suspended'"
    " AND j.suspended_key = a.key)"
)
