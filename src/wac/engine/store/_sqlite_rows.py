"""Rows ↔ records for the SQLite store: JSON encoding, ids, failure markers, row mapping."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any

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


def next_id(conn: sqlite3.Connection, now: float, count: int = 1) -> list[str]:
    """``count`` new job ids: 14 hex chars, milliseconds then a 12-bit counter.

    Called under the write lock, so taking ``max(newest id + 1, clock)`` makes ids unique and
    sortable in creation order even across processes and clock hiccups.
    """
    row = conn.execute("SELECT id FROM jobs ORDER BY seq DESC LIMIT 1").fetchone()
    base = max(int(now * 1000) << 12, int(row[0], 16) + 1 if row else 0)
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


def row_to_job(row: sqlite3.Row | tuple[Any, ...]) -> Job:
    return Job(
        id=row[1],
        root_id=row[2],
        parent_id=row[3],
        parent_key=row[4],
        status=row[5],
        bundle_hash=row[6],
        entry=row[7],
        script_path=row[8],
        name=row[9],
        args=_loads(row[10]),
        executing_key=row[11],
        options=TaskOptions.from_json(_loads(row[12])),
        attempt=row[13],
        rounds=row[14],
        pending=row[15],
        created_at=row[16],
        started_at=row[17],
        finished_at=row[18],
        scheduled_at=row[19],
        result=loads(row[20]),
        error=loads(row[21]),
        worker_id=row[22],
        cancel_requested=bool(row[23]),
        preview=bool(row[24]),
        suspended_key=row[25],
    )


_STEP_FIELDS = ("key", "kind", "seq", "done", "value", "child_job_id", "started_at", "finished_at", "failed")


def row_to_step(row: tuple[Any, ...]) -> Step:
    """A Step from a STEP_COLUMNS row.

    A child's claim decodes every step of its parent, so this is on the claim path: it fills
    the frozen dataclass's ``__dict__`` directly (its generated ``__init__`` costs ~3x more).
    """
    value = row[4]
    step: Step = object.__new__(Step)
    step.__dict__.update(zip(_STEP_FIELDS, (
        row[0], row[1], row[2], row[3] == 1, None if value is None else _loads(value),
        row[5], row[6], row[7], row[8] == 1,
    ), strict=True))
    return step


# Indexes into a JOB_COLUMNS row, for the store's own logic.
J_SEQ, J_ID, J_ROOT, J_PARENT, J_PKEY, J_STATUS, J_BUNDLE, J_ENTRY, J_PATH, J_NAME = range(10)
J_ARGS, J_EXEC, J_OPTIONS, J_ATTEMPT = 10, 11, 12, 13
J_CANCEL_REQ, J_TAG, J_PRIORITY = 23, 26, 27
J_CONC_KEY, J_CONC_LIMIT, J_CONC_WINDOW, J_CACHE_KEY, J_CACHE_TTL, J_LOST = 28, 29, 30, 31, 32, 33
J_LEASE, J_CANCEL_REASON, J_ROUND_DEADLINE = 34, 35, 36
