"""A job as the CLI shows it: its JSON document (``--json``) and its log text."""

from __future__ import annotations

from typing import Any

from wac.engine.store.base import Job


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
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "duration_ms": duration,
        "rounds": job.rounds,
        "parent_id": job.parent_id,
        "suspended_key": job.suspended_key,
    }
