"""The repo side of a sync: the scripts on disk, the files each one owns, and reading file bytes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from wac.errors import UsageError, WacError
from wac.project.discovery import ScriptRef
from wac.project.scriptmeta import inline_lock_path, parse_metadata
from wac.project.textio import read_text
from wac.sync.paths import escapes, lock_path


@dataclass(frozen=True)
class LocalEntry:
    """A script as the repo holds it now, as far as a pull needs to know it."""

    remote_path: str
    main_file: str  # repo-relative, e.g. f/a/b.py or f/a/b__mod/script.py
    layout: str
    metadata_file: str | None  # the existing .script.yaml/.script.json, if any
    metadata: dict[str, Any] | None  # parsed; None when absent or unreadable
    lock_file: str | None  # the main lock file its metadata points to, when one of the script's own
    files: tuple[str, ...]  # every file of the script now on disk


class FileView(Protocol):
    """Read-only access to the repo's files (a fake one in unit tests)."""

    def read(self, rel: str) -> bytes | None: ...  # None: no such file
    def escapes(self, rel: str) -> bool: ...  # True: resolves (through symlinks) outside the repo


class DiskView:
    """The repo on disk."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def read(self, rel: str) -> bytes | None:
        path = self.root / rel
        try:
            return path.read_bytes() if path.is_file() else None
        except OSError:
            return None

    def escapes(self, rel: str) -> bool:
        return escapes(self.root, rel)


def _rel(root: Path, path: Path) -> str:
    return path.relative_to(root).as_posix()


def local_entry(ref: ScriptRef) -> LocalEntry:
    """What the repo holds for ``ref``; unreadable metadata is tolerated (``metadata`` None)."""
    root = ref.repo_root
    files = [_rel(root, ref.main_file)]
    meta_path = ref.metadata_file()
    meta: dict[str, Any] | None = None
    own_locks = {lock_path(ref.remote_path, "flat"), lock_path(ref.remote_path, "folder")}
    lock: str | None = None
    if meta_path is not None:
        files.append(_rel(root, meta_path))
        try:
            meta = parse_metadata(read_text(meta_path), meta_path)
            target = inline_lock_path(root, meta.get("lock"))
            if target is not None and _rel(root, target) in own_locks:
                lock = _rel(root, target)
        except WacError:
            meta = None
    if meta is None:
        fallback = lock_path(ref.remote_path, ref.layout)
        lock = fallback if (root / fallback).is_file() else None
    if lock is not None and (root / lock).is_file():
        files.append(lock)
    for key, path in ref.module_paths.items():
        files.append(_rel(root, path))
        mod_lock = ref.module_lock_path(key)
        if mod_lock.is_file():
            files.append(_rel(root, mod_lock))
    return LocalEntry(
        remote_path=ref.remote_path, main_file=_rel(root, ref.main_file), layout=ref.layout,
        metadata_file=None if meta_path is None else _rel(root, meta_path), metadata=meta,
        lock_file=lock, files=tuple(dict.fromkeys(files)),
    )


def by_remote_path(refs: Iterable[ScriptRef]) -> dict[str, ScriptRef]:
    """The repo's scripts by remote path.

    Raises:
        UsageError: two files are the same script (``f/a/b.py`` and ``f/a/b__mod/script.py``).
    """
    out: dict[str, ScriptRef] = {}
    for ref in refs:
        other = out.get(ref.remote_path)
        if other is not None:
            raise UsageError(
                f"{other.local_path} and {ref.local_path} are both the script {ref.remote_path}",
                hint="keep one layout: remove or rename one of them",
            )
        out[ref.remote_path] = ref
    return out


def orphan_module_dirs(root: Path, refs: Iterable[ScriptRef]) -> list[str]:
    """``x__mod/`` folders under f/ u/ g/ that belong to no script (no ``x.py``, no entry file).

    Neither wmill nor wac syncs their files: a push says so instead of losing them silently.
    """
    owned = {ref.module_dir.resolve() for ref in refs}
    out: list[str] = []
    for top in ("f", "u", "g"):
        base = root / top
        if not base.is_dir():
            continue
        for folder in sorted(base.rglob("*__mod")):
            if folder.is_dir() and folder.resolve() not in owned and not any(
                part.endswith("__mod") for part in folder.relative_to(root).parts[:-1]
            ):
                out.append(folder.relative_to(root).as_posix())
    return out
