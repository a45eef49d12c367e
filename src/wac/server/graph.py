"""A run as the run page draws it: every job of the run, each job's steps, and its approvals.

JSON columns of the store (args, result, step values) are passed on as their stored text, clipped
to :data:`CLIP` characters; the page parses them when it shows them. That keeps the page of a
run with 1,000 tasks well under 100 ms."""

from __future__ import annotations

import json
from typing import Any

CLIP = 4000
_VALUE_KINDS = ("step", "approval")


def _text(raw: str | None) -> str | None:
    if raw is None or len(raw) <= CLIP:
        return raw
    return raw[:CLIP] + "…"


def run_graph(store: Any, root_id: str, now: float) -> dict[str, Any] | None:
    """The run's JSON for the page, or None when there is no such run."""
    jobs, steps, approvals = store.run_tree(root_id)
    if not jobs:
        return None
    out_jobs = {}
    for (jid, name, script, entry, status, parent, parent_key, rounds, created, started, finished, scheduled,
         args, result, error, bundle, waiting_on, cancel) in jobs:
        out_jobs[jid] = {
            "id": jid, "name": name, "script": script or entry, "status": status, "parent": parent,
            "parent_key": parent_key, "rounds": rounds, "created": created, "started": started,
            "finished": finished, "scheduled": scheduled, "args": _text(args), "result": _text(result),
            "error": json.loads(error) if error else None, "version": bundle[:12], "waiting_on": waiting_on,
            "cancel_requested": bool(cancel),
        }
    out_steps: dict[str, list[dict[str, Any]]] = {}
    for job_id, key, kind, seq, done, failed, child, started, finished, value in steps:
        doc = {"key": key, "kind": kind, "seq": seq, "done": bool(done), "failed": bool(failed), "child": child,
               "started": started, "finished": finished}
        if kind in _VALUE_KINDS or failed:
            doc["value"] = _text(value)
        out_steps.setdefault(job_id, []).append(doc)
    out_approvals = {f"{job_id}/{key}": {"form": json.loads(form) if form else None, "timeout_at": timeout_at,
                                         "resolved_at": resolved_at}
                     for job_id, key, form, timeout_at, resolved_at in approvals}
    return {"root": root_id, "now": now, "jobs": out_jobs, "steps": out_steps, "approvals": out_approvals}
