"""The JSON documents the fake Windmill answers with: full objects (contract §10: a fake should
answer everything the spec requires, so the client is tested against the real shape)."""

from __future__ import annotations

from typing import Any

# NewScript keys that configure a run (contract §3.1), as the fake stores and exports them.
OPTION_KEYS = (
    "tag", "timeout", "priority", "cache_ttl", "concurrent_limit", "concurrency_key",
    "concurrency_time_window_s", "dedicated_worker", "envs", "restart_unless_cancelled",
    "delete_after_secs", "ws_error_handler_muted", "visible_to_runner_only", "labels",
)
_COMPARED = ("content", "summary", "description", "schema", "kind", "language", "has_preprocessor", *OPTION_KEYS)


def script_doc(workspace: str, body: dict[str, Any], script_hash: str, parents: list[str],
               created_at: str) -> dict[str, Any]:
    """The ``Script`` the server holds after ``scripts/create`` with ``body``."""
    doc: dict[str, Any] = {
        "workspace_id": workspace, "hash": script_hash, "path": body["path"], "parent_hashes": parents,
        "summary": body["summary"], "description": body.get("description", ""), "content": body["content"],
        "created_by": "admin", "created_at": created_at, "archived": False, "schema": body.get("schema"),
        "deleted": False, "is_template": bool(body.get("is_template")), "extra_perms": {},
        # python3 with an empty lock: the server would queue a dependencies job; the fake keeps none
        "lock": body.get("lock") or None, "lock_error_logs": None, "language": body["language"],
        "kind": body.get("kind", "script"), "starred": False, "draft_only": False,
        "has_preprocessor": bool(body.get("has_preprocessor")), "modules": body.get("modules"),
        "deployment_msg": body.get("deployment_message"),
    }
    for key in OPTION_KEYS:
        doc[key] = body.get(key)
    return doc


def export_script_json(doc: dict[str, Any]) -> dict[str, Any]:
    """``{path}.script.json`` of the workspace export (contract §7): set keys only."""
    out: dict[str, Any] = {"summary": doc["summary"], "description": doc["description"], "schema": doc["schema"],
                           "lock": doc["lock"], "kind": doc["kind"]}
    for key in OPTION_KEYS:
        if doc.get(key) is not None:
            out[key] = doc[key]
    if doc.get("has_preprocessor"):
        out["has_preprocessor"] = True
    if doc.get("modules"):
        out["modules"] = doc["modules"]
    return out


def _norm(doc: dict[str, Any], key: str) -> Any:
    value = doc.get(key)
    if value is None or value is False or value == "" or value == [] or value == {}:
        return None
    return value


def _modules(value: Any) -> dict[str, tuple[str, str, str]]:
    return {k: (m["content"], m["language"], m.get("lock") or "") for k, m in (value or {}).items()}


def same_script(parent: dict[str, Any], body: dict[str, Any]) -> bool:
    """``skip_if_noop``: the new body equals its parent (content, lock, metadata, modules)."""
    return (all(_norm(parent, k) == _norm(body, k) for k in _COMPARED)
            and (parent.get("lock") or "") == (body.get("lock") or "")
            and _modules(parent.get("modules")) == _modules(body.get("modules")))


def _common(workspace: str, job: dict[str, Any]) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "workspace_id": workspace, "id": job["id"], "created_by": "admin", "created_at": job["created_at"],
        "started_at": job["started_at"], "script_path": job["path"], "script_hash": job["hash"],
        "args": job["args"], "logs": job["logs"], "canceled": bool(job.get("canceled")),
        "canceled_by": job.get("canceled_by"), "canceled_reason": job.get("canceled_reason"),
        "job_kind": job["kind"], "permissioned_as": "u/admin", "is_flow_step": False, "language": "python3",
        "email": "admin@windmill.dev", "visible_to_owner": True, "tag": "python3", "priority": None,
        "worker": "wk-fake-1" if job["started_at"] else None,
    }
    if job["parent"]:
        doc["parent_job"] = job["parent"]
    if job["args"].get("tasks"):
        doc["workflow_as_code_status"] = {
            name: {"name": name, "started_at": job["started_at"] or job["created_at"], "duration_ms": 5}
            for name in job["args"]["tasks"]
        }
    return doc


def queued_job_doc(workspace: str, job: dict[str, Any]) -> dict[str, Any]:
    doc = _common(workspace, job)
    doc.update(running=job["state"] == "running", scheduled_for=job["created_at"], suspend=job["suspend"],
               last_ping=job["started_at"])
    return doc


def completed_job_doc(workspace: str, job: dict[str, Any]) -> dict[str, Any]:
    doc = _common(workspace, job)
    started = job["started_at"] or job["completed_at"]
    doc.update(started_at=started, completed_at=job["completed_at"], duration_ms=5, success=job["success"],
               result=job["result"], deleted=False, is_skipped=False)
    return doc
