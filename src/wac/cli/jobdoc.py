"""A job as the CLI shows it: its JSON document (``--json``) and its log text."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wac.cli.output import rfc3339
from wac.engine.store.base import Job

if TYPE_CHECKING:
    from wac.engine.backend import Backend


def job_document(job: Job) -> dict[str, Any]:
    duration = None
    if job.started_at is not None and job.finished_at is not None:
        duration = round((job.finished_at - job.started_at) * 1000, 1)
    return {
        "id": job.id,
        "script_path": job.script_path,
        "status": job.status,
        "args": job.args,
        "result": job.result,
        "error": job.error,
        "created_at": rfc3339(job.created_at),
        "started_at": rfc3339(job.started_at),
        "finished_at": rfc3339(job.finished_at),
        "duration_ms": duration,
        "rounds": job.rounds,
        "parent_id": job.parent_id,
        "suspended_key": job.suspended_key,
    }


def shown_status(backend: Backend, job: Job, now: float | None = None) -> str:
    """The state people see: the store's, except that a queued job parked by ``sleep()`` until
    later is ``sleeping`` (the store keeps it ``queued`` with a future ``scheduled_at``)."""
    if job.status != "queued":
        return job.status
    now = backend.now() if now is None else now
    if job.scheduled_at <= now:
        return job.status
    try:
        entries = backend.timeline(job.id)
    except Exception:  # a backend without a timeline (or a job gone meanwhile): the store's word
        return job.status
    last = entries[-1] if entries else None
    if last is not None and last.kind == "sleep" and last.finished_at is not None and last.finished_at > now:
        return "sleeping"
    return job.status


def failure_line(status: str, name: str, message: str) -> str:
    """``failed: ValueError: boom``; a part the next one already starts with is said once
    (``cancelled: cancelled by user``, not ``cancelled: Cancelled: cancelled: cancelled by user``)."""
    kept: list[str] = []
    for part in (status, name, message):
        if not part or any(part.lower() == k.lower() for k in kept):
            continue
        kept = [k for k in kept if not part.lower().startswith(k.lower() + ":")]
        kept.append(part)
    return ": ".join(kept)
