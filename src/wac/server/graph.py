"""A run as the run page draws it: every job of the run, each job's steps, and its approvals."""

from __future__ import annotations

import json
from typing import Any

from wac.engine.store.base import Job, Step

_STEP_VALUE_KINDS = ("step", "approval")
_CLIP = 2000


def _clip(value: Any) -> Any:
    text = json.dumps(value, default=str)
    return value if len(text) <= _CLIP else text[:_CLIP] + "…"


def job_doc(job: Job) -> dict[str, Any]:
    return {
        "id": job.id, "name": job.name, "script": job.script_path or job.entry, "status": job.status,
        "parent": job.parent_id, "parent_key": job.parent_key, "attempt": job.attempt,
        "rounds": job.rounds, "created": job.created_at, "started": job.started_at,
        "finished": job.finished_at, "scheduled": job.scheduled_at, "args": _clip(job.args),
        "result": _clip(job.result), "error": job.error, "version": job.bundle_hash[:12],
        "waiting_on": job.suspended_key, "cancel_requested": job.cancel_requested,
    }


def step_doc(step: Step) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "key": step.key, "kind": step.kind, "seq": step.seq, "done": step.done, "failed": step.failed,
        "child": step.child_job_id, "started": step.started_at, "finished": step.finished_at,
    }
    if step.kind in _STEP_VALUE_KINDS or step.failed:
        doc["value"] = _clip(step.value)
    return doc


def run_graph(store: Any, root_id: str, now: float) -> dict[str, Any] | None:
    """The run's JSON for the page, or None when there is no such run."""
    jobs, steps, approvals = store.run_tree(root_id)
    if not jobs:
        return None
    out_approvals = {}
    for where, (form, timeout_at, resolved_at) in approvals.items():
        out_approvals[where] = {"form": json.loads(form) if form else None, "timeout_at": timeout_at,
                                "resolved_at": resolved_at}
    return {
        "root": root_id, "now": now,
        "jobs": {j.id: job_doc(j) for j in jobs},
        "steps": {job_id: [step_doc(s) for s in ss] for job_id, ss in steps.items()},
        "approvals": out_approvals,
    }
