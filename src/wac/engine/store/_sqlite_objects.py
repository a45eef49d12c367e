"""Workspace objects in the SQLite store: variables, resources, resource types, per-script state,
and the progress a job reports. Values are opaque JSON text here; secrets arrive encrypted."""

from __future__ import annotations

import sqlite3

from wac.engine.store._dialect import Dialect
from wac.engine.store._sqlite_rows import NamedRow
from wac.engine.store.base import OBJECT_KINDS, ObjectRecord

_COLUMNS = "kind, path, value, is_secret, resource_type, description, source, updated_at"


def _record(row: NamedRow) -> ObjectRecord:
    return ObjectRecord(kind=row["kind"], path=row["path"], value=row["value"], is_secret=bool(row["is_secret"]),
                        resource_type=row["resource_type"], description=row["description"], source=row["source"],
                        updated_at=row["updated_at"])


def _check_kind(kind: str) -> None:
    if kind not in OBJECT_KINDS:
        raise ValueError(f"unknown object kind {kind!r}")


class SqliteObjects:
    _pool: Dialect

    def now(self) -> float:
        raise NotImplementedError

    def secret_key(self) -> bytes | None:
        """None: the embedded store keeps no key; secrets are sealed with the user's key file."""
        return None

    def put_object(self, record: ObjectRecord) -> None:
        """Create or replace the object ``(record.kind, record.path)`` (one transaction)."""
        _check_kind(record.kind)

        def txn(conn: sqlite3.Connection) -> None:
            conn.execute(
                f"INSERT INTO objects ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (kind, path) DO UPDATE SET"
                " value = excluded.value, is_secret = excluded.is_secret, resource_type = excluded.resource_type,"
                " description = excluded.description, source = excluded.source, updated_at = excluded.updated_at",
                (record.kind, record.path, record.value, int(record.is_secret), record.resource_type,
                 record.description, record.source, self.now()),
            )

        self._pool.write(txn)

    def get_object(self, kind: str, path: str) -> ObjectRecord | None:
        _check_kind(kind)
        row = self._pool.read(lambda c: c.execute(
            f"SELECT {_COLUMNS} FROM objects WHERE kind = ? AND path = ?", (kind, path)).fetchone())
        return None if row is None else _record(row)

    def list_objects(self, kind: str) -> list[ObjectRecord]:
        """Every object of ``kind``, sorted by path."""
        _check_kind(kind)
        rows = self._pool.read(lambda c: c.execute(
            f"SELECT {_COLUMNS} FROM objects WHERE kind = ? ORDER BY path", (kind,)).fetchall())
        return [_record(r) for r in rows]

    def delete_object(self, kind: str, path: str) -> bool:
        _check_kind(kind)

        def txn(conn: sqlite3.Connection) -> bool:
            return conn.execute("DELETE FROM objects WHERE kind = ? AND path = ?", (kind, path)).rowcount > 0

        deleted: bool = self._pool.write(txn)
        return deleted

    def set_progress(self, job_id: str, progress: int) -> None:
        def txn(conn: sqlite3.Connection) -> None:
            conn.execute("INSERT INTO job_progress (job_id, progress) VALUES (?, ?)"
                         " ON CONFLICT (job_id) DO UPDATE SET progress = excluded.progress", (job_id, progress))

        self._pool.write(txn)

    def get_progress(self, job_id: str) -> int | None:
        row = self._pool.read(lambda c: c.execute(
            "SELECT progress FROM job_progress WHERE job_id = ?", (job_id,)).fetchone())
        return None if row is None else int(row["progress"])
