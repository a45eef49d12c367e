"""The wmill client calls of a job, answered by the engine from inside its round process.

A round already opens the store to commit ``step()`` values (fenced by its claim token); client
calls use the same store the same way, each call one transaction. Reads see the repo's own
object files first in a preview (``repo_root`` in the round's spec), then the workspace.
Stdlib only (plus PyYAML for the repo's files).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from wac.engine.objects import Objects
from wac.engine.rounds.spec import RoundSpec
from wac.engine.store.base import JobSpec, Store, TaskOptions

STATE_FLOW_PREFIX = "__flow_user_state__/"


class RoundClient:
    """What ``wmill.get_variable()`` & co. call, for the job the round runs."""

    def __init__(self, spec: RoundSpec, store: Store) -> None:
        self.spec = spec
        self.store = store
        self._workspace_backend: Any = None
        self.objects = Objects(store, self._overlay if spec.repo_root or spec.objects_workspace else None,
                               reader=spec.script_path or "")

    def _overlay(self, kind: str, path: str) -> Any:
        """A preview reads the repo's own files first, then the current workspace (if not the store's)."""
        root = self.spec.repo_root
        if root:
            from wac.project.objectfiles import read_repo_object

            found = read_repo_object(Path(root), kind, path)
            if found is not None:
                return found
        name = self.spec.objects_workspace
        if not name:
            return None
        from wac.errors import ObjectNotFoundError

        if self._workspace_backend is None:
            from wac.engine.backend import open_backend
            from wac.workspaces import get_workspace

            self._workspace_backend = open_backend(get_workspace(name), Path(root) if root else None)
        try:
            return self._workspace_backend.get_object(kind, path, reveal=True)
        except ObjectNotFoundError:
            return None

    # ---- context
    @property
    def workspace(self) -> str:
        return self.spec.workspace or "local"

    @property
    def job_id(self) -> str:
        return self.spec.job_id

    @property
    def root_job_id(self) -> str:
        return self.spec.root_id or self.spec.job_id

    @property
    def state_path(self) -> str:
        return self.spec.script_path or ""

    # ---- variables and resources
    def get_variable(self, path: str) -> str:
        return self.objects.variable(path)

    def set_variable(self, path: str, value: str, is_secret: bool) -> None:
        from wac.project.objectfiles import ObjectFile

        old = self.store.get_object("variable", path)
        secret = is_secret or (old is not None and old.is_secret)  # never downgrades a secret
        self.objects.put(ObjectFile("variable", path, str(value), old.description if old else "", secret))

    def get_resource(self, path: str, none_if_undefined: bool, interpolated: bool) -> Any:
        from wac.errors import ObjectNotFoundError

        try:
            if interpolated:
                return self.objects.resource(path)
            found = self.objects.get("resource", path)
            if found is None:
                raise ObjectNotFoundError(f"resource {path} not found in the workspace")
            return found.value
        except ObjectNotFoundError:
            if none_if_undefined:
                return None
            raise

    def set_resource(self, path: str, value: Any, resource_type: str) -> None:
        from wac.project.objectfiles import ObjectFile

        old = self.store.get_object("resource", path)
        rtype = resource_type if old is None or resource_type != "any" else (old.resource_type or "any")
        self.objects.put(ObjectFile("resource", path, value, old.description if old else "", False, rtype))

    def list_resources(self, resource_type: str | None) -> list[dict[str, Any]]:
        return [{"path": r.path, "resource_type": r.resource_type, "description": r.description}
                for r in self.objects.list("resource") if resource_type in (None, r.resource_type)]

    def resolve_args(self, args: dict[str, Any]) -> dict[str, Any]:
        """Top-level ``"$var:…"``/``"$res:…"`` argument values, resolved as Windmill's runner does."""
        return {k: self.objects.resolve(v) if isinstance(v, str) else v for k, v in args.items()}

    # ---- state
    def get_state(self, path: str | None) -> Any:
        import json

        record = self.store.get_object("state", path or self.state_path)
        return None if record is None else json.loads(record.value)

    def set_state(self, value: Any, path: str | None) -> None:
        import json

        from wac.engine.store.base import ObjectRecord

        self.store.put_object(ObjectRecord("state", path or self.state_path, json.dumps(value), resource_type="state"))

    def get_flow_user_state(self, key: str) -> Any:
        return self.get_state(f"{STATE_FLOW_PREFIX}{self.root_job_id}/{key}")

    def set_flow_user_state(self, key: str, value: Any) -> None:
        self.set_state(value, f"{STATE_FLOW_PREFIX}{self.root_job_id}/{key}")

    # ---- jobs
    def run_async(self, path: str | None, hash_: str | None, args: dict[str, Any] | None, tag: str | None) -> str:
        """Submit a run of a deployed script (its head, or the version ``hash_``); the new job is
        a root job of its own, as a Windmill job run from a script is.

        Its code is pinned now; its environment (a lock to resolve, maybe) by the worker that
        starts it: this round may run on an environment's Python, without uv or the parser."""
        from wac.engine.deployed import deployed_bundle

        if hash_:
            bundle, record = deployed_bundle(self.store, self._path_of_hash(hash_), hash_, defer=True)
        else:
            bundle, record = deployed_bundle(self.store, str(path), defer=True)
        options = TaskOptions.from_windmill(record.doc.get("options") or {})
        if tag:
            from dataclasses import replace

            options = replace(options, tag=tag)
        return self.store.submit(JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=dict(args or {}),
                                         script_path=record.path, options=options))

    def _path_of_hash(self, hash_: str) -> str:
        from wac.errors import NotDeployedError

        for head in self.store.list_scripts():
            if any(v.hash == hash_ for v in self.store.script_history(head.path)):
                return head.path
        raise NotDeployedError(f"no deployed version {hash_} in workspace '{self.workspace}'")

    def wait(self, job_id: str, timeout: float | None) -> Any:
        """Wait for the job's end; its result, or a TaskError with its error."""
        from wac.engine.store.base import TERMINAL
        from wac.sdk import TaskError

        if self.spec.slots == 1:
            from wac.errors import WacError

            raise WacError("a script waiting for another job's result needs a free worker slot; this worker has one",
                           hint="run with --workers 2 or more, or use run_script_by_path_async and poll get_job_status")
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = 60.0 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"job {job_id} did not finish within {timeout:g}s")
            job = self.store.wait_for_result(job_id, min(left, 60.0))
            if job.status in TERMINAL:
                break
        if job.status != "succeeded":
            err = job.error or {}
            raise TaskError(f"job {job_id} ({job.script_path}) {job.status}: {err.get('message', '')}".rstrip(": "),
                            child_job_id=job_id, result={"error": err})
        return job.result

    def job_status(self, job_id: str) -> str:
        from wac.engine.store.base import TERMINAL

        job = self.store.get_job(job_id)
        if job.status in TERMINAL:
            return "COMPLETED"
        return "RUNNING" if job.status in ("running", "waiting", "suspended") else "WAITING"

    def result(self, job_id: str, assert_not_none: bool) -> Any:
        from wac.engine.store.base import TERMINAL
        from wac.sdk import TaskError

        job = self.store.get_job(job_id)
        if job.status not in TERMINAL:
            raise TaskError(f"job {job_id} is not finished ({job.status})", child_job_id=job_id)
        if job.status != "succeeded":
            return {"error": job.error or {}}
        if assert_not_none and job.result is None:
            raise TaskError(f"result is None for job {job_id}", child_job_id=job_id)
        return job.result

    def root_of(self, job_id: str | None) -> str:
        if not job_id or job_id == self.job_id:
            return self.root_job_id
        return self.store.get_job(job_id).root_id

    def set_progress(self, value: int, job_id: str | None) -> None:
        self.store.set_progress(job_id or self.job_id, max(0, min(100, int(value))))

    def get_progress(self, job_id: str | None) -> int | None:
        return self.store.get_progress(job_id or self.job_id)
