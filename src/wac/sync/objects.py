"""Variables, resources and resource types in ``wac sync push|pull`` (beside the scripts' plans).

Files, in Windmill's formats (:mod:`wac.project.objectfiles`): ``f|u|g/…/X.variable.yaml`` and
``X.resource.yaml`` (subject to wmill.yaml's includes/excludes), ``NAME.resource-type.yaml`` at
the repo root (only ``skipResourceTypes`` applies, as in wmill). ``skipVariables``,
``skipResources``, ``skipResourceTypes`` leave a kind out entirely; ``skipSecrets`` (default true)
leaves out secret variables, so a secret is pulled only when asked.

Byte for byte: a push stores each file's text with the object; a pull writes that text back
while the object is unchanged, else the file the wmill CLI would write. A malformed file stops
the push before anything is sent. The hook into the sync commands is :func:`plan_push` /
:func:`apply_push` and :func:`plan_pull` / :func:`apply_pull`, each one pure plan and one apply.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wac.errors import ObjectError, RejectedError
from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.project.objectfiles import (
    KINDS,
    LABELS,
    ObjectFile,
    file_name,
    kind_of,
    parse,
    remote_path,
    render,
)
from wac.project.safepath import relative_path_problem
from wac.sync.paths import escapes
from wac.sync.state import SyncState, digest

if TYPE_CHECKING:
    from wac.engine.backend import Backend

ROOTS = ("f", "u", "g")
SKIP_KEYS = {"variable": "skipVariables", "resource": "skipResources", "resource_type": "skipResourceTypes"}


@dataclass(frozen=True)
class Skips:
    kinds: frozenset[str]
    secrets: bool

    @classmethod
    def of(cls, config: RepoConfig) -> Skips:
        raw = config.raw or {}
        kinds = frozenset(k for k, key in SKIP_KEYS.items() if raw.get(key) is True)
        return cls(kinds, raw.get("skipSecrets", True) is not False)


def in_scope(config: RepoConfig, kind: str, rel: str) -> bool:
    """Resource types sit at the repo root and ignore includes/excludes (as in wmill)."""
    return True if kind == "resource_type" else config.accepts(rel)


@dataclass(frozen=True)
class LocalObject:
    rel: str
    text: str
    obj: ObjectFile


def read_local(root: Path, config: RepoConfig) -> dict[tuple[str, str], LocalObject]:
    """The repo's object files in scope, parsed.

    Raises:
        ObjectError: a file is malformed (the message names it); nothing is pushed then.
    """
    skips = Skips.of(config)
    found: dict[tuple[str, str], LocalObject] = {}
    candidates: list[str] = []
    for top in ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            candidates += [f"{rel_dir}/{f}" for f in sorted(filenames)]
    candidates += sorted(p.name for p in root.glob("*.resource-type.yaml") if p.is_file())
    for rel in candidates:
        kind = kind_of(rel)
        if kind is None or kind in skips.kinds or (kind == "resource_type") != ("/" not in rel):
            continue
        if not in_scope(config, kind, rel):
            continue
        try:
            text = (root / rel).read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ObjectError(f"{rel}: cannot be read as UTF-8 text: {exc}") from None
        obj = parse(kind, rel, text)
        if kind == "variable" and obj.is_secret and skips.secrets:
            continue
        found[(kind, obj.path)] = LocalObject(rel, text, obj)
    return found


def _same(a: ObjectFile, b: ObjectFile) -> bool:
    return (a.value, a.description, a.is_secret, a.resource_type or None) == (
        b.value, b.description, b.is_secret, b.resource_type or None)


# ------------------------------------------------------------------------------------------ push


@dataclass(frozen=True)
class ObjectChange:
    """One object file a push or a pull changes."""

    action: str  # "add" | "change" | "delete"
    kind: str
    path: str
    rel: str

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-"}[self.action]

    @property
    def label(self) -> str:
        return LABELS[self.kind]


@dataclass(frozen=True)
class ObjectPush(ObjectChange):
    local: LocalObject | None = None

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "path": self.path, "file": self.rel}


def remote_objects(backend: Backend, config: RepoConfig) -> dict[tuple[str, str], ObjectFile]:
    """The workspace's objects of the kinds not skipped (secret values only when secrets sync)."""
    skips = Skips.of(config)
    out: dict[tuple[str, str], ObjectFile] = {}
    for kind in KINDS:
        if kind in skips.kinds:
            continue
        for obj in backend.list_objects(kind, reveal=not skips.secrets):
            if kind == "variable" and obj.is_secret and skips.secrets:
                continue
            out[(kind, obj.path)] = obj
    return out


def plan_push(local: dict[tuple[str, str], LocalObject], remote: dict[tuple[str, str], ObjectFile],
              sources: dict[tuple[str, str], str | None], config: RepoConfig) -> list[ObjectPush]:
    """Added: only in the repo. Changed: different content (or, where the workspace keeps the file
    text, different bytes). Deleted: only in the workspace, where the repo would keep it in scope."""
    _check_types(local, remote)
    items: list[ObjectPush] = []
    for key, loc in local.items():
        head = remote.get(key)
        if head is None:
            items.append(ObjectPush("add", key[0], key[1], loc.rel, loc))
        elif not _same(loc.obj, head) or (key in sources and sources[key] not in (None, loc.text)):
            items.append(ObjectPush("change", key[0], key[1], loc.rel, loc))
    for key in remote:
        if key not in local:
            rel = file_name(*key)
            if in_scope(config, key[0], rel):
                items.append(ObjectPush("delete", key[0], key[1], rel))
    return sorted(items, key=lambda i: (KINDS.index(i.kind), sort_key(i.path)))


def _check_types(local: dict[tuple[str, str], LocalObject], remote: dict[tuple[str, str], ObjectFile]) -> None:
    """Every resource to push against its type as it will be (the repo's, else the workspace's),
    before anything is sent.

    Raises:
        ObjectError: a resource changes type or misses what its type's schema requires.
    """
    from wac.engine.objects import schema_problem

    for (kind, path), loc in local.items():
        if kind != "resource" or loc.obj.resource_type in (None, "", "any"):
            continue
        rtype = str(loc.obj.resource_type)
        old = remote.get(("resource", path))
        if old is not None and old.resource_type and old.resource_type != rtype:
            raise ObjectError(f"{loc.rel}: resource {path} is a {old.resource_type} in the workspace, not a {rtype}",
                              hint="delete it in the workspace first, or keep its resource_type")
        typ = local.get(("resource_type", rtype))
        schema = typ.obj.value if typ is not None else getattr(remote.get(("resource_type", rtype)), "value", None)
        problem = schema_problem(loc.obj.value, schema) if isinstance(schema, dict) else None
        if problem:
            raise ObjectError(f"{loc.rel}: resource {path} does not match its type {rtype}: {problem}",
                              hint=f"see the schema in {rtype}.resource-type.yaml")


def apply_push(backend: Backend, items: list[ObjectPush]) -> int:
    """Resource types first (resources are checked against them), then variables, then resources."""
    order = {"resource_type": 0, "variable": 1, "resource": 2}
    done = 0
    for item in sorted(items, key=lambda i: (i.action == "delete", order[i.kind])):
        if item.action == "delete":
            backend.delete_object(item.kind, item.path)
        else:
            assert item.local is not None
            backend.put_object(item.local.obj, source=item.local.text)
        done += 1
    return done


def record(state: SyncState, local: dict[tuple[str, str], LocalObject]) -> None:
    """After a push the workspace holds the object files as they were read: record them as synced."""
    for loc in local.values():
        state.files[loc.rel] = digest(loc.text.encode("utf-8"))


# ------------------------------------------------------------------------------------------ pull


@dataclass(frozen=True)
class ObjectPull(ObjectChange):
    data: bytes | None = None
    conflict: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "path": self.path, "file": self.rel,
                "conflict": self.conflict}


@dataclass
class ObjectPullPlan:
    items: list[ObjectPull] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # repo files already as the workspace has them

    @property
    def conflicts(self) -> list[ObjectPull]:
        return [i for i in self.items if i.conflict]


def _target_problem(kind: str, path: str) -> str | None:
    problem = relative_path_problem(file_name(kind, path))
    if problem:
        return problem
    if kind == "resource_type":
        return "a resource type name may not contain '/'" if "/" in path else None
    parts = path.split("/")
    if parts[0] not in ROOTS or len(parts) < 3 or any(p.startswith(".") or not p for p in parts):
        return "is not a path under f/, u/ or g/ (f/<folder>/<name>)"
    return None


def plan_pull(root: Path, remote: dict[tuple[str, str], ObjectFile], sources: dict[tuple[str, str], str | None],
              local: dict[tuple[str, str], LocalObject], state: SyncState, config: RepoConfig) -> ObjectPullPlan:
    """The files the workspace's objects become; a local file changed since the last sync (or
    never synced) that the pull would overwrite or delete is a conflict.

    Raises:
        RejectedError: a remote name is not a safe repo path (nothing written).
    """
    plan = ObjectPullPlan()
    for (kind, path), obj in remote.items():
        problem = _target_problem(kind, path)
        rel = file_name(kind, path)
        if problem or escapes(root, rel):
            raise RejectedError(f"the workspace has a {LABELS[kind]} named {path!r}, which {problem or 'escapes the repo'}; "
                                "nothing pulled", hint="rename it in the workspace")
        if not in_scope(config, kind, rel):
            continue
        text = sources.get((kind, path))
        if text is None or not _same(parse(kind, rel, text), obj):
            text = render(obj)
        data = text.encode("utf-8")
        current = _read(root / rel)
        if current == data:
            plan.unchanged.append(rel)
            continue
        action = "add" if current is None else "change"
        plan.items.append(ObjectPull(action, kind, path, rel, data, _conflict(state, rel, current)))
    for (kind, path), loc in local.items():
        if (kind, path) not in remote:
            plan.items.append(ObjectPull("delete", kind, path, loc.rel, None, _conflict(state, loc.rel, loc.text.encode())))
    plan.items.sort(key=lambda i: (KINDS.index(i.kind), sort_key(i.path)))
    return plan


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _conflict(state: SyncState, rel: str, current: bytes | None) -> str | None:
    if current is None:
        return None
    recorded = state.files.get(rel)
    if recorded is None:
        return "not written by a sync yet"
    return None if recorded == digest(current) else "changed locally since the last sync"


def apply_pull(root: Path, plan: ObjectPullPlan, state: SyncState) -> tuple[int, int]:
    """Write and delete the plan's files (each written aside and renamed); record them."""
    from wac.project.textio import atomic_write

    written = deleted = 0
    for item in plan.items:
        target = root / item.rel
        if item.data is None:
            try:
                target.unlink()
            except FileNotFoundError:
                pass
            state.files.pop(item.rel, None)
            deleted += 1
        else:
            atomic_write(target, item.data)
            state.files[item.rel] = digest(item.data)
            written += 1
    for rel in plan.unchanged:
        state.files[rel] = digest((root / rel).read_bytes())
    return written, deleted


def sources_of(backend: Backend, keys: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The file texts the workspace kept for these objects (wac's own workspaces keep them; a
    Windmill server keeps none: every value None)."""
    return {key: backend.object_source(*key) for key in keys}


def remote_path_of(rel: str) -> tuple[str, str] | None:
    kind = kind_of(rel)
    return None if kind is None else (kind, remote_path(kind, rel))
