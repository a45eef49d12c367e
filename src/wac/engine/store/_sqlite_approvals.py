"""Approval secrets (their hashes only), approval forms and store settings in the SQLite store.

See :mod:`wac.engine.approvals` for what each secret may do."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from wac.engine.store._dialect import Dialect
from wac.engine.store._sqlite_rows import loads
from wac.engine.store.base import JsonValue, Token
from wac.errors import ArgsError, ConflictError, LostClaimError

ACTION_ALLOWS = {"page": (True, False), "resume": (True,), "cancel": (False,)}


@dataclass(frozen=True)
class ApprovalInfo:
    """One approval of a job, as the approval page and ``wac job get`` show it."""

    job_id: str
    key: str
    form: dict[str, JsonValue] | None  # {"form", "description", "skin"} given to wait_for_approval
    created_at: float
    timeout_at: float | None
    resolved_at: float | None


class SqliteApprovals:
    _pool: Dialect

    def now(self) -> float:
        raise NotImplementedError

    def add_approval_tokens(
        self, token: Token, key: str, rows: list[tuple[str, str]], approver: str | None
    ) -> None:
        """Keep the hashes of freshly issued URL secrets of approval ``key`` of the claimed job."""

        def txn(conn: sqlite3.Connection) -> None:
            held = conn.execute(
                "SELECT 1 FROM jobs WHERE id = ? AND status = 'running' AND attempt = ? AND worker_id = ?",
                (token.job_id, token.attempt, token.worker_id),
            ).fetchone()
            if held is None:
                raise LostClaimError(f"job {token.job_id} is no longer held by this round")
            now = self.now()
            conn.executemany(
                "INSERT INTO approval_tokens (job_id, key, hash, action, approver, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                [(token.job_id, key, h, action, approver, now) for h, action in rows],
            )

        self._pool.write(txn)

    def add_waiting_approval_tokens(self, job_id: str, key: str, rows: list[tuple[str, str]]) -> None:
        """Keep the hashes of URL secrets minted for the approval ``job_id`` waits on now
        (``wac job get``, the runs pages: whoever can read the store may hand out links)."""

        def txn(conn: sqlite3.Connection) -> None:
            row = conn.execute("SELECT status, suspended_key FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row["status"] != "suspended" or row["suspended_key"] != key:
                raise ConflictError(f"job {job_id} is not waiting for approval {key!r}")
            now = self.now()
            conn.executemany(
                "INSERT INTO approval_tokens (job_id, key, hash, action, approver, created_at)"
                " VALUES (?, ?, ?, ?, NULL, ?) ON CONFLICT DO NOTHING",
                [(job_id, key, h, action, now) for h, action in rows],
            )

        self._pool.write(txn)

    @staticmethod
    def _check_secret_txn(
        conn: sqlite3.Connection, job_id: str, key: str, secret_hash: str, approved: bool | None,
        approver: str | None,
    ) -> tuple[str, str | None]:
        """``(action, bound approver)`` of a secret, or ConflictError when it may not do this."""
        row = conn.execute(
            "SELECT action, approver FROM approval_tokens WHERE job_id = ? AND key = ? AND hash = ?",
            (job_id, key, secret_hash),
        ).fetchone()
        if row is None:
            raise ConflictError(
                f"the approval secret does not match approval {key!r} of job {job_id}",
                hint="use the URL get_resume_urls() made for this approval, whole",
            )
        action, bound = row["action"], row["approver"]
        if approved is not None and approved not in ACTION_ALLOWS.get(action, ()):
            raise ConflictError(
                f"this {action} link cannot {'approve' if approved else 'reject'} job {job_id}",
                hint="a resume link only approves and a cancel link only rejects; the approval page does both",
            )
        if bound is not None and approver is not None and approver != bound:
            raise ConflictError(
                f"this link is bound to approver {bound!r}, not {approver!r}",
                hint="the approver of a link made by get_resume_urls(approver=...) cannot be changed",
            )
        return str(action), bound

    def check_approval_secret(
        self, job_id: str, key: str, secret_hash: str, approver: str | None = None
    ) -> tuple[str, str | None]:
        """What a secret may do on approval ``key`` of ``job_id``: ``(action, bound approver)``."""
        out: tuple[str, str | None] = self._pool.read(
            lambda c: self._check_secret_txn(c, job_id, key, secret_hash, None, approver)
        )
        return out

    def get_approval(self, job_id: str, key: str) -> ApprovalInfo | None:
        def read(c: sqlite3.Connection) -> Any:
            return c.execute(
                "SELECT form, created_at, timeout_at, resolved_at FROM approvals WHERE job_id = ? AND key = ?",
                (job_id, key),
            ).fetchone()

        row = self._pool.read(read)
        if row is None:
            return None
        form = loads(row["form"]) if row["form"] else None
        return ApprovalInfo(job_id, key, form if isinstance(form, dict) else None, row["created_at"],
                            row["timeout_at"], row["resolved_at"])

    # ------------------------------------------------------------------ settings
    def get_setting(self, name: str) -> str | None:
        row = self._pool.read(lambda c: c.execute("SELECT value FROM settings WHERE name = ?", (name,)).fetchone())
        return None if row is None else str(row["value"])

    def set_setting(self, name: str, value: str | None) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            if value is None:
                conn.execute("DELETE FROM settings WHERE name = ?", (name,))
            else:
                conn.execute(
                    "INSERT INTO settings (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (name, value),
                )

        self._pool.write(txn)

    @staticmethod
    def _check_form_txn(conn: sqlite3.Connection, job_id: str, key: str, value: JsonValue) -> None:
        """ArgsError when an approving value does not fit the approval's form."""
        from wac.engine import approvalform

        row = conn.execute("SELECT form FROM approvals WHERE job_id = ? AND key = ?", (job_id, key)).fetchone()
        schema = approvalform.schema_of(loads(row["form"])) if row is not None and row["form"] else None
        if schema is None:
            return
        bad = approvalform.problems(schema, value)
        if bad:
            raise ArgsError(
                f"the value does not fit the form of approval {key!r}: " + "; ".join(bad),
                hint="pass --value as a JSON object with the form's fields (`wac job get` shows the form)",
            )
