"""Deployed scripts in the SQLite store: versions by content hash, heads, history, archive."""

from __future__ import annotations

import sqlite3
from typing import Any

from wac.engine.store._dialect import Dialect
from wac.engine.store._sqlite_rows import NamedRow, dumps, loads
from wac.engine.store.base import ScriptRecord

_COLUMNS = "path, hash, parent_hash, doc, created_at, created_by, deployment_message, archived"


def _record(row: NamedRow) -> ScriptRecord:
    return ScriptRecord(path=row["path"], hash=row["hash"], parent_hash=row["parent_hash"], doc=loads(row["doc"]),
                        created_at=row["created_at"], created_by=row["created_by"],
                        deployment_message=row["deployment_message"], archived=bool(row["archived"]))


class SqliteScripts:
    _pool: Dialect

    def now(self) -> float:
        raise NotImplementedError

    @staticmethod
    def _head_txn(conn: sqlite3.Connection, path: str) -> NamedRow | None:
        row: NamedRow | None = conn.execute(
            f"SELECT {_COLUMNS} FROM scripts WHERE path = ? AND archived = 0 ORDER BY seq DESC LIMIT 1", (path,)
        ).fetchone()
        return row

    def put_script(
        self, path: str, script_hash: str, doc: dict[str, Any], created_by: str = "",
        deployment_message: str | None = None,
    ) -> tuple[bool, str | None]:
        """Make ``doc`` the head of ``path``: ``(created, parent_hash)``. One transaction; no new
        version when the head already has this hash."""
        text = dumps(doc, "script")

        def txn(conn: sqlite3.Connection) -> tuple[bool, str | None]:
            head = self._head_txn(conn, path)
            if head is not None and head["hash"] == script_hash:
                return False, head["parent_hash"]
            parent = head["hash"] if head is not None else None
            conn.execute(
                "INSERT INTO scripts (path, hash, parent_hash, doc, created_at, created_by, deployment_message)"
                " VALUES (?,?,?,?,?,?,?)",
                (path, script_hash, parent, text, self.now(), created_by, deployment_message),
            )
            return True, parent

        result: tuple[bool, str | None] = self._pool.write(txn)
        return result

    def get_script(self, path: str, script_hash: str | None = None) -> ScriptRecord | None:
        """The head of ``path`` (or its newest version with ``script_hash``); None if none."""
        def read(conn: sqlite3.Connection) -> NamedRow | None:
            if script_hash is None:
                return self._head_txn(conn, path)
            row: NamedRow | None = conn.execute(
                f"SELECT {_COLUMNS} FROM scripts WHERE path = ? AND hash = ? ORDER BY seq DESC LIMIT 1",
                (path, script_hash),
            ).fetchone()
            return row

        row = self._pool.read(read)
        return None if row is None else _record(row)

    def list_scripts(self) -> list[ScriptRecord]:
        """The head of every path that has one, sorted by path."""
        rows = self._pool.read(lambda c: c.execute(
            f"SELECT {_COLUMNS} FROM scripts s WHERE archived = 0 AND seq ="
            " (SELECT MAX(seq) FROM scripts t WHERE t.path = s.path AND t.archived = 0) ORDER BY path"
        ).fetchall())
        return [_record(r) for r in rows]

    def script_history(self, path: str) -> list[ScriptRecord]:
        """Every version of ``path``, newest first (archived ones too)."""
        rows = self._pool.read(lambda c: c.execute(
            f"SELECT {_COLUMNS} FROM scripts WHERE path = ? ORDER BY seq DESC", (path,)
        ).fetchall())
        return [_record(r) for r in rows]

    def archive_script(self, path: str) -> int:
        """Archive every version of ``path``; returns how many were live."""
        def txn(conn: sqlite3.Connection) -> int:
            return int(conn.execute("UPDATE scripts SET archived = 1 WHERE path = ? AND archived = 0", (path,)).rowcount)

        count: int = self._pool.write(txn)
        return count

