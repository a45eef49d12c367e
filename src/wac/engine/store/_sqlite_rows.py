"""Rows ↔ records for the store (both dialects): JSON encoding, ids, failure markers, row mapping.

The store reads every result row by column name (``row["status"]``), never by position: a
dialect's rows are :class:`NamedRow` (``sqlite3.Row`` for SQLite, :class:`~._pg_sql.PgRow` for
PostgreSQL), so a query's column list can change without shifting the code that reads it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any, Protocol

from wac.engine.store.base import Job, JsonValue, Step, TaskOptions
from wac.errors import StoreError

JOB_COLUMNS = (
    "seq, id, root_id, parent_id, parent_key, status, bundle_hash, entry, script_path, name, args,"
    " executing_key, options, attempt, rounds, pending, created_at, started_at, finished_at,"
    " scheduled_at, result, error, worker_id, cancel_requested, preview, suspended_key, tag,"
    " priority, conc_key, conc_limit, conc_window, cache_key, cache_ttl, lost_count, lease_until,"
    " cancel_reason, round_deadline"
)
STEP_COLUMNS = "key, kind, seq, done, value, child_job_id, started_at, finished_at, failed"


class NamedRow(Protocol):
    """A result row read by column name: ``row["status"]`` (names as the query spells them, in
    lower case; an expression needs an ``AS`` alias). Iterating gives the values in order."""

    def __getitem__(self, key: str) -> Any: ...

    def __iter__(self) -> Iterator[Any]: ...

    def keys(self) -> list[str]: ...

# ensure_ascii: a lone surrogate (e.g. an undecodable file name) survives as an escape instead
# of failing SQLite's UTF-8 encoding.
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_loads = json.loads


def dumps(value: JsonValue, what: str = "value") -> str:
    try:
        return _dumps(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"the {what} cannot be stored: it is not JSON ({exc})",
            hint="return JSON values (dict, list, str, int, float, bool, None) from tasks",
        ) from exc


def loads(text: str | None) -> JsonValue:
    return None if text is None else _loads(text)


def canonical(value: JsonValue) -> str:
    """Canonical JSON (sorted keys) for cache keys."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def cache_key(bundle_hash: str, entry: str, name: str, args: JsonValue) -> str:
    text = canonical([bundle_hash, entry, name, args])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def next_id(conn: Any, now: float, count: int = 1) -> list[str]:
    """``count`` new job ids: 14 hex chars, milliseconds then a 12-bit counter.

    Called under the write lock, so taking ``max(newest id + 1, clock)`` makes ids unique and
    sortable in creation order even across processes and clock hiccups.
    """
    row = conn.execute("SELECT id FROM jobs ORDER BY seq DESC LIMIT 1").fetchone()
    base = max(int(now * 1000) << 12, int(row["id"], 16) + 1 if row else 0)
    return [f"{base + i:014x}" for i in range(count)]


def failure_marker(
    error: dict[str, JsonValue], step_key: str, child_job_id: str | None
) -> dict[str, JsonValue]:
    """The value a failed child (or timed-out approval) leaves under its key in the parent."""
    marker: dict[str, JsonValue] = {
        "__wmill_error": True,
        "message": error.get("message", ""),
        "step_key": step_key,
    }
    if child_job_id is not None:
        marker["child_job_id"] = child_job_id
    marker["result"] = {"error": error}
    return marker


def normalise_error(error: dict[str, JsonValue] | None) -> dict[str, JsonValue]:
    """Make sure an error record has a name and a message (the marker needs both)."""
    err: dict[str, Any] = dict(error or {})
    err.setdefault("name", "Error")
    err["message"] = str(err.get("message") or err["name"])
    return err


def row_to_job(row: NamedRow) -> Job:
    return Job(
        id=row["id"],
        root_id=row["root_id"],
        parent_id=row["parent_id"],
        parent_key=row["parent_key"],
        status=row["status"],
        bundle_hash=row["bundle_hash"],
        entry=row["entry"],
        script_path=row["script_path"],
        name=row["name"],
        args=_loads(row["args"]),
        executing_key=row["executing_key"],
        options=TaskOptions.from_json(_loads(row["options"])),
        attempt=row["attempt"],
        rounds=row["rounds"],
        pending=row["pending"],
        created_at=row["created_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        scheduled_at=row["scheduled_at"],
        result=loads(row["result"]),
        error=loads(row["error"]),
        worker_id=row["worker_id"],
        cancel_requested=bool(row["cancel_requested"]),
        preview=bool(row["preview"]),
        suspended_key=row["suspended_key"],
    )


def row_to_step(row: NamedRow) -> Step:
    """A Step from a STEP_COLUMNS row.

    A child's claim decodes every step of its parent, so this is on the claim path: it fills
    the frozen dataclass's ``__dict__`` directly (its generated ``__init__`` costs ~3x more).
    """
    value = row["value"]
    step: Step = object.__new__(Step)
    step.__dict__.update(
        key=row["key"], kind=row["kind"], seq=row["seq"], done=row["done"] == 1,
        value=None if value is None else _loads(value), child_job_id=row["child_job_id"],
        started_at=row["started_at"], finished_at=row["finished_at"], failed=row["failed"] == 1,
    )
    return step
