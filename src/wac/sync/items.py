"""Push and pull of the registry's items (flows, apps, schedules, ...): pure plans, then apply.

An item travels as its files' exact text. Push: add / change (the files differ from the
workspace's head) / delete (the workspace has it, the repo no longer does, and its files are in
scope). Pull: write every file that differs, delete the files of the item the workspace no longer
has in that form; a file changed locally since the last sync is a conflict (only ``--yes``
overwrites it), as for scripts. Every name a workspace sends is checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.engine.items import ItemRecord, NewItem
from wac.errors import MetadataError, RejectedError
from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.project.safepath import escaped, relative_path_problem
from wac.sync.kinds import ROOTS, Kind, LocalItem, all_kinds
from wac.sync.local import FileView
from wac.sync.state import digest

CHANGED = "changed locally since the last sync"
NOT_RECORDED = "not written by a sync yet"


@dataclass(frozen=True)
class ItemChange:
    """One item to deploy (``item``) or archive (None) on push."""

    action: str  # "add" | "change" | "delete"
    kind: str
    path: str
    item: NewItem | None

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-"}[self.action]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "action": self.action}


@dataclass
class ItemPushPlan:
    items: list[ItemChange] = field(default_factory=list)
    unchanged: list[tuple[str, str]] = field(default_factory=list)

    def to_json(self) -> list[dict[str, Any]]:
        return [c.to_json() for c in self.items]


def read_items(root: Path, local: Sequence[LocalItem]) -> list[NewItem]:
    """The items with their files' text (exact: BOM, CRLF and all).

    Raises:
        MetadataError: a file is not UTF-8 text (named).
    """
    out = []
    for item in local:
        files: dict[str, str] = {}
        for rel in item.files:
            data = (root / rel).read_bytes()
            try:
                files[rel] = data.decode("utf-8")
            except UnicodeDecodeError:
                raise MetadataError(f"cannot push {rel} (of {item.kind} {item.path}): not UTF-8 text",
                                    hint="save it as UTF-8, or leave it out with 'excludes' in wmill.yaml") from None
        out.append(NewItem(kind=item.kind, path=item.path, files=files))
    return out


def _in_scope(config: RepoConfig, files: Mapping[str, str]) -> bool:
    return bool(files) and all(r.split("/", 1)[0] in ROOTS and config.accepts(r) for r in files)


def plan_item_push(local: Sequence[NewItem], remote: Sequence[ItemRecord], config: RepoConfig) -> ItemPushPlan:
    """Compare the repo's items with the workspace's live ones (enabled kinds only)."""
    kinds = all_kinds()
    heads = {(r.kind, r.path): r for r in remote}
    plan = ItemPushPlan()
    seen: set[tuple[str, str]] = set()
    for item in local:
        key = (item.kind, item.path)
        seen.add(key)
        head = heads.get(key)
        if head is None:
            plan.items.append(ItemChange("add", item.kind, item.path, item))
        elif head.hash != item.content_hash():
            plan.items.append(ItemChange("change", item.kind, item.path, item))
        else:
            plan.unchanged.append(key)
    for key, head in heads.items():
        kind = kinds.get(head.kind)
        if key in seen or kind is None or not kind.enabled(config) or kind.stored != "item":
            continue
        if _in_scope(config, head.item.files):
            plan.items.append(ItemChange("delete", head.kind, head.path, None))
    plan.items.sort(key=lambda c: (sort_key(c.path), c.kind))
    return plan


@dataclass(frozen=True)
class FileWrite:
    path: str
    action: str  # "add" | "change" | "delete"
    data: bytes | None
    conflict: str | None = None

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-"}[self.action]


@dataclass(frozen=True)
class ItemPull:
    kind: str
    path: str
    action: str  # "add" | "change" | "delete" | "unchanged"
    files: tuple[FileWrite, ...] = ()
    record: Mapping[str, str] = field(default_factory=dict)

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-", "unchanged": "="}[self.action]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "action": self.action,
                "files": [{"path": f.path, "action": f.action, "conflict": f.conflict} for f in self.files]}


@dataclass
class ItemPullPlan:
    items: list[ItemPull] = field(default_factory=list)

    @property
    def changed(self) -> list[ItemPull]:
        return [i for i in self.items if i.action != "unchanged"]

    @property
    def conflicts(self) -> list[FileWrite]:
        return [f for i in self.items for f in i.files if f.conflict]


def _problem(kind: Kind | None, record: ItemRecord) -> list[str]:
    name = f"{escaped(record.kind)} {escaped(record.path)!r}"
    if kind is None:
        return [f"remote item {name} is of a kind wac does not know"]
    why = relative_path_problem(record.path)
    if why is not None:
        return [f"remote {kind.label} path {record.path!r} {why}"]
    out = []
    files = record.item.files
    if not files:
        out.append(f"remote {kind.label} {record.path} has no files")
    for rel in files:
        why = relative_path_problem(rel)
        if why is None and rel.split("/", 1)[0] not in ROOTS:
            why = "is not under f/, u/ or g/"
        if why is None and not kind.owns(record.path, rel):
            why = f"is not a file of the {kind.label} {record.path}"
        if why is not None:
            out.append(f"file {rel!r} of remote {kind.label} {record.path} {why}")
    return out


def _local_change(path: str, current: bytes, recorded: Mapping[str, str]) -> str | None:
    if recorded.get(path) == digest(current):
        return None
    return CHANGED if path in recorded else NOT_RECORDED


def plan_item_pull(
    remote: Sequence[ItemRecord], local: Sequence[LocalItem], view: FileView, recorded: Mapping[str, str],
    config: RepoConfig,
) -> ItemPullPlan:
    """The files a pull of the workspace's items writes and deletes, and their conflicts.

    Raises:
        RejectedError: a remote name is unsafe or a target leaves the repo (nothing may be written).
    """
    kinds = all_kinds()
    problems: list[str] = []
    plan = ItemPullPlan()
    mine = {(i.kind, i.path): i for i in local}
    seen: set[tuple[str, str]] = set()
    for record in remote:
        kind = kinds.get(record.kind)
        if kind is not None and (not kind.enabled(config) or kind.stored != "item"):
            continue
        bad = _problem(kind, record)
        if bad:
            problems += bad
            continue
        files = record.item.files
        if not _in_scope(config, files):
            continue
        key = (record.kind, record.path)
        seen.add(key)
        writes: list[FileWrite] = []
        result: dict[str, str] = {}
        for rel, text in sorted(files.items()):
            if view.escapes(rel):
                problems.append(f"{rel} (of remote {record.kind} {record.path}) resolves outside the repo")
                continue
            data = text.encode("utf-8")
            current = view.read(rel)
            if current == data:
                result[rel] = digest(data)
                continue
            writes.append(FileWrite(rel, "add" if current is None else "change", data,
                                    None if current is None else _local_change(rel, current, recorded)))
            result[rel] = digest(data)
        loc = mine.get(key)
        for rel in loc.files if loc is not None else ():
            if rel not in files:
                current = view.read(rel)
                if current is not None:
                    writes.append(FileWrite(rel, "delete", None, _local_change(rel, current, recorded)))
        action = "unchanged" if not writes else ("add" if loc is None else "change")
        plan.items.append(ItemPull(record.kind, record.path, action, tuple(writes), result))
    for key, loc in mine.items():
        if key in seen or not any(f in recorded for f in loc.files):
            continue  # new local work, never synced: not a deletion
        writes = []
        for rel in loc.files:
            current = view.read(rel)
            if current is not None:
                writes.append(FileWrite(rel, "delete", None, _local_change(rel, current, recorded)))
        plan.items.append(ItemPull(loc.kind, loc.path, "delete", tuple(writes)))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise RejectedError(f"refusing to pull: {problems[0]}{more}",
                            hint="nothing was written; archive or rename the offending item in the workspace")
    plan.items.sort(key=lambda i: (sort_key(i.path), i.kind))
    return plan
