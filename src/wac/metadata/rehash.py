"""``wac generate-metadata rehash``: re-record the hashes of scripts, flows and apps from disk."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wac.errors import WacError
from wac.metadata.scope import in_folder
from wac.metadata.state import load_state
from wac.project.bundles import discover_bundles, in_folder_filter
from wac.project.config import RepoConfig
from wac.project.discovery import discover
from wac.project.lockfile import Lockfile, load_lockfile
from wac.project.scriptmeta import inline_lock_path
from wac.project.textio import create_exclusive


@dataclass
class RehashResult:
    """What rehash did."""

    rehashed: list[str] = field(default_factory=list)
    flows: list[str] = field(default_factory=list)
    apps: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    lockfile_created: bool = False


def rehash(
    root: Path,
    config: RepoConfig,
    folder: str | None = None,
    *,
    skip_scripts: bool = False,
    skip_flows: bool = False,
    skip_apps: bool = False,
) -> RehashResult:
    """Delete and rewrite the ``R`` / ``R+...`` keys of every script, flow and app in scope.

    Missing ``.script.yaml`` files are created with the defaults (and an empty lock file), as the
    CLI does, because the metadata text is part of the hash. Other keys are kept.
    """
    lock = load_lockfile(root)
    found = discover(root, config) if not skip_scripts else None
    result = RehashResult(skipped=list(found.skipped) if found else [])
    for ref in found.scripts if found else []:
        if folder and not in_folder(ref.remote_path, ref.local_path, folder):
            continue
        try:
            state = load_state(ref)
            if not state.metadata_exists:
                if create_exclusive(state.metadata_path, state.metadata_text):
                    result.created.append(state.metadata_path.relative_to(root).as_posix())
                lock_path = inline_lock_path(root, state.metadata.get("lock"))
                if lock_path is not None:
                    create_exclusive(lock_path, "")
        except WacError as exc:
            result.skipped.append((ref.local_path, exc.message))
            continue
        lock.remove_script(ref.remote_path)
        lock.update(state.entries)
        result.rehashed.append(ref.local_path)
    if not (skip_flows and skip_apps):
        _rehash_bundles(root, config, folder, lock, result, skip_flows, skip_apps)
    result.lockfile_created = not lock.existed
    lock.save()
    return result


def _rehash_bundles(
    root: Path, config: RepoConfig, folder: str | None, lock: Lockfile, result: RehashResult,
    skip_flows: bool, skip_apps: bool,
) -> None:
    for bundle in discover_bundles(root, config):
        is_flow = bundle.kind == "flow"
        if (skip_flows and is_flow) or (skip_apps and not is_flow):
            continue
        if not in_folder_filter(bundle.folder, folder):
            continue
        try:
            entries = bundle.entries()
        except WacError as exc:
            result.skipped.append((bundle.folder, exc.message))
            continue
        lock.clear(bundle.folder)
        for sub, value in entries.items():
            lock.set(bundle.folder, value, sub)
        (result.flows if is_flow else result.apps).append(bundle.folder)
