"""A Windmill server as a wac :class:`~wac.engine.backend.Backend`, over its HTTP API.

The calls are those of ``shared/spec/windmill-api/contract.md`` §11 (the CLI's own, §8 of
``wmill-cli.md``):

==========================  =========================================================================
deploy                      ``GET scripts/get/p/{path}`` then, unless identical,
                            ``POST scripts/create?skip_if_noop=true``
get_script                  ``GET scripts/get/p/{path}`` or ``scripts/get/h/{hash}``
list_scripts                ``GET scripts/list`` (hashes) + ``GET workspaces/tarball`` (contents)
script_history / archive    ``GET scripts/history/p/{path}`` / ``POST scripts/archive/p/{path}``
run_script / run_preview    ``POST jobs/run/p/{path}`` / ``POST jobs/run/preview``
get_job / logs              ``GET jobs_u/get/{id}`` / ``GET jobs_u/get_logs/{id}``
list_jobs / children        ``GET jobs/queue/list`` + ``GET jobs/completed/list``
cancel / resume             ``POST jobs_u/queue/cancel/{id}`` / ``POST jobs_u/flow/resume_suspended/{id}``
==========================  =========================================================================

The server runs the jobs (``runs_workers`` is False); following a job is polling ``get_job``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, NoReturn

from wac.engine.backend import Deployed, HistoryEntry, NewScript, PendingApproval, ScriptVersion
from wac.engine.bundle import MANIFEST, Bundle, Manifest
from wac.engine.remote import scripts as wm_scripts
from wac.engine.remote.http import WindmillHTTP, raw_path, segment
from wac.engine.remote.items import WindmillItems
from wac.engine.remote.jobs import job_from_json, timeline_from_json
from wac.engine.remote.objects import WindmillObjects
from wac.engine.remote.tarball import QUERY, python_scripts, read_archive
from wac.engine.store.base import TERMINAL, Job, TimelineEntry
from wac.errors import JobNotFoundError, NotDeployedError, RejectedError, WorkspaceError
from wac.timeformat import timestamp
from wac.workspaces import WorkspaceConfig

if TYPE_CHECKING:
    from wac.engine.worker import WorkerConfig

JsonValue = Any

POLL_INTERVAL = 0.25  # seconds between two reads of a job the CLI follows
_PAGE = 100  # jobs or scripts per list request
_QUEUED_STATES = frozenset({"queued", "running", "suspended"})


class WindmillBackend(WindmillObjects, WindmillItems):
    """One workspace of a Windmill server."""

    runs_workers = False
    keeps_metadata = False

    def __init__(self, name: str, url: str, workspace_id: str, token: str | None, *,
                 http: WindmillHTTP | None = None) -> None:
        self.name = name
        self.url = url
        self.workspace_id = workspace_id
        self.http = http or WindmillHTTP(name, url, workspace_id, token)

    @classmethod
    def from_config(cls, ws: WorkspaceConfig) -> WindmillBackend:
        """From a :class:`~wac.workspaces.WorkspaceConfig`; the workspace id defaults to its name."""
        return cls(ws.name, ws.url, ws.workspace_id or ws.name, ws.token)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> WindmillBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def now(self) -> float:
        return time.time()

    # ---- errors
    def _where(self) -> str:
        return f"workspace '{self.name}'"

    def _not_deployed(self, path: str, script_hash: str | None = None) -> Any:
        def raise_(_text: str) -> NoReturn:
            what = f"version {script_hash} of {path}" if script_hash else path
            raise NotDeployedError(f"{what} is not deployed in {self._where()}")
        return raise_

    def _no_job(self, job_id: str) -> Any:
        def raise_(_text: str) -> NoReturn:
            raise JobNotFoundError(f"no job {job_id} in {self._where()}")
        return raise_

    # ---- scripts
    def _deployed(self, path: str) -> dict[str, JsonValue] | None:
        """The head ``Script`` of ``path``, None when nothing is deployed there."""
        try:
            doc = self.http.json("GET", f"scripts/get/p/{raw_path(path)}", not_found=self._not_deployed(path))
        except NotDeployedError:
            return None
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{self._where()} answered scripts/get/p/{path} with a {type(doc).__name__}")
        return doc

    def deploy(self, script: NewScript) -> Deployed:
        wm_scripts.check_script_path(script.path, "the script to deploy")
        existing = self._deployed(script.path)
        head = str(existing["hash"]) if existing and existing.get("hash") else None
        # the .script.yaml's extra_perms become the script's ACLs, created, updated or not (wmill's handleFile)
        perms = (script.metadata or {}).get("extra_perms")
        if existing is not None and head and wm_scripts.same_as_deployed(script, existing):
            parents = existing.get("parent_hashes")
            self.apply_perms("script", script.path, perms, existing.get("extra_perms"))
            return Deployed(hash=head, created=False,
                            parent_hash=str(parents[0]) if isinstance(parents, list) and parents else None)
        body = wm_scripts.create_body(script, head)
        new_hash = self.http.text("POST", "scripts/create", params={"skip_if_noop": "true"}, body=body).strip()
        if not new_hash:
            raise WorkspaceError(f"{self._where()} created {script.path} but answered no hash")
        self.apply_perms("script", script.path, perms, existing.get("extra_perms") if existing else None)
        return Deployed(hash=new_hash, created=new_hash != head, parent_hash=head)

    def get_script(self, path: str, hash: str | None = None) -> ScriptVersion:
        if hash is None:
            route = f"scripts/get/p/{raw_path(path)}"
        else:
            route = f"scripts/get/h/{segment(hash)}"
        doc = self.http.json("GET", route, not_found=self._not_deployed(path, hash))
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{self._where()} answered {route} with a {type(doc).__name__}")
        if doc.get("path") != path:
            self._not_deployed(path, hash)("")
        return wm_scripts.version_of(doc, f"{self._where()}'s script {path}")

    def _script_index(self) -> dict[str, dict[str, JsonValue]]:
        """``{path: Script}`` of the listed heads (for their hashes and dates; the export has none)."""
        index: dict[str, dict[str, JsonValue]] = {}
        page = 1
        while True:
            rows = self.http.json("GET", "scripts/list", params={"page": page, "per_page": _PAGE})
            if not isinstance(rows, list):
                raise WorkspaceError(f"{self._where()} answered scripts/list with a {type(rows).__name__}")
            for row in rows:
                if isinstance(row, dict) and isinstance(row.get("path"), str):
                    index.setdefault(row["path"], row)
            if len(rows) < _PAGE:
                return index
            page += 1

    def _export(self, query: dict[str, str] = QUERY) -> bytes:
        try:
            return self.http.request("GET", "workspaces/tarball", params=query, timeout=300).content
        except RejectedError as exc:
            if "invalid archive type" not in exc.message.lower():
                raise
        return self.http.request("GET", "workspaces/tarball", params={**query, "archive_type": "tar"},
                                 timeout=300).content

    def list_scripts(self) -> list[ScriptVersion]:
        index = self._script_index()
        origin = f"the export of {self._where()}"
        files = read_archive(self._export(), origin)
        versions = []
        for path, content, doc in python_scripts(files, origin):
            listed = index.get(path, {})
            parents = listed.get("parent_hashes")
            versions.append(ScriptVersion(
                script=wm_scripts.script_of(path, content, doc, origin, keep_falsy=True),
                hash=str(listed.get("hash") or ""),
                parent_hash=str(parents[0]) if isinstance(parents, list) and parents else None,
                created_at=timestamp(listed.get("created_at")) or 0.0,
                created_by=str(listed.get("created_by") or ""),
            ))
        return versions

    def script_history(self, path: str) -> list[HistoryEntry]:
        rows = self.http.json("GET", f"scripts/history/p/{raw_path(path)}", not_found=self._not_deployed(path))
        if not isinstance(rows, list):
            raise WorkspaceError(f"{self._where()} answered scripts/history/p/{path} with a {type(rows).__name__}")
        entries = [HistoryEntry(hash=str(r.get("script_hash") or ""), created_at=timestamp(r.get("created_at")) or 0.0,
                                deployment_message=r.get("deployment_msg") or None)
                   for r in rows if isinstance(r, dict)]
        if not entries:
            self._not_deployed(path)("")
        return entries

    def archive_script(self, path: str) -> None:
        self.http.request("POST", f"scripts/archive/p/{raw_path(path)}", not_found=self._not_deployed(path))

    # ---- runs
    def run_script(self, path: str, args: dict[str, JsonValue], *, preview: bool = False) -> str:
        return self.http.text("POST", f"jobs/run/p/{raw_path(path)}", body=args,
                              not_found=self._not_deployed(path)).strip()

    def run_preview(self, bundle: Bundle, script_path: str, args: dict[str, JsonValue]) -> str:
        """Run the bundle's main file with its ``__mod`` modules; imported workspace scripts run as
        the server has them deployed."""
        body: dict[str, JsonValue] = {"content": bundle.files[bundle.entry], "path": script_path,
                                      "args": args, "language": "python3"}
        modules = preview_modules(bundle)
        if modules:
            body["modules"] = modules
        return self.http.text("POST", "jobs/run/preview", body=body).strip()

    def start_workers(self, config: WorkerConfig) -> None:
        return None  # the server's workers run the jobs

    def job_progress(self, job_id: str) -> int | None:
        return None  # not read from the server

    def approval_info(self, job_id: str, key: str) -> PendingApproval | None:
        return None  # approve on the server, or with resume()

    def object_source(self, kind: str, path: str) -> str | None:
        return None  # the server keeps no file text

    # ---- jobs
    def _job_doc(self, job_id: str) -> dict[str, JsonValue]:
        doc = self.http.json("GET", f"jobs_u/get/{segment(job_id)}", params={"no_logs": "true"},
                             not_found=self._no_job(job_id))
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{self._where()} answered jobs_u/get/{job_id} with a {type(doc).__name__}")
        return doc

    def get_job(self, job_id: str) -> Job:
        return job_from_json(self._job_doc(job_id))

    def _list(self, which: str, params: dict[str, Any]) -> list[Job]:
        rows = self.http.json("GET", f"jobs/{which}/list", params={"order_desc": "true", **params})
        if not isinstance(rows, list):
            raise WorkspaceError(f"{self._where()} answered jobs/{which}/list with a {type(rows).__name__}")
        kind = "QueuedJob" if which == "queue" else "CompletedJob"
        return [job_from_json(r, kind) for r in rows if isinstance(r, dict)]

    def _jobs(self, limit: int, status: str | None, **filters: str) -> list[Job]:
        jobs: list[Job] = []
        if status is None or status in _QUEUED_STATES:
            queued = dict(filters)
            if status == "running":
                queued["running"] = "true"
            elif status == "suspended":
                queued["suspended"] = "true"
            jobs += self._list("queue", {"per_page": max(limit, _PAGE), **queued})
        if status is None or status in TERMINAL:
            done = dict(filters)
            if status == "succeeded":
                done["success"] = "true"
            elif status in TERMINAL:
                done["success"] = "false"
            jobs += self._list("completed", {"per_page": max(limit, _PAGE), **done})
        if status is not None:
            jobs = [j for j in jobs if j.status == status]
        jobs.sort(key=lambda j: j.created_at, reverse=True)
        return jobs

    def list_jobs(self, *, root_only: bool = True, status: str | None = None, limit: int = 50) -> list[Job]:
        jobs = self._jobs(limit, status)
        if root_only:
            jobs = [j for j in jobs if j.parent_id is None]
        return jobs[:limit]

    def children(self, job_id: str) -> list[Job]:
        jobs = self._jobs(1000, None, parent_job=job_id)
        return sorted(jobs, key=lambda j: j.created_at)

    def timeline(self, job_id: str) -> list[TimelineEntry]:
        return timeline_from_json(self._job_doc(job_id))

    def logs(self, job_id: str) -> str:
        return self.http.text("GET", f"jobs_u/get_logs/{segment(job_id)}", not_found=self._no_job(job_id))

    def cancel(self, job_id: str, reason: str) -> int:
        """1 when the job was cancelled, 0 when it had already finished."""
        try:
            self.http.request("POST", f"jobs_u/queue/cancel/{segment(job_id)}", body={"reason": reason},
                              not_found=self._no_job(job_id))
        except JobNotFoundError:
            if self.get_job(job_id).status in TERMINAL:  # only queued jobs can be cancelled
                return 0
            raise
        return 1

    def resume(
        self, job_id: str, key: str | None, token: str | None, approved: bool, value: JsonValue,
        approver: str | None,
    ) -> None:
        """Approve or reject the suspended job (or the workflow whose step it is); the server
        finds the waiting step itself, so ``key`` is not sent, and it records the approver from
        the token's user, so ``approver`` is not either."""
        body: dict[str, JsonValue] = {"payload": value, "approved": approved}
        if token:
            body["approval_token"] = token
        self.http.request("POST", f"jobs_u/flow/resume_suspended/{segment(job_id)}", body=body,
                          not_found=self._no_job(job_id))

    def change_token(self) -> object:
        return None

    def wait_for_change(self, job_id: str, timeout: float, since: object = None) -> None:
        """No notifications over HTTP: wait one poll interval (the caller re-reads the job)."""
        time.sleep(max(0.0, min(timeout, POLL_INTERVAL)))


def preview_modules(bundle: Bundle) -> dict[str, dict[str, JsonValue]]:
    """``{key relative to the __mod folder: ScriptModule}`` of the bundle's modules (not its main
    file, lock files or manifest)."""
    from wac.project.languages import language_of

    if MANIFEST not in bundle.files:
        return {}
    module_dir = Manifest.of(bundle.files).module_dir.rstrip("/") + "/"
    modules: dict[str, dict[str, JsonValue]] = {}
    for rel in sorted(bundle.files):
        if rel in (bundle.entry, MANIFEST) or not rel.startswith(module_dir) or rel.endswith(".lock"):
            continue
        language = language_of(rel)
        if language is not None:
            modules[rel[len(module_dir):]] = {"content": bundle.files[rel], "language": language}
    return modules
