"""Carrying out a sync plan: deploys and archives for push, file writes and deletions for pull.

Both record the sync state (``.wac/sync/<workspace>.json``) afterwards; pull also refreshes the
``wmill-lock.yaml`` entries of the scripts it wrote, from the files on disk (as ``rehash`` does).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wac.errors import MetadataError, NotDeployedError, WacError
from wac.metadata.state import load_state
from wac.project.config import RepoConfig
from wac.project.discovery import ScriptRef, discover, make_ref
from wac.project.hashing import main_key
from wac.project.lockfile import load_lockfile
from wac.project.textio import atomic_write
from wac.sync.local import by_remote_path, local_entry
from wac.sync.pull import PullPlan
from wac.sync.push import PushPlan
from wac.sync.scripts import LocalScript, read_script
from wac.sync.state import SyncState, digest

if TYPE_CHECKING:
    from wac.engine.backend import Backend


def read_local(root: Path, config: RepoConfig) -> tuple[list[ScriptRef], list[LocalScript], dict[str, str]]:
    """The repo's scripts in scope, each read as a deployable version, and the digests of their
    files taken just BEFORE reading them (what a push records as synced: a file saved after that
    is never recorded as pushed, so a later pull reports it as a conflict instead of losing it).

    Raises:
        ScriptMetadataError: a ``.script.yaml`` is unreadable (named).
        MetadataError: a file cannot be read, or discovery had to skip a script.
    """
    found = discover(root, config)
    if found.skipped:
        path, reason = found.skipped[0]
        raise MetadataError(f"cannot push {path}: {reason}",
                            hint="fix it, or leave it out with 'excludes' in wmill.yaml")
    refs = list(by_remote_path(found.scripts).values())
    snapshot: dict[str, str] = {}
    for ref in refs:
        for rel in local_entry(ref).files:
            try:
                snapshot[rel] = digest((ref.repo_root / rel).read_bytes())
            except OSError:
                pass
    lockfile = load_lockfile(root)
    return refs, [read_script(ref, lockfile=lockfile) for ref in refs], snapshot


@dataclass
class PushResult:
    deployed: list[dict[str, Any]] = field(default_factory=list)
    archived: list[str] = field(default_factory=list)


def apply_push(backend: Backend, plan: PushPlan, message: str | None = None) -> PushResult:
    """Deploy every added/changed script (with ``message`` as its deployment message) and archive
    every deleted one, in plan order."""
    from dataclasses import replace

    result = PushResult()
    for item in plan.items:
        if item.script is not None:
            done = backend.deploy(replace(item.script, deployment_message=message) if message else item.script)
            result.deployed.append({"path": item.path, "hash": done.hash, "created": done.created,
                                    "parent_hash": done.parent_hash})
        else:
            try:
                backend.archive_script(item.path)
            except NotDeployedError:
                pass  # archived meanwhile: the plan's goal holds
            result.archived.append(item.path)
    return result


def record_push(state: SyncState, root: Path, refs: list[ScriptRef], snapshot: dict[str, str]) -> None:
    """After a push the workspace holds the repo's scripts as they were read: record those files
    (their ``snapshot`` digests from :func:`read_local`) as synced, and forget recorded files that
    no longer exist."""
    for ref in refs:
        for rel in local_entry(ref).files:
            if rel in snapshot:
                state.files[rel] = snapshot[rel]
            else:
                state.files.pop(rel, None)
    for rel in [r for r in state.files if not (root / r).is_file()]:
        del state.files[rel]
    state.save()


@dataclass
class PullResult:
    written: int = 0
    deleted: int = 0
    lock_entries: int = 0
    lockfile_created: bool = False


def apply_pull(root: Path, plan: PullPlan, state: SyncState, config: RepoConfig) -> PullResult:
    """Write and delete the plan's files (atomically, one by one), refresh wmill-lock.yaml entries
    of the scripts written, and record the new sync state. Conflicts are the caller's to refuse."""
    lock = load_lockfile(root)  # an unusable wmill-lock.yaml fails here, before any write
    result = PullResult()
    try:
        for script in plan.scripts:
            for change in script.files:
                if change.data is not None:
                    atomic_write(root / change.path, change.data)
                    result.written += 1
        for script in plan.scripts:
            for change in script.files:
                if change.data is None:
                    _delete(root, change.path)
                    result.deleted += 1
    except OSError as exc:
        raise WacError(f"pull stopped: cannot write {exc.filename or ''}: {exc.strerror or exc}",
                       hint="fix the file or folder and pull again; files already written are kept") from exc
    refreshed = 0
    for script in plan.scripts:
        if script.action == "delete":
            continue
        if script.action == "unchanged" and (lock.get(script.path) or lock.get(main_key(script.path, True))):
            continue  # nothing written, entry present: the repo's own staleness is left as it is
        ref = make_ref(root, root / script.main_file, config.default_ts)
        if ref is None:
            continue
        entries = load_state(ref).entries
        lock.remove_script(script.path)
        lock.update(entries)
        refreshed += 1
    if refreshed:
        result.lockfile_created = not lock.existed
        lock.save()
    result.lock_entries = refreshed
    for script in plan.scripts:
        if script.action == "delete":
            for change in script.files:
                state.files.pop(change.path, None)
        else:
            for change in script.files:
                if change.data is None:
                    state.files.pop(change.path, None)
            state.files.update(script.record)
    state.save()
    return result


def _delete(root: Path, rel: str) -> None:
    path = root / rel
    try:
        path.unlink()
    except FileNotFoundError:
        return
    parts = rel.split("/")[:-1]
    while len(parts) > 1:  # empty folders the script leaves behind, never the f/ u/ g/ root itself
        try:
            (root.joinpath(*parts)).rmdir()
        except OSError:
            break
        parts.pop()

