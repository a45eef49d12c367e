"""The staleness plan of generate-metadata: one pure function feeds ``--dry-run`` and real runs.

A script is *directly* stale when its recomputed hash differs from wmill-lock.yaml (``content
changed``); staleness then flows to importers along workspace-import edges, transitively
(``depends on f/x/y``), and from a changed ``dependencies/*.requirements.in`` to the Python
scripts that use it. Nothing here writes to disk.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from wac.errors import WacError
from wac.metadata.bundles import BundleState, load_bundle_state
from wac.metadata.scope import in_folder, normalize_folder
from wac.metadata.state import ScriptState, load_state
from wac.project.bundles import discover_bundles
from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.project.discovery import Discovery, ScriptRef, discover
from wac.project.hashing import dependency_file_hash
from wac.project.lockfile import Lockfile, load_lockfile
from wac.project.textio import read_text

CONTENT_CHANGED = "content changed"
LOCK_MISSING = "lock file missing"
_INLINE_LOCK = re.compile(r"""^lock:[ \t]*['"]?!inline[ \t]+([^'"\r\n]+?)['"]?[ \t]*\r?$""", re.MULTILINE)
DEPENDENCIES_DIR = "dependencies"

# Only files matching this can import a workspace script (Windmill's own loader test).
_MAY_IMPORT_WORKSPACE = re.compile(r"^[ \t]*(?:from|import)[ \t]+(?:\.|[fu]\.)", re.MULTILINE)
_REQ_ANNOTATION = re.compile(r"^#\s?(extra_)?requirements:(.*)$", re.MULTILINE)

ImportsFn = Callable[[ScriptRef, str], tuple[str, ...]]


@dataclass(frozen=True)
class PlanItem:
    """One stale item."""

    kind: Literal["script", "dependency", "flow", "app"]
    local_path: str
    remote_path: str
    reason: str
    stale_modules: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The item as in ``--json``."""
        return {
            "kind": self.kind,
            "path": self.local_path,
            "remote_path": self.remote_path,
            "reason": self.reason,
            "stale_modules": list(self.stale_modules),
        }


@dataclass
class Plan:
    """Stale items (dependency files first, then scripts, each sorted) and what was seen."""

    items: list[PlanItem]
    warnings: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    scanned: int = 0
    states: dict[str, ScriptState] = field(default_factory=dict)
    dependency_hashes: dict[str, str] = field(default_factory=dict)
    lockfile: Lockfile | None = None
    missing_metadata: list[str] = field(default_factory=list)
    bundles: dict[str, BundleState] = field(default_factory=dict)
    checked: tuple[str, ...] = ("scripts", "flows", "apps")

    @property
    def scripts(self) -> list[PlanItem]:
        """The stale scripts."""
        return [i for i in self.items if i.kind == "script"]

    @property
    def flows(self) -> list[PlanItem]:
        """The stale flows."""
        return [i for i in self.items if i.kind == "flow"]

    @property
    def apps(self) -> list[PlanItem]:
        """The stale apps and raw apps."""
        return [i for i in self.items if i.kind == "app"]

    @property
    def dependencies(self) -> list[PlanItem]:
        """The stale workspace dependency files."""
        return [i for i in self.items if i.kind == "dependency"]

    def to_json(self) -> dict[str, Any]:
        """The plan as one JSON document."""
        return {
            "stale": [i.to_json() for i in self.items],
            "warnings": list(self.warnings),
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
            "scanned": self.scanned,
            "missing_metadata": list(self.missing_metadata),
        }


def dependency_files(root: Path) -> dict[str, str]:
    """``{local path: content}`` of the top-level Python files of ``dependencies/``."""
    folder = root / DEPENDENCIES_DIR
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.iterdir(), key=lambda p: sort_key(p.name)):
        if path.is_file() and path.name.endswith("requirements.in"):
            out[f"{DEPENDENCIES_DIR}/{path.name}"] = read_text(path)
    return out


def dependency_files_of(text: str) -> tuple[str, ...]:
    """The ``dependencies/`` files a Python script uses, from its requirement annotations.

    No annotation: the unnamed ``requirements.in``. ``# requirements:`` (manual list) uses none,
    ``# requirements: a, b`` uses ``a.requirements.in`` and ``b.requirements.in``;
    ``# extra_requirements: a`` adds named files to the unnamed one.
    """
    manual = False
    named: list[str] = []
    for match in _REQ_ANNOTATION.finditer(text):
        extra, rest = match.group(1), match.group(2).strip()
        if not extra:
            manual = True
        named += [n.strip() for n in rest.split(",") if n.strip()]
    files = [] if manual else [f"{DEPENDENCIES_DIR}/requirements.in"]
    files += [f"{DEPENDENCIES_DIR}/{n}.requirements.in" for n in named]
    return tuple(files)


def plan(
    root: Path,
    config: RepoConfig,
    folder: str | None = None,
    strict_folder_boundaries: bool = False,
    imports_of: ImportsFn | None = None,
    lockfile: Lockfile | None = None,
    *,
    skip_scripts: bool = False,
    skip_flows: bool = False,
    skip_apps: bool = False,
) -> Plan:
    """Compute what generate-metadata would regenerate, and why. Reads the repo, writes nothing.

    Args:
        root: the repo root.
        config: wmill.yaml settings (with -i/-e already applied).
        folder: keep only items in this folder, or importing into it (transitively).
        strict_folder_boundaries: keep only items inside ``folder``; warn about importers outside.
        imports_of: workspace-import extractor (default: the parser), injectable for tests.
        lockfile: an already loaded wmill-lock.yaml.
        skip_scripts: leave scripts out (``--skip-scripts``); likewise ``skip_flows``, ``skip_apps``.
    """
    lock = lockfile or load_lockfile(root)
    found = discover(root, config) if not skip_scripts else Discovery(scripts=[], skipped=[])
    result = Plan(items=[], skipped=list(found.skipped), scanned=len(found.scripts), lockfile=lock)
    result.checked = tuple(
        k for k, skip in (("scripts", skip_scripts), ("flows", skip_flows), ("apps", skip_apps)) if not skip
    )
    scripts = _read_scripts(root, found.scripts, lock, result)
    stale_deps = _stale_dependency_files(root, lock, result)
    importers, dep_users = _import_edges(result, scripts.by_remote, imports_of, needed=bool(scripts.reasons or stale_deps))
    _propagate(scripts.reasons, stale_deps, dep_users, importers)
    keep = _selection(scripts, importers, folder, strict_folder_boundaries, result)
    _list_items(result, scripts, stale_deps, keep)
    if not (skip_flows and skip_apps):
        _plan_bundles(root, config, lock, result, folder, skip_flows, skip_apps)
    if folder and normalize_folder(folder):
        # errors of files outside the selection do not fail it
        result.skipped = [(p, r) for p, r in result.skipped if in_folder(p, p, folder) or _under(p, folder)]
    result.warnings.sort(key=sort_key)
    return result


@dataclass
class _Scripts:
    """What phase 1 learnt of the scripts: each by remote path, why the directly stale ones are
    (then also the propagated ones), and which module locks of each changed."""

    by_remote: dict[str, ScriptRef] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    stale_modules: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _read_scripts(root: Path, refs: list[ScriptRef], lock: Lockfile, result: Plan) -> _Scripts:
    """Phase 1: read each script's state; the directly stale ones (content changed, lock missing)."""
    out = _Scripts()
    for ref in refs:
        try:
            state = load_state(ref)
        except WacError as exc:
            result.skipped.append((ref.local_path, exc.message))
            continue
        out.by_remote[ref.remote_path] = ref
        result.states[ref.remote_path] = state
        if not state.metadata_exists:
            result.missing_metadata.append(state.metadata_path.relative_to(root).as_posix())
        if lock.get(state.key) != state.entries[state.key]:
            out.reasons[ref.remote_path] = CONTENT_CHANGED
            out.stale_modules[ref.remote_path] = tuple(
                key.split("+", 1)[1]
                for key, value in state.entries.items()
                if not key.endswith("+__script_hash") and "+" in key and lock.get(key) != value
            )
        elif state.metadata_exists and _lock_missing(root, state.metadata_text):
            out.reasons[ref.remote_path] = LOCK_MISSING
    return out


def _stale_dependency_files(root: Path, lock: Lockfile, result: Plan) -> list[str]:
    """Phase 2: hash the ``dependencies/`` files; those whose hash is not the recorded one."""
    stale: list[str] = []
    for path, text in dependency_files(root).items():
        value = dependency_file_hash(text, path)
        result.dependency_hashes[path] = value
        if lock.get(path) != value:
            stale.append(path)
    return stale


def _import_edges(
    result: Plan, by_remote: dict[str, ScriptRef], imports_of: ImportsFn | None, *, needed: bool,
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Phase 3: ``(importers, dependency users)``: who imports each script, who uses each
    dependency file. Only needed when something is stale; only files that can import are parsed."""
    importers: dict[str, set[str]] = {}
    dep_users: dict[str, set[str]] = {}
    if not needed:
        return importers, dep_users
    candidates: list[ScriptState] = []
    for remote, state in result.states.items():
        if state.ref.language != "python3":
            continue
        for dep in dependency_files_of(state.main_text):
            dep_users.setdefault(dep, set()).add(remote)
        if _MAY_IMPORT_WORKSPACE.search(state.main_text):
            candidates.append(state)
    for state, targets in zip(candidates, _imports(candidates, imports_of), strict=True):
        remote = state.ref.remote_path
        for target in targets:
            if target in by_remote and target != remote:
                importers.setdefault(target, set()).add(remote)
    return importers, dep_users


def _propagate(
    reasons: dict[str, str], stale_deps: list[str], dep_users: dict[str, set[str]], importers: dict[str, set[str]],
) -> None:
    """Phase 4: staleness flows from a stale dependency file to its users and from a stale script
    to its importers, transitively, breadth first (``depends on X`` names the nearest cause)."""
    queue: deque[str] = deque(sorted(reasons, key=sort_key))
    for dep in stale_deps:
        for user in sorted(dep_users.get(dep, ()), key=sort_key):
            if user not in reasons:
                reasons[user] = f"depends on {dep}"
                queue.append(user)
    while queue:
        current = queue.popleft()
        for importer in sorted(importers.get(current, ()), key=sort_key):
            if importer not in reasons:
                reasons[importer] = f"depends on {current}"
                queue.append(importer)


def _selection(
    scripts: _Scripts, importers: dict[str, set[str]], folder: str | None, strict_folder_boundaries: bool,
    result: Plan,
) -> set[str]:
    """Phase 5: the stale scripts FOLDER selects: those inside it and those importing into it (with
    ``--strict-folder-boundaries`` the importers outside are left out, each with a warning)."""
    reasons, by_remote = scripts.reasons, scripts.by_remote
    if not (folder and normalize_folder(folder)):
        return set(reasons)
    inside = {r for r in by_remote if in_folder(r, by_remote[r].local_path, folder)}
    reaches = _reaching(inside, importers)
    keep = {r for r in reasons if r in inside}
    for remote in reasons:
        if remote in inside or remote not in reaches:
            continue
        if strict_folder_boundaries:
            result.warnings.append(
                f"{by_remote[remote].local_path} depends on something inside "
                f'"{normalize_folder(folder)}" but is outside it — skipped due to '
                "--strict-folder-boundaries. Next generate-metadata will not detect it as stale."
            )
        else:
            keep.add(remote)
    return keep


def _list_items(result: Plan, scripts: _Scripts, stale_deps: list[str], keep: set[str]) -> None:
    """Phase 6: the plan's items, dependency files first, then the kept scripts by local path."""
    for path in stale_deps:
        result.items.append(PlanItem("dependency", path, path, CONTENT_CHANGED))
    for remote in sorted(keep, key=lambda r: sort_key(scripts.by_remote[r].local_path)):
        result.items.append(
            PlanItem(
                "script",
                scripts.by_remote[remote].local_path,
                remote,
                scripts.reasons[remote],
                scripts.stale_modules.get(remote, ()),
            )
        )


def _under(local_path: str, folder: str) -> bool:
    norm = normalize_folder(folder)
    stem = re.sub(r"\.[^/.]+$", "", local_path)
    return local_path == norm or local_path.startswith(norm + "/") or stem == norm


def _lock_missing(root: Path, metadata_text: str) -> bool:
    """True when the metadata names an ``!inline`` lock file that does not exist (a stale lock)."""
    match = _INLINE_LOCK.search(metadata_text)
    return match is not None and not (root / match.group(1).strip()).is_file()


def _plan_bundles(
    root: Path, config: RepoConfig, lock: Lockfile, result: Plan, folder: str | None,
    skip_flows: bool, skip_apps: bool,
) -> None:
    """Stale flows and apps (wmill's ``isInsideFolder`` for FOLDER); malformed ones are skipped."""
    norm = normalize_folder(folder) if folder else ""
    for ref in discover_bundles(root, config):
        is_flow = ref.kind == "flow"
        if (skip_flows and is_flow) or (skip_apps and not is_flow):
            continue
        if norm:
            no_ext = re.sub(r"\.[^/.]+$", "", norm)
            inside = ref.folder == norm or ref.folder.startswith(norm + "/") or ref.folder in (norm, no_ext)
            if not inside:
                continue
        result.scanned += 1
        try:
            state = load_bundle_state(ref, lock)
        except WacError as exc:
            result.skipped.append((f"{ref.folder}/{ref.definition}", exc.message))
            continue
        result.bundles[ref.folder] = state
        if state.stale(lock):
            kind: Literal["flow", "app"] = "flow" if is_flow else "app"
            result.items.append(PlanItem(kind, ref.folder, ref.remote_path, CONTENT_CHANGED, state.changed))


def _imports(states: list[ScriptState], imports_of: ImportsFn | None) -> list[tuple[str, ...]]:
    """Workspace imports of each state, by ``imports_of`` or the parser (in a pool if many)."""
    if imports_of is not None:
        out: list[tuple[str, ...]] = []
        for state in states:
            try:
                out.append(imports_of(state.ref, state.main_text))
            except WacError:
                out.append(())
        return out
    from wac.metadata.analysis import Job, analyze_many

    jobs: list[Job] = [(s.main_text, s.ref.local_path, s.ref.remote_path, None) for s in states]
    return [a.workspace_imports for a in analyze_many(jobs, detail="metadata")]


def _reaching(targets: set[str], importers: dict[str, set[str]]) -> set[str]:
    """Every script that imports one of ``targets``, transitively."""
    seen: set[str] = set()
    queue = deque(targets)
    while queue:
        current = queue.popleft()
        for importer in importers.get(current, ()):
            if importer not in seen:
                seen.add(importer)
                queue.append(importer)
    return seen
