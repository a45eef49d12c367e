"""A script of the repo as a deployable version (:class:`~wac.engine.backend.NewScript`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wac.engine.backend import OPTION_KEYS, NewScript, ScriptModule
from wac.errors import MetadataError
from wac.project import Lockfile, ScriptRef, load_lockfile
from wac.project.languages import language_of
from wac.project.scriptmeta import inline_lock_path, render_metadata, resolve_lock_text
from wac.project.textio import read_text


@dataclass(frozen=True)
class LocalScript:
    ref: ScriptRef
    script: NewScript
    stale: bool  # wmill-lock.yaml does not match the files: run generate-metadata first
    has_metadata: bool


def read_script(ref: ScriptRef, *, check_stale: bool = True, lockfile: Lockfile | None = None) -> LocalScript:
    """Read a script, its modules, their locks and its metadata as one deployable version.

    ``lockfile``: the repo's wmill-lock.yaml, when the caller reads many scripts (read once).

    Raises:
        ScriptMetadataError: its ``.script.yaml`` cannot be read (the message names the file).
        MetadataError: a file is unreadable or not UTF-8.
    """
    from wac.metadata.state import load_state

    state = load_state(ref)
    meta: dict[str, Any] = state.metadata if state.metadata_exists else {}
    if not meta:
        from wac.parser import parse_script

        info = parse_script(state.main_text, ref.local_path, remote_path=ref.remote_path, detail="schema")
        schema = info.schema
    else:
        schema = meta.get("schema") if isinstance(meta.get("schema"), dict) else None
    modules: dict[str, ScriptModule] = {}
    for key, text in ref.modules.items():
        lock_path = ref.module_lock_path(key)
        lock = read_text(lock_path) if lock_path.is_file() else None
        modules[key] = ScriptModule(content=text, language=language_of(key) or "python3", lock=lock)
    lock_value = meta.get("lock") if "lock" in meta else None
    _refuse_missing_lock(ref, state.metadata_path, lock_value)
    metadata_text = None
    yaml_file = state.metadata_exists and state.metadata_path.name.endswith(".yaml")
    if yaml_file and render_metadata(meta) != state.metadata_text:
        metadata_text = state.metadata_text
    script = NewScript(
        path=ref.remote_path,
        content=state.main_text,
        summary=str(meta.get("summary") or ""),
        description=str(meta.get("description") or ""),
        language=ref.language,
        kind=str(meta.get("kind") or "script"),
        schema=schema,
        lock=None if lock_value is None else resolve_lock_text(ref.repo_root, lock_value),
        modules=modules,
        options={k: meta[k] for k in OPTION_KEYS if meta.get(k) is not None},
        has_preprocessor=bool(meta.get("has_preprocessor")),
        metadata=meta or None,
        layout=ref.layout,
        metadata_text=metadata_text,
    )
    stale = False
    if check_stale:
        locks = lockfile if lockfile is not None else load_lockfile(ref.repo_root)
        stale = not state.metadata_exists or locks.get(state.key) != state.entries[state.key]
    return LocalScript(ref=ref, script=script, stale=stale, has_metadata=state.metadata_exists)


class MissingLockError(MetadataError):
    """The metadata names a lock file that does not exist."""

    hint = "run: wac generate-metadata --yes (it recreates the lock)"


def _refuse_missing_lock(ref: ScriptRef, metadata_path: Path, lock_value: Any) -> None:
    """Never deploy an empty lock while ``.script.yaml`` points at a file that is not there."""
    target = inline_lock_path(ref.repo_root, lock_value)
    if target is not None and not target.is_file():
        root = ref.repo_root
        raise MissingLockError(
            f"{metadata_path.relative_to(root).as_posix()} points at {target.relative_to(root).as_posix()}, "
            "which is missing"
        )
