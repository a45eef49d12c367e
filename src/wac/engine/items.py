"""Workspace items other than scripts, as the engine keeps them: versioned sets of files.

A flow, app, raw app, schedule, trigger or folder is stored as the files the repo holds for it
(``{repo-relative path: text}``), exactly as pushed: a pull writes the same bytes back. ``kind`` and
``path`` (the Windmill path) name it; each push of a changed item is a new version, like scripts.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class NewItem:
    """One version of an item as pushed."""

    kind: str  # "flow", "app", "raw_app", "schedule", "http_trigger", "folder", ...
    path: str  # its Windmill path, e.g. "f/demo/etl"
    files: dict[str, str] = field(default_factory=dict)  # repo-relative path -> text
    # ``sync push --message``: sent to a Windmill server as wmill does; not part of the version
    deployment_message: str | None = field(default=None, compare=False)

    def content_hash(self) -> str:
        """The version's identity: its kind, path and files."""
        doc = {"kind": self.kind, "path": self.path, "files": dict(sorted(self.files.items()))}
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "files": dict(sorted(self.files.items()))}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> NewItem:
        files = doc.get("files") or {}
        return cls(kind=str(doc.get("kind") or ""), path=str(doc.get("path") or ""),
                   files={str(k): str(v) for k, v in files.items()} if isinstance(files, dict) else {})


@dataclass(frozen=True)
class ItemRecord:
    """One stored version of an item."""

    kind: str
    path: str
    hash: str
    parent_hash: str | None
    doc: dict[str, Any]
    created_at: float
    created_by: str = ""
    archived: bool = False

    @property
    def item(self) -> NewItem:
        return NewItem.from_json(self.doc)


class ItemStore(Protocol):
    """What a store offers for items (SQLite: :mod:`wac.engine.store._sqlite_items`)."""

    def put_item(self, kind: str, path: str, item_hash: str, doc: dict[str, Any],
                 created_by: str = "") -> tuple[bool, str | None]: ...
    def get_item(self, kind: str, path: str) -> ItemRecord | None: ...
    def list_items(self, kind: str | None = None) -> list[ItemRecord]: ...
    def archive_item(self, kind: str, path: str) -> int: ...
