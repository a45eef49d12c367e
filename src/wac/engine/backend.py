"""The Backend protocol: what every command that talks to a workspace goes through.

A workspace is a name bound to a URL (:mod:`wac.workspaces`); :func:`open_backend` turns it into a
Backend. Implementations:

* :class:`wac.engine.local_backend.LocalBackend` — the embedded engine on a SQLite store
  (``sqlite:///…``, by default the repo's ``.wac/wac.db``); it runs workers in-process.
* :class:`wac.engine.remote.windmill.WindmillBackend` — a Windmill server over its HTTP API.

Scripts are deployed as immutable *versions* identified by a content hash (16 hex characters,
as Windmill's). A path's *head* is its newest non-archived version; a run pins the version (and
so the code) it started on. Jobs are described with the engine's :class:`~wac.engine.store.base.Job`
record whatever the backend.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from wac.engine.bundle import Bundle
from wac.engine.store.base import Job, TimelineEntry

if TYPE_CHECKING:
    from wac.workspaces import WorkspaceConfig

JsonValue = Any

# Keys of a .script.yaml that configure how a deployed script runs (Windmill's NewScript names).
OPTION_KEYS = (
    "tag", "timeout", "priority", "cache_ttl", "concurrent_limit", "concurrency_key",
    "concurrency_time_window_s", "dedicated_worker", "envs", "restart_unless_cancelled",
    "delete_after_secs", "ws_error_handler_muted", "visible_to_runner_only", "labels",
)


@dataclass(frozen=True)
class ScriptModule:
    """A file of a script's ``__mod`` folder, keyed by its path relative to that folder."""

    content: str
    language: str = "python3"
    lock: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {"content": self.content, "language": self.language, "lock": self.lock}

    @classmethod
    def from_json(cls, data: dict[str, JsonValue]) -> ScriptModule:
        return cls(content=str(data.get("content") or ""), language=str(data.get("language") or "python3"),
                   lock=data.get("lock"))


@dataclass(frozen=True)
class NewScript:
    """One version of a script as pushed: code, modules, locks and metadata.

    ``metadata`` is the script's whole ``.script.yaml`` document as the repo holds it (key order
    kept, the ``lock`` value as written), so a pull can write the same file back byte for byte;
    ``layout`` is ``"flat"`` (``f/a/b.py`` + ``f/a/b__mod/``) or ``"folder"``
    (``f/a/b__mod/script.py``), so a pull keeps it.
    """

    path: str  # remote path, e.g. "f/demo/my_workflow"
    content: str
    summary: str = ""
    description: str = ""
    language: str = "python3"
    kind: str = "script"
    schema: dict[str, JsonValue] | None = None
    lock: str | None = None  # the resolved lock text; None = none recorded
    modules: dict[str, ScriptModule] = field(default_factory=dict)
    options: dict[str, JsonValue] = field(default_factory=dict)  # OPTION_KEYS found in the metadata
    has_preprocessor: bool = False
    metadata: dict[str, JsonValue] | None = None
    layout: str = "flat"
    deployment_message: str | None = None
    # the .script.yaml text as pushed, when re-rendering ``metadata`` would not give it back
    # (an older wmill's quoting, comments...): a pull writes these bytes
    metadata_text: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        doc = {k: v for k, v in self.__dict__.items() if k != "modules"}
        doc["modules"] = {k: m.to_json() for k, m in sorted(self.modules.items())}
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, JsonValue]) -> NewScript:
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__ and k != "modules"}
        modules = {k: ScriptModule.from_json(m) for k, m in (doc.get("modules") or {}).items()}
        return cls(**known, modules=modules)

    def entry_file(self) -> str:
        """Where the main file lives in the repo for this layout."""
        return f"{self.path}__mod/script.py" if self.layout == "folder" else f"{self.path}.py"

    def module_dir(self) -> str:
        return f"{self.path}__mod"

    def content_hash(self) -> str:
        """The version's identity: a hash of everything that makes it run or read differently."""
        doc = {
            "path": self.path, "content": self.content, "summary": self.summary,
            "description": self.description, "language": self.language, "kind": self.kind,
            "schema": self.schema, "lock": self.lock,
            "modules": {k: m.to_json() for k, m in sorted(self.modules.items())},
            "options": self.options, "has_preprocessor": self.has_preprocessor,
            "metadata": self.metadata, "layout": self.layout,
        }
        if self.metadata_text is not None:  # absent for canonical files: their hashes do not move
            doc["metadata_text"] = self.metadata_text
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ScriptVersion:
    """A deployed version, as the workspace holds it."""

    script: NewScript
    hash: str
    parent_hash: str | None
    created_at: float
    created_by: str = ""
    archived: bool = False

    @property
    def path(self) -> str:
        return self.script.path


@dataclass(frozen=True)
class HistoryEntry:
    hash: str
    created_at: float
    deployment_message: str | None = None
    archived: bool = False


@dataclass(frozen=True)
class Deployed:
    """What a deploy did: the head's hash, and whether a new version was created."""

    hash: str
    created: bool
    parent_hash: str | None = None


class Backend(Protocol):
    """A workspace. Raises :class:`wac.errors.WacError` subclasses: NotDeployedError for an
    unknown script path, JobNotFoundError, AuthError (3), RejectedError (4), WorkspaceError (5),
    NetworkError (7)."""

    name: str  # the workspace name it was opened as

    @property
    def url(self) -> str: ...
    runs_workers: bool  # True: jobs run only while this process (or `wac worker`) runs workers
    keeps_metadata: bool  # True: versions keep the .script.yaml document and layout (sync pull rewrites them)

    def close(self) -> None: ...
    def now(self) -> float: ...  # the workspace's clock, seconds since the epoch

    # ---- scripts
    def deploy(self, script: NewScript) -> Deployed: ...  # no new version when nothing changed
    def get_script(self, path: str, hash: str | None = None) -> ScriptVersion: ...
    def list_scripts(self) -> list[ScriptVersion]: ...  # heads of non-archived paths, by path
    def script_history(self, path: str) -> list[HistoryEntry]: ...  # newest first
    def archive_script(self, path: str) -> None: ...

    # ---- workspace objects: variables, resources, resource types (``wac.project.objectfiles.ObjectFile``s)
    def list_objects(self, kind: str, *, reveal: bool = False) -> list[Any]: ...  # by path; secrets' values only with reveal
    def get_object(self, kind: str, path: str, *, reveal: bool = False) -> Any: ...  # ObjectNotFoundError
    def put_object(self, obj: Any, source: str | None = None) -> None: ...  # source: the file text a push read
    def delete_object(self, kind: str, path: str) -> None: ...
    # Optional (looked up with getattr): object_source(kind, path) -> str | None, the file text kept
    # with an object (wac's store); job_progress(job_id) -> int | None, what wmill.set_progress() set.

    # ---- runs
    def run_script(self, path: str, args: dict[str, JsonValue], *, preview: bool = False) -> str: ...
    def run_preview(self, bundle: Bundle, script_path: str, args: dict[str, JsonValue]) -> str: ...
    def start_workers(self, config: Any) -> Any: ...  # an engine Worker, started; None if remote

    # ---- jobs
    def get_job(self, job_id: str) -> Job: ...
    def list_jobs(self, *, root_only: bool = True, status: str | None = None, limit: int = 50) -> list[Job]: ...
    def children(self, job_id: str) -> list[Job]: ...
    def timeline(self, job_id: str) -> list[TimelineEntry]: ...
    def logs(self, job_id: str) -> str: ...
    def cancel(self, job_id: str, reason: str) -> int: ...
    def resume(
        self, job_id: str, key: str | None, token: str | None, approved: bool, value: JsonValue,
        approver: str | None,
    ) -> None: ...
    def change_token(self) -> Any: ...  # take before a read that wait_for_change(since=) follows
    def wait_for_change(self, job_id: str, timeout: float, since: Any = None) -> None: ...


def open_backend(ws: WorkspaceConfig, repo_root: Path | None) -> Backend:
    """The Backend of a workspace; ``repo_root`` locates the embedded store of ``local``.

    The one place a URL scheme picks an implementation: ``""`` (the repo's ``.wac/wac.db``) and
    ``sqlite://`` open a :class:`~wac.engine.local_backend.LocalBackend` on a SQLite store,
    ``postgresql://`` the same engine on PostgreSQL, ``http(s)://`` a
    :class:`~wac.engine.remote.windmill.WindmillBackend`. A new kind of backend is added here
    (and its scheme in :data:`wac.workspaces.WorkspaceConfig.kind`).

    Raises:
        WorkspaceError: the folder of a sqlite store does not exist (exit 5).
        UsageError: ``local`` outside a repo.
    """
    from wac.errors import UsageError, WorkspaceError
    from wac.workspaces import cache_dir, sqlite_path

    if ws.kind == "embedded":
        from wac.engine.local_backend import LocalBackend

        if ws.url:
            db = sqlite_path(ws.url)
            if not db.parent.is_dir():
                raise WorkspaceError(
                    f"workspace '{ws.name}': the folder of its store {db} does not exist",
                    hint=f"create it (mkdir -p {db.parent}) or fix the URL: wac workspace add {ws.name} sqlite:///…")
            return LocalBackend.open(ws.name, db, cache_dir() / ws.name)
        from wac.engine.local_backend import open_local

        if repo_root is None:
            raise UsageError("the local workspace lives in a repo; run this inside one (wac init creates one)")
        return open_local(repo_root)
    if ws.kind == "windmill":
        from wac.engine.remote.windmill import WindmillBackend

        return WindmillBackend.from_config(ws)
    from wac.engine.local_backend import LocalBackend

    # A PostgreSQL workspace: the same engine; code bundles, results and logs travel through
    # the database, and each machine materializes bundles in its own cache.
    return LocalBackend.open_url(ws.name, ws.url, cache_dir() / ws.name)


def check_store(url: str) -> None:
    """Connect to a PostgreSQL workspace and make (or check) its store, so a wrong URL, password
    or database is reported when the workspace is added (exit 7, 3 or 5), not at first use."""
    from wac.engine.store import open_store

    open_store(url).close()
