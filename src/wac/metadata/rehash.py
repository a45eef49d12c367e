"""``wac generate-metadata rehash``: re-record every script's hashes from disk, nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wac.errors import WacError
from wac.metadata.scope import in_folder
from wac.metadata.state import load_state
from wac.project.config import RepoConfig
from wac.project.discovery import discover
from wac.project.lockfile import load_lockfile
from wac.project.scriptmeta import inline_lock_path
from wac.project.textio import create_exclusive


@dataclass
class RehashResult:
    """What rehash did."""

    rehashed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    lockfile_created: bool = False


def rehash(root: Path, config: RepoConfig, folder: str | None = None) -> RehashResult:
    """Delete and rewrite the ``R`` / ``R+...`` keys of every script in scope.

    Missing ``.script.yaml`` files are created with the defaults (and an empty lock file), as the
    CLI does, because the metadata text is part of the hash. Other keys are kept.
    """
    lock = load_lockfile(root)
    found = discover(root, config)
    result = RehashResult(skipped=list(found.skipped))
    for ref in found.scripts:
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
    result.lockfile_created = not lock.existed
    lock.save()
    return result
