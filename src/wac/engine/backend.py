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
from typing import TYPE_CHECKING, Any, Protocol, TypedDict

from wac.engine.bundle import Bundle
from wac.engine.store.base import Job, TimelineEntry

if TYPE_CHECKING:
    from wac.engine.items import ItemRecord, NewItem
    from wac.engine.local_backend import LocalBackend
    from wac.engine.worker import Worker, WorkerConfig
    from wac.project.config import RepoConfig
    from wac.project.objectfiles import ObjectFile
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


class PendingApproval(TypedDict):
    """What an approval prompt shows of the approval a job waits on (:meth:`Backend.approval_info`)."""

    form: dict[str, JsonValue] | None  # as stored: {"form", "description", "skin"} (each optional)
    timeout_at: float | None  # on the workspace's clock; None: waits for ever
    urls: dict[str, str]  # fresh {approvalPage, resume, cancel}; the store keeps only their secrets' hashes


class Backend(Protocol):
    """A workspace: where scripts are deployed and jobs run. Every command that talks to a
    workspace goes through this protocol, whatever the workspace is (the repo's embedded engine,
    a shared SQLite or PostgreSQL store, a Windmill server).

    The contract, for every implementation:

    * **Versions are immutable.** ``deploy`` records a new version (identified by a 16-hex
      content hash) only when something changed; a path's *head* is its newest non-archived
      version. A run pins the version, so the code, it started on.
    * **Jobs look the same everywhere.** Jobs come back as the engine's
      :class:`~wac.engine.store.base.Job` records (states of ``wac.engine.store.base.STATES``),
      their steps as :class:`~wac.engine.store.base.TimelineEntry` rows, whatever the backend.
    * **Errors are the WacError tree**, never a library's exception: ``NotDeployedError`` for an
      unknown script path or version, ``JobNotFoundError``, ``ObjectNotFoundError``,
      ``AuthError`` (exit 3), ``RejectedError`` (4), ``WorkspaceError`` (5), ``NetworkError`` (7).
    * **Who runs jobs is said, not guessed:** with ``runs_workers`` True jobs run only while
      this process (``start_workers``) or a ``wac worker`` runs workers; False, the workspace
      runs them itself.
    * **Nothing is optional.** A capability a backend lacks has a defined answer (``None``, an
      empty list, a no-op) stated on its method, so callers never probe with ``getattr``.
      Features only the embedded engine has (its store: runs pages, replay checks, migrating
      runs) are reached by narrowing to :class:`~wac.engine.local_backend.LocalBackend`.
    * ``close()`` releases connections; a backend is used by one thread at a time.

    Implementations: :class:`~wac.engine.local_backend.LocalBackend`,
    :class:`~wac.engine.remote.windmill.WindmillBackend`; ``tests/typing/test_protocols.py``
    makes mypy check that both still satisfy this protocol.
    """

    name: str  # the workspace name it was opened as
    runs_workers: bool  # True: jobs run only while this process (or `wac worker`) runs workers
    keeps_metadata: bool  # True: versions keep the .script.yaml document and layout (sync pull rewrites them)

    @property
    def item_kinds(self) -> frozenset[str] | None:
        """The item kinds it carries (flows, schedules, ...); None: every kind."""
        ...

    @property
    def url(self) -> str:
        """Where the workspace is (a store URL or the server's); may hold a password: show it redacted."""
        ...

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""

    def now(self) -> float:
        """The workspace's clock, seconds since the epoch (the store's or this machine's)."""
        ...

    # ---- scripts
    def deploy(self, script: NewScript) -> Deployed:
        """Make ``script`` the head of its path; no new version when it equals the head."""
        ...

    def get_script(self, path: str, hash: str | None = None) -> ScriptVersion:
        """The head of ``path`` (or its version ``hash``), archived or not; NotDeployedError if none."""
        ...

    def list_scripts(self) -> list[ScriptVersion]:
        """The heads of every non-archived path, sorted by path."""
        ...

    def script_history(self, path: str) -> list[HistoryEntry]:
        """Every version of ``path``, newest first; NotDeployedError when it was never deployed."""
        ...

    def archive_script(self, path: str) -> None:
        """Archive ``path`` (its versions stay readable by hash); NotDeployedError if not deployed."""

    # ---- workspace objects: variables, resources, resource types (ObjectFile records)
    def list_objects(self, kind: str, *, reveal: bool = False) -> list[ObjectFile]:
        """Every object of ``kind``, by path; a secret's value only with ``reveal``."""
        ...

    def get_object(self, kind: str, path: str, *, reveal: bool = False) -> ObjectFile:
        """One object; ObjectNotFoundError when there is none."""
        ...

    def put_object(self, obj: ObjectFile, source: str | None = None) -> None:
        """Create or replace ``obj``; ``source`` is the file text a sync push read it from."""

    def delete_object(self, kind: str, path: str) -> None:
        """Delete an object; ObjectNotFoundError when there is none."""

    def object_source(self, kind: str, path: str) -> str | None:
        """The file text kept with an object at push (so a pull writes it back byte for byte);
        None when none was kept or the backend keeps none (a Windmill server)."""
        ...

    # ---- items other than scripts: flows, apps, schedules, triggers, folders
    def configure_items(self, config: RepoConfig, root: Path | None = None) -> None:
        """Take the repo's ``wmill.yaml`` options before a sync (and, for a push, the repo);
        a no-op for a backend that stores items as pushed."""

    def list_items(self, kind: str | None = None) -> list[ItemRecord]:
        """The workspace's items (of ``kind`` only, if given), by path."""
        ...

    def deploy_item(self, item: NewItem) -> Deployed | None:
        """Create or update ``item`` (nothing when equal); what was done, None when the workspace does not say."""
        ...

    def archive_item(self, kind: str, path: str) -> int:
        """Remove an item from the workspace; how many were removed (0 or 1)."""
        ...

    # ---- runs
    def run_script(self, path: str, args: dict[str, JsonValue], *, preview: bool = False) -> str:
        """Submit a run of the head of ``path`` with ``args``; the job id. The job pins that version."""
        ...

    def run_preview(self, bundle: Bundle, script_path: str, args: dict[str, JsonValue]) -> str:
        """Submit a run of local code (``bundle``) under the name ``script_path``; the job id."""
        ...

    def start_workers(self, config: WorkerConfig) -> Worker | None:
        """Start in-process workers on this workspace (started, zygote first); None when the
        workspace runs its jobs itself (``runs_workers`` False)."""
        ...

    # ---- jobs
    def get_job(self, job_id: str) -> Job:
        """The job as it is now; JobNotFoundError when there is none."""
        ...

    def list_jobs(self, *, root_only: bool = True, status: str | None = None, limit: int = 50) -> list[Job]:
        """Newest first, at most ``limit``; only runs (no child jobs) with ``root_only``."""
        ...

    def children(self, job_id: str) -> list[Job]:
        """The child jobs of ``job_id``, oldest first."""
        ...

    def timeline(self, job_id: str) -> list[TimelineEntry]:
        """The job's tasks, steps, sleeps and approvals, in the order they were reached."""
        ...

    def logs(self, job_id: str) -> str:
        """The job's whole log text so far."""
        ...

    def job_progress(self, job_id: str) -> int | None:
        """What ``wmill.set_progress()`` last set (0-100); None when never set or not kept."""
        ...

    def cancel(self, job_id: str, reason: str) -> int:
        """Cancel the job and everything under it; how many jobs were cancelled (0: already finished)."""
        ...

    def resume(
        self, job_id: str, key: str | None, token: str | None, approved: bool, value: JsonValue,
        approver: str | None,
    ) -> None:
        """Approve or reject the approval ``key`` (None: whichever the job waits on), atomically
        with the check that it still waits; a ConflictError, and no change, otherwise."""

    def approval_info(self, job_id: str, key: str) -> PendingApproval | None:
        """The approval ``key`` of a suspended job as a prompt shows it, with fresh resume URLs;
        None when the backend cannot tell (a Windmill server: approve there or by ``resume``)."""
        ...

    def change_token(self) -> object:
        """Take before a read that ``wait_for_change(since=)`` follows, so no change is missed."""
        ...

    def wait_for_change(self, job_id: str, timeout: float, since: object = None) -> None:
        """Return when something may have changed since ``since`` (a hint: re-read), or after
        ``timeout`` seconds; a backend without notifications waits one poll interval."""


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
    from wac.errors import WorkspaceError
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
        return open_repo_backend(repo_root)
    if ws.kind == "windmill":
        from wac.engine.remote.windmill import WindmillBackend

        return WindmillBackend.from_config(ws)
    from wac.engine.local_backend import LocalBackend

    # A PostgreSQL workspace: the same engine; code bundles, results and logs travel through
    # the database, and each machine materializes bundles in its own cache.
    return LocalBackend.open_url(ws.name, ws.url, cache_dir() / ws.name)


def open_repo_backend(repo_root: Path | None) -> LocalBackend:
    """The repo's own embedded workspace ``local`` (its ``.wac/wac.db``).

    Raises:
        UsageError: not inside a repo.
    """
    from wac.engine.local_backend import open_local
    from wac.errors import UsageError

    if repo_root is None:
        raise UsageError("the local workspace lives in a repo; run this inside one (wac init creates one)")
    return open_local(repo_root)


def check_store(url: str) -> None:
    """Connect to a PostgreSQL workspace and make (or check) its store, so a wrong URL, password
    or database is reported when the workspace is added (exit 7, 3 or 5), not at first use."""
    from wac.engine.store import open_store

    open_store(url).close()
