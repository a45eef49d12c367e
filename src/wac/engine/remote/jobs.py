"""Windmill's job JSON (``QueuedJob`` / ``CompletedJob``, contract §5.2) as the engine's :class:`Job`.

=================================================  ===========
QueuedJob, ``running``                             running
QueuedJob, ``suspend`` > 0 (resume events awaited)  suspended
QueuedJob, otherwise                               queued
CompletedJob, ``success``                          succeeded
CompletedJob, ``canceled``                         cancelled
CompletedJob, otherwise                            failed
=================================================  ===========

A failed job's result is ``{"error": {name, message, stack?}}``: it becomes ``Job.error``.
"""

from __future__ import annotations

from typing import Any

from wac.engine.store.base import Job, TaskOptions, TimelineEntry
from wac.timeformat import timestamp

JsonValue = Any

_PREVIEW_KINDS = frozenset({"preview", "flowpreview"})


def _is_completed(doc: dict[str, JsonValue], kind: str | None) -> bool:
    kind = kind or doc.get("type")
    if kind in ("CompletedJob", "QueuedJob"):
        return kind == "CompletedJob"
    return "success" in doc and "running" not in doc


def status_of(doc: dict[str, JsonValue], kind: str | None = None) -> str:
    if _is_completed(doc, kind):
        if doc.get("success"):
            return "succeeded"
        return "cancelled" if doc.get("canceled") else "failed"
    if doc.get("running"):
        return "running"
    suspend = doc.get("suspend")
    if isinstance(suspend, (int, float)) and suspend > 0:
        return "suspended"
    return "queued"


def _error_of(doc: dict[str, JsonValue], status: str) -> dict[str, JsonValue] | None:
    if status not in ("failed", "cancelled"):
        return None
    result = doc.get("result")
    if isinstance(result, dict) and isinstance(result.get("error"), dict):
        err = dict(result["error"])
        err.setdefault("name", "Error")
        err["message"] = str(err.get("message") or "")
        return err
    if status == "cancelled":
        reason = doc.get("canceled_reason") or "cancelled"
        by = doc.get("canceled_by")
        return {"name": "Canceled", "message": f"{reason} (by {by})" if by else str(reason)}
    return {"name": "Error", "message": "" if result is None else str(result)}


def _options(doc: dict[str, JsonValue]) -> TaskOptions:
    priority = doc.get("priority")
    return TaskOptions(tag=doc.get("tag") or None, priority=priority if isinstance(priority, int) else 0)


def job_from_json(doc: dict[str, JsonValue], kind: str | None = None) -> Job:
    """One Windmill job; ``kind`` ("QueuedJob"/"CompletedJob") when the list it came from says it."""
    status = status_of(doc, kind)
    job_id = str(doc.get("id") or "")
    parent = doc.get("parent_job") or None
    path = str(doc.get("script_path") or "")
    created = timestamp(doc.get("created_at"))
    started = timestamp(doc.get("started_at"))
    finished: float | None = None
    if status in ("succeeded", "failed", "cancelled"):
        finished = timestamp(doc.get("completed_at"))
        duration = doc.get("duration_ms")
        if finished is None and started is not None and isinstance(duration, (int, float)):
            finished = started + duration / 1000.0
        if finished is None:
            finished = started or created
    created = created if created is not None else (started or 0.0)
    scheduled = timestamp(doc.get("scheduled_for"))
    error = _error_of(doc, status)
    args = doc.get("args")
    return Job(
        id=job_id,
        root_id=str(doc.get("root_job") or parent or job_id),
        parent_id=str(parent) if parent else None,
        parent_key=None,
        status=status,
        bundle_hash=str(doc.get("script_hash") or ""),
        entry=path,
        script_path=path,
        name=path.rsplit("/", 1)[-1] if path else str(doc.get("job_kind") or "job"),
        args=args if isinstance(args, dict) else {},
        executing_key=None,
        options=_options(doc),
        attempt=1,
        rounds=1,
        pending=0,
        created_at=created,
        started_at=started,
        finished_at=finished,
        scheduled_at=scheduled if scheduled is not None else created,
        result=doc.get("result") if status == "succeeded" else None,
        error=error,
        worker_id=doc.get("worker") or None,
        cancel_requested=bool(doc.get("canceled")) and status not in ("succeeded", "failed", "cancelled"),
        preview=doc.get("job_kind") in _PREVIEW_KINDS,
        suspended_key=None,
    )


def _entry(key: str, status: dict[str, JsonValue]) -> TimelineEntry:
    started = timestamp(status.get("started_at"))
    duration = status.get("duration_ms")
    finished = started + duration / 1000.0 if started is not None and isinstance(duration, (int, float)) else None
    state = "done" if finished is not None else "running" if started is not None else "waiting"
    return TimelineEntry(key=str(status.get("name") or key), kind="task", status=state, started_at=started,
                         finished_at=finished)


def timeline_from_json(doc: dict[str, JsonValue]) -> list[TimelineEntry]:
    """The tasks of a workflow-as-code job from its ``workflow_as_code_status``, in start order.

    The spec types it as one ``WorkflowStatus {scheduled_for?, started_at?, duration_ms?, name?}``
    or a map of them; anything else yields no entries (it is opaque JSON to us).
    """
    status = doc.get("workflow_as_code_status")
    if not isinstance(status, dict) or not status:
        return []
    if any(k in status for k in ("started_at", "duration_ms", "scheduled_for", "name")) and not all(
            isinstance(v, dict) for v in status.values()):
        return [_entry("workflow", status)]
    entries = [_entry(str(key), value) for key, value in status.items() if isinstance(value, dict)]
    return sorted(entries, key=lambda e: (e.started_at is None, e.started_at or 0.0))
