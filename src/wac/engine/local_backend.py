"""The embedded workspace: the Backend protocol on the engine's own store and in-process workers."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from wac.engine.backend import Deployed, HistoryEntry, NewScript, PendingApproval, ScriptVersion
from wac.engine.bundle import Bundle
from wac.engine.items import ItemRecord, ItemStore, NewItem
from wac.engine.store import open_store
from wac.engine.store.base import Job, JobSpec, ScriptRecord, Store, TaskOptions, TimelineEntry
from wac.errors import NotDeployedError

if TYPE_CHECKING:
    from wac.engine.objects import Objects
    from wac.engine.worker import Worker, WorkerConfig
    from wac.project.config import RepoConfig
    from wac.project.objectfiles import ObjectFile

JsonValue = Any


def _version(record: ScriptRecord) -> ScriptVersion:
    return ScriptVersion(
        script=NewScript.from_json(record.doc), hash=record.hash, parent_hash=record.parent_hash,
        created_at=record.created_at, created_by=record.created_by, archived=record.archived,
    )


@dataclass
class LocalBackend:
    """A workspace in one SQLite store; ``state_dir`` holds the bundles workers materialize."""

    name: str
    store: Store
    state_dir: Path
    root: Path | None = None  # the repo, for the repo's own embedded workspace
    runs_workers: bool = True
    keeps_metadata: bool = True
    item_kinds: frozenset[str] | None = None  # every kind: items are stored as pushed

    @classmethod
    def open(cls, name: str, db: Path, state_dir: Path, root: Path | None = None) -> LocalBackend:
        """The embedded workspace of the SQLite file ``db`` (see :meth:`open_url`)."""
        return cls.open_url(name, f"sqlite:///{db.resolve()}", state_dir, root)

    @classmethod
    def open_url(cls, name: str, url: str, state_dir: Path, root: Path | None = None) -> LocalBackend:
        """A workspace on the store at ``url`` (sqlite:///… or postgresql://…)."""
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            from wac.errors import StoreError

            raise StoreError(f"cannot create wac's state folder {state_dir}: {exc.strerror or exc}",
                             hint="make the folder writable, or point WAC_STATE_DIR at a writable folder "
                                  "(e.g. WAC_STATE_DIR=/tmp/wac-state)") from exc
        return cls(name=name, store=open_store(url), state_dir=state_dir, root=root)

    @property
    def url(self) -> str:
        return self.store.url

    def close(self) -> None:
        self.store.close()

    def now(self) -> float:
        return self.store.now()

    # ---- items other than scripts (flows, apps, schedules, ...): stored as pushed, not run
    def _items(self) -> ItemStore:
        return cast(ItemStore, self.store)

    def configure_items(self, config: RepoConfig, root: Path | None = None) -> None:
        """Nothing to configure: items are stored as pushed."""

    def deploy_item(self, item: NewItem) -> Deployed:
        item_hash = item.content_hash()
        created, parent = self._items().put_item(item.kind, item.path, item_hash, item.to_json(), created_by=_user())
        return Deployed(hash=item_hash, created=created, parent_hash=parent)

    def list_items(self, kind: str | None = None) -> list[ItemRecord]:
        return self._items().list_items(kind)

    def get_item(self, kind: str, path: str) -> ItemRecord | None:
        return self._items().get_item(kind, path)

    def archive_item(self, kind: str, path: str) -> int:
        return self._items().archive_item(kind, path)

    # ---- scripts
    def deploy(self, script: NewScript) -> Deployed:
        script_hash = script.content_hash()
        created, parent = self.store.put_script(
            script.path, script_hash, script.to_json(), created_by=_user(),
            deployment_message=script.deployment_message,
        )
        return Deployed(hash=script_hash, created=created, parent_hash=parent)

    def get_script(self, path: str, hash: str | None = None) -> ScriptVersion:
        record = self.store.get_script(path, hash)
        if record is None:
            what = f"version {hash} of {path}" if hash else path
            raise NotDeployedError(f"{what} is not deployed in workspace '{self.name}'")
        return _version(record)

    def list_scripts(self) -> list[ScriptVersion]:
        return [_version(r) for r in self.store.list_scripts()]

    def script_history(self, path: str) -> list[HistoryEntry]:
        records = self.store.script_history(path)
        if not records:
            raise NotDeployedError(f"{path} was never deployed in workspace '{self.name}'")
        return [HistoryEntry(hash=r.hash, created_at=r.created_at, deployment_message=r.deployment_message,
                             archived=r.archived) for r in records]

    def archive_script(self, path: str) -> None:
        if not self.store.archive_script(path):
            raise NotDeployedError(f"{path} is not deployed in workspace '{self.name}'")

    # ---- runs
    def run_script(self, path: str, args: dict[str, JsonValue], *, preview: bool = False) -> str:
        """Submit a run of the head version of ``path``; the job pins that version's bundle."""
        from wac.engine.deployed import deployed_bundle

        bundle, record = deployed_bundle(self.store, path)
        from wac.engine.store._sqlite_evolve import record_version

        options = TaskOptions.from_windmill(record.doc.get("options") or {})
        job_id = self.store.submit(JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=args,
                                           script_path=path, options=options, preview=preview))
        record_version(self.store, job_id, record.hash)  # which version it runs (issue 14)
        return job_id

    def run_preview(self, bundle: Bundle, script_path: str, args: dict[str, JsonValue]) -> str:
        self.store.put_bundle(bundle.hash, bundle.files)
        return self.store.submit(JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=args,
                                         script_path=script_path, preview=True))

    def start_workers(self, config: WorkerConfig) -> Worker:
        """In-process workers on this store; started, zygote first."""
        from wac.engine.worker import Worker

        config.workspace = self.name
        if self.root is not None and config.repo_root is None:
            config.repo_root = str(self.root)
        worker = Worker(self.store, self.state_dir, config)
        worker.start()
        return worker

    # ---- workspace objects (variables, resources, resource types)
    def objects(self) -> Objects:
        from wac.engine.objects import Objects

        return Objects(self.store)

    def list_objects(self, kind: str, *, reveal: bool = False) -> list[ObjectFile]:
        """Every object of ``kind`` (``ObjectFile``s by path); secret values only with ``reveal``."""
        return list(self.objects().list(kind, reveal=reveal))

    def get_object(self, kind: str, path: str, *, reveal: bool = False) -> ObjectFile:
        from wac.engine.objects import label
        from wac.errors import ObjectNotFoundError

        found = self.objects().get(kind, path, reveal=reveal)
        if found is None:
            raise ObjectNotFoundError(f"{label(kind)} {path} not found in workspace '{self.name}'")
        return found

    def put_object(self, obj: ObjectFile, source: str | None = None) -> None:
        """Create or replace an object; ``source`` is the file text a sync push read it from."""
        self.objects().put(obj, source)

    def delete_object(self, kind: str, path: str) -> None:
        self.objects().delete(kind, path)

    def object_source(self, kind: str, path: str) -> str | None:
        return self.objects().source(kind, path)

    def job_progress(self, job_id: str) -> int | None:
        return self.store.get_progress(job_id)

    # ---- jobs
    def get_job(self, job_id: str) -> Job:
        return self.store.get_job(job_id)

    def list_jobs(self, *, root_only: bool = True, status: str | None = None, limit: int = 50) -> list[Job]:
        return self.store.list_jobs(root_only=root_only, status=status, limit=limit)

    def children(self, job_id: str) -> list[Job]:
        return self.store.children(job_id)

    def timeline(self, job_id: str) -> list[TimelineEntry]:
        return self.store.timeline(job_id)

    def logs(self, job_id: str) -> str:
        return "".join(line.text for line in self.store.read_logs(job_id))

    def cancel(self, job_id: str, reason: str) -> int:
        self.store.get_job(job_id)
        return self.store.cancel(job_id, reason)

    def resume(
        self, job_id: str, key: str | None, token: str | None, approved: bool, value: JsonValue,
        approver: str | None,
    ) -> None:
        from wac.engine import approvals

        # key None: whatever approval the job waits on, decided in the store's one transaction
        # (reading it first, outside, could act on a state that changed meanwhile)
        secret = approvals.token_hash(token) if token is not None else None
        self.store.resume(job_id, key, secret, approved, value, approver)

    def approval_info(self, job_id: str, key: str) -> PendingApproval:
        """What an approval prompt shows: the stored form (``{"form", "description", "skin"}``),
        when it times out, and fresh resume URLs (``{approvalPage, resume, cancel}``; the store
        keeps only their secrets' hashes)."""
        from wac.engine import approvals

        info = self.store.get_approval(job_id, key)
        return {
            "form": info.form if info is not None else None,
            "timeout_at": info.timeout_at if info is not None else None,
            "urls": approvals.mint_waiting(self.store, self.name, job_id, key),
        }

    def change_token(self) -> object:
        return self.store.change_token()

    def wait_for_change(self, job_id: str, timeout: float, since: object = None) -> None:
        self.store.wait_for_change(job_id, timeout, since)


def local_store_path(root: Path) -> Path:
    """Where the repo's embedded store lives: ``ROOT/.wac/wac.db`` (``WAC_STATE_DIR`` moves the
    folder; a relative one is taken from the repo root, not from the folder a command runs in, so
    every command of the repo finds the same store)."""
    import os

    state = root / Path(os.environ["WAC_STATE_DIR"]) if os.environ.get("WAC_STATE_DIR") else root / ".wac"
    return state / "wac.db"


def open_local(root: Path) -> LocalBackend:
    """The repo's embedded workspace ``local``: ``ROOT/.wac/wac.db`` (``WAC_STATE_DIR`` moves the folder)."""
    db = local_store_path(root)
    return LocalBackend.open("local", db, db.parent, root=root)


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""
