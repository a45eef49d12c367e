"""How jobs end in the SQLite store: fencing, complete, fail, cancel, reap.

Every path that ends a child — success, failure, cancellation, a worker lost too often — runs
the one :meth:`SqliteEnding._finish_child` inside its own transaction (the Windmill PR #11119
lesson), so a parent never misses, or double-counts, a child's outcome.
"""

from __future__ import annotations

import json
import sqlite3

from wac.engine.store._sqlite_reads import SqliteReads
from wac.engine.store._sqlite_rows import (
    JOB_COLUMNS,
    NamedRow,
    dumps,
    failure_marker,
    normalise_error,
)
from wac.engine.store.base import JsonValue, Token
from wac.errors import JobNotFoundError, LostClaimError

Row = NamedRow

#: A running job whose lease expires this many times in a row fails instead of being re-queued.
MAX_LOST = 5

RELEASE = "lease_until = NULL"  # worker_id stays: the last worker that ran the job


class SqliteEnding(SqliteReads):
    """Fencing and the operations that end jobs; the base of :class:`SqliteStore`."""

    # ------------------------------------------------------------------ fencing (G2)
    def _fence(self, conn: sqlite3.Connection, token: Token) -> Row:
        row = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ? AND status = 'running'"
            " AND attempt = ? AND worker_id = ?",
            (token.job_id, token.attempt, token.worker_id),
        ).fetchone()
        if row is None:
            raise _lost(token)
        found: Row = row
        return found

    def _fence_seq(self, conn: sqlite3.Connection, token: Token) -> int:
        """Fence and allocate the next step ``seq`` of the job in one statement (hot path)."""
        row = conn.execute(
            "UPDATE jobs SET step_seq = step_seq + 1 WHERE id = ? AND status = 'running'"
            " AND attempt = ? AND worker_id = ? RETURNING step_seq",
            (token.job_id, token.attempt, token.worker_id),
        ).fetchone()
        if row is None:
            raise _lost(token)
        return int(row["step_seq"])

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
            f" {RELEASE}, lost_count = 0 WHERE id = ?",
            (result_json, now, row["id"]),
        )
        self._release_slot_txn(conn, row, now)
        if row["cache_key"] is not None and row["cache_ttl"]:
            conn.execute(
                "INSERT INTO cache (key, result, expires_at) VALUES (?, ?, ?) ON CONFLICT (key)"
                " DO UPDATE SET result = excluded.result, expires_at = excluded.expires_at",
                (row["cache_key"], result_json, now + row["cache_ttl"]),
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
        if row["cancel_requested"]:
            self._cancel_now_txn(conn, row, row["cancel_reason"] or "cancelled", now, finish=True)
        elif retry_at is not None:
            conn.execute(
                f"UPDATE jobs SET status = 'queued', scheduled_at = ?, error = ?, {RELEASE},"
                " lost_count = 0 WHERE id = ?",
                (retry_at, dumps(err, "error"), row["id"]),
            )
        else:
            conn.execute(
                f"UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, {RELEASE}"
                " WHERE id = ?",
                (dumps(err, "error"), now, row["id"]),
            )
            self._release_slot_txn(conn, row, now)
            self._finish_failed_child(conn, row, err, now)

    def _finish_failed_child(
        self, conn: sqlite3.Connection, row: Row, err: dict[str, JsonValue], now: float
    ) -> None:
        if row["parent_id"] is not None:
            marker = failure_marker(err, row["parent_key"], row["id"])
            self._finish_child(conn, row, dumps(marker, "error"), True, now)

    def _finish_child(
        self, conn: sqlite3.Connection, child: Row, value_json: str, failed: bool, now: float
    ) -> None:
        """THE one path that hands a finished child's outcome to its parent (G3).

        Writes the value into the parent's step row only if it is not done yet (exactly once),
        decrements the parent's ``pending``, re-queues the parent in the transaction that takes
        ``pending`` from 1 to 0, and promotes the next ``blocked`` sibling (sliding window).
        """
        parent_id = child["parent_id"]
        if parent_id is None:
            return
        cur = conn.execute(
            "UPDATE steps SET done = 1, failed = ?, value = ?, finished_at = ?"
            " WHERE job_id = ? AND key = ? AND done = 0",
            (int(failed), value_json, now, parent_id, child["parent_key"]),
        )
        if cur.rowcount == 0:
            return
        parent = conn.execute(
            "UPDATE jobs SET pending = pending - 1 WHERE id = ? RETURNING pending, status",
            (parent_id,),
        ).fetchone()
        pending, status = parent["pending"], parent["status"]
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
        if row["conc_key"] is None:
            return
        if row["conc_window"]:
            # Starts inside the window still count, so keep the row (without its live slot).
            conn.execute("UPDATE concurrency_slots SET live = 0 WHERE job_id = ?", (row["id"],))
            conn.execute(
                "DELETE FROM concurrency_slots WHERE key = ? AND live = 0 AND started_at <= ?",
                (row["conc_key"], now - row["conc_window"]),
            )
        else:
            conn.execute("DELETE FROM concurrency_slots WHERE job_id = ?", (row["id"],))

    # ------------------------------------------------------------------ cancel / reap
    def cancel(self, job_id: str, reason: str) -> int:
        def txn(conn: sqlite3.Connection) -> int:
            now = self.now()
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() is None:
                raise JobNotFoundError(f"no job {job_id}")
            rows = conn.execute(
                "WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL"
                " SELECT j.id FROM jobs j JOIN sub ON j.parent_id = sub.id)"
                f" SELECT {JOB_COLUMNS} FROM jobs WHERE id IN (SELECT id FROM sub)"
                " AND status NOT IN ('succeeded', 'failed', 'cancelled') ORDER BY seq",
                (job_id,),
            ).fetchall()
            in_set = {r["id"] for r in rows}
            for r in rows:
                if r["status"] == "running":
                    # The worker sees it in heartbeat, kills the round and calls fail().
                    conn.execute(
                        "UPDATE jobs SET cancel_requested = 1, cancel_reason = ? WHERE id = ?",
                        (reason, r["id"]),
                    )
                else:
                    self._cancel_now_txn(conn, r, reason, now, finish=r["parent_id"] not in in_set)
            return len(rows)

        n: int = self._write(txn, work=True)
        return n

    def _cancel_now_txn(
        self, conn: sqlite3.Connection, row: Row, reason: str, now: float, finish: bool
    ) -> None:
        err: dict[str, JsonValue] = {"name": "Cancelled", "message": f"cancelled: {reason}"}
        conn.execute(
            f"UPDATE jobs SET status = 'cancelled', error = ?, finished_at = ?, {RELEASE},"
            " cancel_reason = ?, suspended_key = NULL WHERE id = ?",
            (dumps(err), now, reason, row["id"]),
        )
        conn.execute(
            "UPDATE approvals SET resolved_at = ? WHERE job_id = ? AND resolved_at IS NULL",
            (now, row["id"]),
        )
        self._release_slot_txn(conn, row, now)
        if finish:
            self._finish_failed_child(conn, row, err, now)

    def reap(self) -> int:
        now = self.now()
        due = self._pool.peek(lambda c: c.execute(_REAP_DUE, (now, now, now)).fetchone()["due"])
        if not due:
            return 0
        n: int = self._write(self._reap_txn, work=True)
        return n

    def _reap_txn(self, conn: sqlite3.Connection) -> int:
        now = self.now()
        err: dict[str, JsonValue]
        expired = conn.execute(
            f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'running'"
            " AND (lease_until < ? OR round_deadline < ?)",
            (now, now),
        ).fetchall()
        for r in expired:
            if r["cancel_requested"]:
                self._cancel_now_txn(conn, r, r["cancel_reason"] or "cancelled", now, finish=True)
            elif r["round_deadline"] is not None and r["round_deadline"] < now:
                # The worker should have killed the round at its timeout; it did not.
                timeout = json.loads(r["options"]).get("timeout")
                err = {"name": "TimeoutError", "message": f"{r['name']} timed out after {timeout:g}s"}
                self._fail_txn(conn, r, err, None, now)
            elif r["lost_count"] + 1 >= MAX_LOST:
                err = {
                    "name": "WorkerLostError",
                    "message": f"worker lost {MAX_LOST} times while running this job"
                    " (its lease expired each time)",
                }
                self._fail_txn(conn, r, err, None, now)
            else:
                conn.execute(
                    f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {RELEASE},"
                    " lost_count = lost_count + 1 WHERE id = ?",
                    (now, r["id"]),
                )
        due = conn.execute(
            "SELECT a.job_id, a.key, a.timeout_at, a.created_at FROM approvals a"
            " JOIN jobs j ON j.id = a.job_id WHERE a.resolved_at IS NULL AND a.timeout_at <= ?"
            " AND j.status = 'suspended' AND j.suspended_key = a.key",
            (now,),
        ).fetchall()
        for a in due:
            job_id, key, timeout_at = a["job_id"], a["key"], a["timeout_at"]
            message = f"approval '{key}' timed out after {round(timeout_at - a['created_at'])}s"
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


_REAP_DUE = (
    "SELECT EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND lease_until < ?)"
    " OR EXISTS (SELECT 1 FROM jobs WHERE status = 'running' AND round_deadline < ?)"
    " OR EXISTS (SELECT 1 FROM approvals a JOIN jobs j ON j.id = a.job_id"
    " WHERE a.resolved_at IS NULL AND a.timeout_at <= ? AND j.status = 'suspended'"
    " AND j.suspended_key = a.key) AS due"
)
