"""``wac sync push``: which scripts to deploy or archive (a pure plan), then doing it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from wac.engine.backend import NewScript, ScriptVersion
from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.sync.paths import in_scope, remote_entry
from wac.sync.scripts import LocalScript


def fingerprint(script: NewScript, *, with_layout: bool) -> str:
    """A hash of what a deploy carries, to tell whether the workspace already has this version.

    ``with_layout`` adds the ``.script.yaml`` document (but its ``lock`` reference, which names a
    file of the local layout), which only a workspace that keeps it (wac's) can be compared on; a
    Windmill workspace does not, and an absent lock there reads the same as an empty one. The
    layout itself is not compared: clones that keep one script in different layouts (a pull keeps
    the local one) push the same version.
    """
    def lock(value: str | None) -> str | None:
        return value if with_layout else (value or "")

    doc: dict[str, Any] = {
        "content": script.content, "language": script.language, "summary": script.summary,
        "description": script.description, "kind": script.kind, "schema": script.schema,
        "lock": lock(script.lock), "options": script.options, "has_preprocessor": script.has_preprocessor,
        "modules": {k: [m.content, m.language, lock(m.lock)] for k, m in sorted(script.modules.items())},
    }
    if with_layout:
        meta = script.metadata
        doc["metadata"] = None if meta is None else {k: v for k, v in meta.items() if k != "lock"}
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


@dataclass(frozen=True)
class PushItem:
    action: str  # "add" | "change" | "delete"
    path: str  # remote path
    local_path: str | None  # the main file (None for a delete)
    script: NewScript | None  # what gets deployed (None for a delete)
    remote_hash: str | None  # the workspace's current version (None for an add)
    stale: bool = False

    @property
    def sign(self) -> str:
        return {"add": "+", "change": "~", "delete": "-"}[self.action]

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action, "path": self.path, "local_path": self.local_path,
            "remote_hash": self.remote_hash,
            "hash": self.script.content_hash() if self.script is not None else None,
            "stale": self.stale,
        }


@dataclass
class PushPlan:
    items: list[PushItem] = field(default_factory=list)  # sorted by remote path
    unchanged: list[str] = field(default_factory=list)  # remote paths already up to date
    stale: list[str] = field(default_factory=list)  # local paths whose metadata is stale (pushed or not)

    def of(self, action: str) -> list[PushItem]:
        return [i for i in self.items if i.action == action]

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [i.to_json() for i in self.of("add")],
            "changed": [i.to_json() for i in self.of("change")],
            "deleted": [i.to_json() for i in self.of("delete")],
            "unchanged": self.unchanged,
            "stale": self.stale,
        }


def plan_push(
    local: Sequence[LocalScript], remote: Sequence[ScriptVersion], config: RepoConfig, *,
    layout_recorded: bool, keep: Collection[str] = (),
) -> PushPlan:
    """Compare the repo's scripts with the workspace's live ones.

    Added: only local. Changed: both, different fingerprints. Deleted: live in the workspace, not
    in the repo, and where the repo would keep it is inside wmill.yaml's includes/excludes.
    ``layout_recorded``: the workspace keeps each version's metadata and layout (wac's backends).
    ``keep``: remote paths left as they are (scripts skipped as invalid are not deletions).
    """
    heads = {v.path: v for v in remote}
    plan = PushPlan()
    items: list[PushItem] = []
    seen: set[str] = set()
    for loc in local:
        s = loc.script
        seen.add(s.path)
        if loc.stale:
            plan.stale.append(loc.ref.local_path)
        head = heads.get(s.path)
        if head is None:
            items.append(PushItem("add", s.path, loc.ref.local_path, s, None, loc.stale))
            continue
        with_layout = layout_recorded or head.script.metadata is not None
        if fingerprint(s, with_layout=with_layout) == fingerprint(head.script, with_layout=with_layout):
            plan.unchanged.append(s.path)
        else:
            items.append(PushItem("change", s.path, loc.ref.local_path, s, head.hash, loc.stale))
    for path, head in heads.items():
        if path in seen or path in keep:
            continue
        entry = remote_entry(head.script, layout_recorded or head.script.metadata is not None, config.default_ts)
        if entry is not None and in_scope(config, entry):
            items.append(PushItem("delete", path, None, None, head.hash))
    plan.items = sorted(items, key=lambda i: sort_key(i.path))
    plan.unchanged.sort(key=sort_key)
    plan.stale.sort(key=sort_key)
    return plan
