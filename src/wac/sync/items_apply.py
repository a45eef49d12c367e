"""Carrying out item plans for ``wac sync push|pull`` (the CLI calls these beside the script ones)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wac.errors import WacError
from wac.project.config import RepoConfig
from wac.project.textio import atomic_write
from wac.sync.apply import _delete
from wac.sync.items import (
    ItemPullPlan,
    ItemPushPlan,
    plan_item_pull,
    plan_item_push,
    read_items,
)
from wac.sync.kinds import all_kinds, local_items
from wac.sync.local import DiskView
from wac.sync.state import SyncState, digest

if TYPE_CHECKING:
    from wac.engine.backend import Backend


def _carried(root: Path, config: RepoConfig, backend: Backend, push: bool) -> tuple[list[Any], list[str]]:
    """The repo's items of the kinds ``backend`` carries, and notes on the rest (a Windmill server
    carries flows, apps, raw apps, schedules, triggers and folders). A push hands it the repo (wmill
    compares flows using the repo's inline file names), a pull does not (wmill writes its own)."""
    backend.configure_items(config, root if push else None)
    local, notes = local_items(root, config)
    kinds = backend.item_kinds
    if kinds is None:
        return local, notes
    left = [i for i in local if i.kind not in kinds]
    if left:
        labels = sorted({_label(i.kind) for i in left})
        notes.append(f"{len(left)} item(s) ({', '.join(labels)}) not synced: wac does not carry them to "
                     f"workspace '{backend.name}' (a Windmill server) yet")
    return [i for i in local if i.kind in kinds], notes


def _label(kind: str) -> str:
    found = all_kinds().get(kind)
    return found.label if found is not None else kind


@dataclass
class ItemsPush:
    plan: ItemPushPlan
    snapshot: dict[str, str] = field(default_factory=dict)  # file -> digest, taken before reading
    notes: list[str] = field(default_factory=list)

    def counts(self) -> str:
        of = [c.action for c in self.plan.items]
        return f"{of.count('add')} added, {of.count('change')} changed, {of.count('delete')} archived"


def prepare_push(root: Path, config: RepoConfig, backend: Backend) -> ItemsPush:
    """The item push plan, with notes on the repo's items of kinds the workspace does not carry."""
    local, notes = _carried(root, config, backend, push=True)
    snapshot = {rel: digest((root / rel).read_bytes()) for item in local for rel in item.files}
    plan = plan_item_push(read_items(root, local), backend.list_items(), config)
    return ItemsPush(plan, snapshot, notes)


def render_item_push(plan: ItemPushPlan) -> str:
    return "".join(f"{c.sign} {_label(c.kind)} {c.path}\n" for c in plan.items)


def apply_item_push(backend: Backend, plan: ItemPushPlan, message: str | None = None) -> None:
    """Deploy or archive the plan's items (a Windmill server sends ``message`` as their
    ``deployment_message``, where wmill sends it)."""
    for change in plan.items:
        if change.item is not None:
            backend.deploy_item(replace(change.item, deployment_message=message) if message else change.item)
        else:
            backend.archive_item(change.kind, change.path)


def record_item_push(state: SyncState, push: ItemsPush) -> None:
    """The pushed items' files, as read, are now what the workspace holds (saved with the scripts')."""
    state.files.update(push.snapshot)


def prepare_pull(root: Path, config: RepoConfig, backend: Backend, recorded: dict[str, str]) -> ItemPullPlan:
    """The item pull plan."""
    local, _ = _carried(root, config, backend, push=False)
    return plan_item_pull(backend.list_items(), local, DiskView(root), recorded, config)


def render_item_pull(plan: ItemPullPlan) -> str:
    lines = []
    for item in plan.changed:
        lines.append(f"{item.sign} {_label(item.kind)} {item.path}")
        for f in item.files:
            note = f"  (conflict: {f.conflict})" if f.conflict else ""
            lines.append(f"    {f.sign} {f.path}{note}")
    return "".join(line + "\n" for line in lines)


def apply_item_pull(root: Path, plan: ItemPullPlan, state: SyncState) -> tuple[int, int]:
    """Write and delete the plan's files; update (not save) the sync state. ``(written, deleted)``."""
    written = deleted = 0
    try:
        for item in plan.items:
            for f in item.files:
                if f.data is not None:
                    atomic_write(root / f.path, f.data)
                    written += 1
        for item in plan.items:
            for f in item.files:
                if f.data is None:
                    _delete(root, f.path)  # and the folders it leaves empty
                    state.files.pop(f.path, None)
                    deleted += 1
    except OSError as exc:
        raise WacError(f"pull stopped: cannot write {exc.filename or ''}: {exc.strerror or exc}",
                       hint="fix the file or folder and pull again; files already written are kept") from exc
    for item in plan.items:
        state.files.update(item.record)
    _refresh_lock_entries(root, plan)
    return written, deleted


def _refresh_lock_entries(root: Path, plan: ItemPullPlan) -> None:
    """Pulled flows and apps get their wmill-lock.yaml entries from disk, as rehash records them."""
    from wac.project.bundles import discover_bundles
    from wac.project.lockfile import load_lockfile

    pulled = {(i.kind, i.path) for i in plan.items if i.action in ("add", "change")}
    if not any(kind in ("flow", "app", "raw_app") for kind, _ in pulled):
        return
    lock = load_lockfile(root)
    for bundle in discover_bundles(root):
        if (bundle.kind, bundle.remote_path) in pulled:
            lock.clear(bundle.folder)
            for sub, value in bundle.entries().items():
                lock.set(bundle.folder, value, sub)
    lock.save()
