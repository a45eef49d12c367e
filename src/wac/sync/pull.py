"""``wac sync pull``: the files each workspace script becomes in the repo, as one pure plan.

Layout rule: a script the repo already has keeps its layout (flat ``R.py`` + ``R__mod/`` or folder
``R__mod/script.py``); a new one takes the layout the workspace recorded, else wmill's rule (folder
when it has modules). The ``.script.yaml`` is the version's own document when the workspace kept
it (its ``!inline`` lock re-pointed to the chosen layout's lock file), else built from the fields
as wmill does.

Every remote name is untrusted: the plan refuses (RejectedError, nothing written) any remote path
or module key that is not a plain relative path under ``f/ u/ g/``, and any target that resolves
outside the repo through a symlink.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wac.engine.backend import NewScript, ScriptVersion
from wac.errors import RejectedError
from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.project.discovery import MOD_SUFFIX
from wac.project.scriptmeta import INLINE_PREFIX, default_schema, render_metadata
from wac.project.textio import decode_text
from wac.sync.local import FileView, LocalEntry
from wac.sync.paths import (
    default_layout,
    entry_path,
    in_scope,
    lock_path,
    metadata_path,
    module_key_problem,
    module_lock_key,
    remote_path_problem,
)
from wac.sync.state import digest

NOT_RECORDED = "not written by a sync yet"
CHANGED = "changed locally since the last sync"


@dataclass(frozen=True)
class FileChange:
    path: str  # repo-relative
    action: str  # "add" | "change" | "delete"
    data: bytes | None = None  # the new content (None for a delete)
    conflict: str | None = None  # why this would lose a local edit (then only --yes applies it)

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-"}[self.action]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "action": self.action, "conflict": self.conflict}


@dataclass(frozen=True)
class ScriptPull:
    path: str  # remote path
    action: str  # "add" | "change" | "delete" | "unchanged"
    layout: str
    main_file: str
    files: tuple[FileChange, ...] = ()
    record: Mapping[str, str] = field(default_factory=dict)  # every file of the script -> sha after the pull

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-", "unchanged": "="}[self.action]

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "action": self.action, "layout": self.layout, "main_file": self.main_file,
                "files": [f.to_json() for f in self.files]}


@dataclass
class PullPlan:
    scripts: list[ScriptPull] = field(default_factory=list)  # every pulled (or deleted) script, by path
    skipped: list[str] = field(default_factory=list)  # remote scripts outside includes/excludes
    local_only: list[str] = field(default_factory=list)  # never synced local scripts, left alone

    @property
    def changed(self) -> list[ScriptPull]:
        return [s for s in self.scripts if s.action != "unchanged"]

    @property
    def conflicts(self) -> list[FileChange]:
        return sorted((f for s in self.scripts for f in s.files if f.conflict), key=lambda f: sort_key(f.path))

    def count(self, action: str) -> int:
        return sum(1 for s in self.scripts if s.action == action)

    def to_json(self) -> dict[str, Any]:
        return {
            "scripts": [s.to_json() for s in self.changed],
            "unchanged": [s.path for s in self.scripts if s.action == "unchanged"],
            "conflicts": [{"path": f.path, "action": f.action, "reason": f.conflict} for f in self.conflicts],
            "skipped": self.skipped,
            "local_only": self.local_only,
        }


def script_files(
    script: NewScript, local: LocalEntry | None, layout: str, main_file: str, layout_recorded: bool = False,
) -> tuple[dict[str, str], dict[str, Any]]:
    """``({repo-relative path: text}, metadata document)`` of one remote script in ``layout``."""
    r = script.path
    files: dict[str, str] = {main_file: script.content}
    meta_file = local.metadata_file if local is not None and local.metadata_file else metadata_path(r, layout)
    lock_file = local.lock_file if local is not None and local.lock_file else lock_path(r, layout)
    lock_text: str | None = None
    pushed_text: str | None = None
    if script.metadata is not None:
        doc = copy.deepcopy(script.metadata)
        value = doc.get("lock")
        if isinstance(value, str) and value.startswith(INLINE_PREFIX):
            doc["lock"] = INLINE_PREFIX + lock_file
            lock_text = script.lock or ""
        if script.metadata_text is not None and meta_file.endswith(".yaml"):
            pushed_text = _repoint(script.metadata_text, value, doc.get("lock"))
    elif layout_recorded:  # pushed without a metadata file: none comes back
        files.update(_module_files(script, r + MOD_SUFFIX))
        return files, {}
    else:  # the wmill CLI's conversion of the workspace export (spec 4.3)
        doc = {"summary": script.summary, "description": script.description, "kind": script.kind,
               "schema": script.schema if script.schema is not None else default_schema()}
        if script.lock:
            doc["lock"] = INLINE_PREFIX + lock_file
            lock_text = script.lock
        elif script.lock == "":
            doc["lock"] = ""
        doc.update(script.options)
        if script.has_preprocessor:
            doc["has_preprocessor"] = True
    files[meta_file] = pushed_text if pushed_text is not None else render_metadata(
        doc, as_json=meta_file.endswith(".json"))
    if lock_text is not None:
        files[lock_file] = lock_text
    files.update(_module_files(script, r + MOD_SUFFIX))
    return files, doc


def _module_files(script: NewScript, mod_dir: str) -> dict[str, str]:
    files: dict[str, str] = {}
    for key, module in sorted(script.modules.items()):
        files[f"{mod_dir}/{key}"] = module.content
        if module.lock is not None and (module.lock or script.metadata is not None):
            files[f"{mod_dir}/{module_lock_key(key)}"] = module.lock
    return files


def _repoint(text: str, old: Any, new: Any) -> str | None:
    """The pushed text with its ``!inline`` lock reference moved from ``old`` to ``new``.

    None when that cannot be done exactly (the caller then renders the document).
    """
    if old == new:
        return text
    if not (isinstance(old, str) and isinstance(new, str)) or text.count(old) != 1:
        return None
    return text.replace(old, new)


def _same_text(current: bytes, text: str) -> bool:
    try:
        return decode_text(current) == text
    except Exception:  # a UTF-16 file is not the same text
        return False


def _local_change(path: str, current: bytes, recorded: Mapping[str, str]) -> str | None:
    """Why overwriting or deleting ``path`` would lose a local edit (None: it is as last synced)."""
    if recorded.get(path) == digest(current):
        return None
    return CHANGED if path in recorded else NOT_RECORDED


def plan_pull(
    remote: Sequence[ScriptVersion], local: Mapping[str, LocalEntry], view: FileView,
    recorded: Mapping[str, str], config: RepoConfig, *, layout_recorded: bool,
) -> PullPlan:
    """The files a pull writes and deletes, the conflicts it would cause, and the new sync records.

    ``local``: the repo's scripts in scope by remote path; ``recorded``: the sync state's hashes;
    ``layout_recorded``: the workspace keeps each version's layout (wac's backends).

    Raises:
        RejectedError: a remote name is unsafe or a target leaves the repo (nothing may be written).
    """
    problems: list[str] = []
    plan = PullPlan()
    owners: dict[str, str] = {}  # target file -> remote path, to catch two scripts writing one file
    remote_paths: set[str] = set()
    for version in remote:
        s = version.script
        unsafe = _unsafe_names(s)
        if unsafe:
            problems += unsafe
            continue
        remote_paths.add(s.path)
        loc = local.get(s.path)
        layout = loc.layout if loc is not None else default_layout(s, layout_recorded or s.metadata is not None)
        main = loc.main_file if loc is not None else entry_path(s.path, s.language, layout, config.default_ts)
        if main is None:
            problems.append(f"remote script {s.path} has a language wac cannot write: {s.language!r}")
            continue
        if loc is None and not in_scope(config, main):
            plan.skipped.append(s.path)
            continue
        texts, doc = script_files(s, loc, layout, main, layout_recorded)
        changes, record = _file_changes(s.path, texts, doc, loc, view, recorded, owners, problems)
        if loc is not None:
            changes += _deletions(loc, set(texts), view, recorded, problems)
        action = "unchanged" if not changes else ("add" if loc is None else "change")
        plan.scripts.append(ScriptPull(s.path, action, layout, main, tuple(changes), record))
    _local_only(plan, local, remote_paths, view, recorded, problems)
    for path in sorted(recorded, key=sort_key):
        # a synced file whose folder now leads out of the repo (a symlink): wac neither reads nor
        # deletes through it, and says so rather than forgetting the file silently
        if path not in owners and view.escapes(path):
            problems.append(f"{path} (written by the last sync) resolves outside the repo")
    _refuse(problems)
    plan.scripts.sort(key=lambda s: sort_key(s.path))
    plan.skipped.sort(key=sort_key)
    plan.local_only.sort(key=sort_key)
    return plan


def _unsafe_names(s: NewScript) -> list[str]:
    """Why the remote script's path or one of its module keys may not become a file name (none: [])."""
    why = remote_path_problem(s.path)
    if why is not None:
        return [f"remote script path {s.path!r} {why}"]
    bad_keys = [(k, module_key_problem(k)) for k in s.modules]
    return [f"module {k!r} of {s.path} {p}" for k, p in bad_keys if p is not None]


def _file_changes(
    path_of_script: str, texts: Mapping[str, str], doc: Any, loc: LocalEntry | None, view: FileView,
    recorded: Mapping[str, str], owners: dict[str, str], problems: list[str],
) -> tuple[list[FileChange], dict[str, str]]:
    """The files of one remote script to add or change (conflicts marked), and the record of every
    file of it after the pull; a target leaving the repo or written by two scripts is a problem."""
    changes: list[FileChange] = []
    record: dict[str, str] = {}
    for path, text in texts.items():
        if view.escapes(path):
            problems.append(f"{path} (of remote script {path_of_script}) resolves outside the repo")
            continue
        if owners.setdefault(path, path_of_script) != path_of_script:
            problems.append(f"{path} would be written by both {owners[path]} and {path_of_script}")
            continue
        data = text.encode("utf-8", errors="surrogatepass")
        current = view.read(path)
        if current is None:
            changes.append(FileChange(path, "add", data))
        elif current == data or _same_text(current, text) or (
            loc is not None and path == loc.metadata_file and loc.metadata == doc
        ):
            record[path] = digest(current)  # the same content (or the same metadata document): kept
            continue
        else:
            changes.append(FileChange(path, "change", data, _local_change(path, current, recorded)))
        record[path] = digest(data)
    return changes, record


def _local_only(
    plan: PullPlan, local: Mapping[str, LocalEntry], remote_paths: set[str], view: FileView,
    recorded: Mapping[str, str], problems: list[str],
) -> None:
    """Local scripts the workspace does not have: deleted there if a sync recorded them, else new work."""
    for path, loc in local.items():
        if path in remote_paths:
            continue
        if not any(f in recorded for f in loc.files):
            plan.local_only.append(path)  # never pushed nor pulled: new local work, not a deletion
            continue
        changes = _deletions(loc, set(), view, recorded, problems)
        plan.scripts.append(ScriptPull(path, "delete", loc.layout, loc.main_file, tuple(changes)))


def _refuse(problems: list[str]) -> None:
    """Nothing may be written when any remote name or target is unsafe: one error lists them all."""
    if problems:
        more = f" (and {len(problems) - 1} more: " + "; ".join(problems[1:]) + ")" if len(problems) > 1 else ""
        raise RejectedError(
            f"refusing to pull: {problems[0]}{more}",
            hint="nothing was written; archive or rename the offending script in the workspace",
        )


def _deletions(
    loc: LocalEntry, keep: set[str], view: FileView, recorded: Mapping[str, str], problems: list[str],
) -> list[FileChange]:
    out: list[FileChange] = []
    for path in loc.files:
        if path in keep:
            continue
        if view.escapes(path):
            problems.append(f"{path} (of local script {loc.remote_path}) resolves outside the repo")
            continue
        current = view.read(path)
        if current is not None:
            out.append(FileChange(path, "delete", None, _local_change(path, current, recorded)))
    return out
