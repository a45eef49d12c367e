"""Workspace items (flows, apps, schedules, ...) in the SQLite store: versions, heads, archive."""

from __future__ import annotations

import sqlite3
from typing import Any

from wac.engine.items import ItemRecord
from wac.engine.store._dialect import Dialect
from wac.engine.store._sqlite_rows import NamedRow, dumps, loads

_COLUMNS = "kind, path, hash, parent_hash, doc, created_at, created_by, archived"


def _record(row: NamedRow) -> ItemRecord:
    return ItemRecord(kind=row["kind"], path=row["path"], hash=row["hash"], parent_hash=row["parent_hash"],
                      doc=loads(row["doc"]), created_at=row["created_at"], created_by=row["created_by"],
                      archived=bool(row["archived"]))


class SqliteItems:
    _pool: Dialect

    def now(self) -> float:
        raise NotImplementedError

    @staticmethod
    def _item_head_txn(conn: sqlite3.Connection, kind: str, path: str) -> NamedRow | None:
        row: NamedRow | None = conn.execute(
            f"SELECT {_COLUMNS} FROM items WHERE kind = ? AND path = ? AND archived = 0 ORDER BY seq DESC LIMIT 1",
            (kind, path),
        ).fetchone()
        return row

    def put_item(self, kind: str, path: str, item_hash: str, doc: dict[str, Any],
                 created_by: str = "") -> tuple[bool, str | None]:
        """Make ``doc`` the head of ``(kind, path)``: ``(created, parent_hash)``; one transaction."""
        text = dumps(doc, "item")

        def txn(conn: sqlite3.Connection) -> tuple[bool, str | None]:
            head = self._item_head_txn(conn, kind, path)
            if head is not None and head["hash"] == item_hash:
                return False, head["parent_hash"]
            parent = head["hash"] if head is not None else None
            conn.execute(
                "INSERT INTO items (kind, path, hash, parent_hash, doc, created_at, created_by) VALUES (?,?,?,?,?,?,?)",
                (kind, path, item_hash, parent, text, self.now(), created_by),
            )
            return True, parent

        result: tuple[bool, str | None] = self._pool.write(txn)
        return result

    def get_item(self, kind: str, path: str) -> ItemRecord | None:
        """The head of ``(kind, path)``, None when there is none."""
        row = self._pool.read(lambda c: self._item_head_txn(c, kind, path))
        return None if row is None else _record(row)

    def list_items(self, kind: str | None = None) -> list[ItemRecord]:
        """The head of every live item (of ``kind``), sorted by kind then path."""
        where = "AND s.kind = ?" if kind else ""
        params: tuple[str, ...] = (kind,) if kind else ()
        rows = self._pool.read(lambda c: c.execute(
            f"SELECT {_COLUMNS} FROM items s WHERE archived = 0 {where} AND seq = (SELECT MAX(seq) FROM items t"
            " WHERE t.kind = s.kind AND t.path = s.path AND t.archived = 0) ORDER BY kind, path", params
        ).fetchall())
        return [_record(r) for r in rows]

    def archive_item(self, kind: str, path: str) -> int:
        """Archive every version of ``(kind, path)``; returns how many were live."""
        def txn(conn: sqlite3.Connection) -> int:
            return int(conn.execute("UPDATE items SET archived = 1 WHERE kind = ? AND path = ? AND archived = 0",
                                    (kind, path)).rowcount)

        count: int = self._pool.write(txn)
        return count
