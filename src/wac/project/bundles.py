"""Flows and apps on disk: which folders they are, and their ``wmill-lock.yaml`` hashes.

As wmill 1.819 (``generateFlowHash`` / ``generateAppHash``): a flow is a folder holding
``flow.yaml`` (or ``flow.json``), an app a folder holding ``app.yaml``, a raw app one holding
``raw_app.yaml``. Hashed are the files directly in the folder (a raw app: in its ``backend/``
folder) whose name ends with a script extension, each ``sha256(content + "{}")`` keyed by file
name; the top entry (``__flow_hash`` / ``__app_hash``) is ``sha256(JSON of the per-file map sorted
by UTF-16 code units)``. ``flow.yaml``, ``app.yaml``, locks and sub-folders are not hashed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.project.hashing import sha256_text
from wac.project.textio import read_text

FLOW_HASH_KEY = "__flow_hash"
APP_HASH_KEY = "__app_hash"
APP_BACKEND_FOLDER = "backend"
# the CLI's `exts` list: a file whose name ends with one of these is an (inline) script
HASHED_EXTENSIONS = (
    ".fetch.ts", ".deno.ts", ".bun.ts", ".ts", ".py", ".go", ".sh", ".pg.sql", ".my.sql",
    ".bq.sql", ".odb.sql", ".sf.sql", ".ms.sql", ".duckdb.sql", ".sql", ".gql", ".ps1", ".php",
    ".rs", ".cs", ".nu", ".playbook.yml", ".java", ".rb", ".r",
)
DEFINITION_FILES = {
    "flow.yaml": "flow", "flow.json": "flow", "app.yaml": "app", "raw_app.yaml": "raw_app",
}
BundleKind = Literal["flow", "app", "raw_app"]
_ROOTS = ("f", "u", "g")


@dataclass(frozen=True)
class BundleRef:
    """One flow, app or raw app folder of the repo."""

    repo_root: Path
    folder: str  # repo-relative, e.g. "f/x/y.flow" or "f/x/y__flow"
    kind: BundleKind
    definition: str  # "flow.yaml", "flow.json", "app.yaml" or "raw_app.yaml"

    @property
    def path(self) -> Path:
        """The folder on disk."""
        return self.repo_root / self.folder

    @property
    def definition_path(self) -> Path:
        """``flow.yaml`` (or ``app.yaml``, ...) on disk."""
        return self.path / self.definition

    @property
    def remote_path(self) -> str:
        """The Windmill path: the folder without its ``.flow`` / ``__flow`` (... app) suffix."""
        suffixes = {"flow": ("__flow", ".flow"), "app": ("__app", ".app"), "raw_app": ("__raw_app", ".raw_app")}
        for suffix in suffixes[self.kind]:
            if self.folder.endswith(suffix):
                return self.folder[: -len(suffix)]
        return self.folder

    @property
    def top_key(self) -> str:
        """``__flow_hash`` or ``__app_hash``."""
        return FLOW_HASH_KEY if self.kind == "flow" else APP_HASH_KEY

    @property
    def hashed_dir(self) -> Path:
        """Where the hashed files are: the folder, or a raw app's ``backend/``."""
        return self.path / APP_BACKEND_FOLDER if self.kind == "raw_app" else self.path

    def hashed_files(self) -> dict[str, Path]:
        """``{file name: path}`` of the files that enter the hash (top level only)."""
        out: dict[str, Path] = {}
        try:
            entries = list(os.scandir(self.hashed_dir))
        except (FileNotFoundError, NotADirectoryError):
            return out
        for entry in entries:
            name = entry.name
            if self.kind == "app" and name.endswith(("app.yaml", "app.json")):
                continue
            if not name.endswith(HASHED_EXTENSIONS):
                continue
            try:
                if entry.is_dir():
                    continue
            except OSError:
                continue
            out[name] = Path(entry.path)
        return out

    def entries(self) -> dict[str, str]:
        """``{sub key: hash}`` with the top key last, as the CLI computes them."""
        return bundle_entries({name: read_text(p) for name, p in self.hashed_files().items()}, self.top_key)


def js_sorted(keys: list[str]) -> list[str]:
    """JavaScript's default ``Array.prototype.sort`` order (UTF-16 code units)."""
    return sorted(keys, key=lambda k: k.encode("utf-16-be", errors="surrogatepass"))


def bundle_entries(files: dict[str, str], top_key: str, deps_json: str = "{}") -> dict[str, str]:
    """The per-file hashes and the top hash of a flow or app from its files' texts."""
    hashes = {name: sha256_text(text + deps_json) for name, text in files.items()}
    ordered = {k: hashes[k] for k in js_sorted(list(hashes))}
    top = sha256_text(json.dumps(ordered, ensure_ascii=False, separators=(",", ":")))
    return {**ordered, top_key: top}


def _walk(root: Path) -> Iterator[tuple[str, str]]:
    """Yield ``(local folder, definition file name)`` for every definition file under f/ u/ g/."""
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path, prefix: str) -> Iterator[tuple[str, str]]:
        try:
            st = folder.stat()
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            return
        seen.add(ident)
        for entry in entries:
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if entry.name.startswith(".") or entry.name == "node_modules":
                    continue
                yield from walk(Path(entry.path), f"{prefix}{entry.name}/")
            elif entry.name in DEFINITION_FILES and prefix:
                yield prefix[:-1], entry.name

    for top in _ROOTS:
        if (root / top).is_dir():
            yield from walk(root / top, f"{top}/")


def discover_bundles(root: Path, config: RepoConfig | None = None) -> list[BundleRef]:
    """Every flow, app and raw app folder whose definition file passes includes/excludes."""
    config = config or RepoConfig()
    found: dict[tuple[str, str], BundleRef] = {}
    for folder, name in _walk(root):
        if not config.accepts(f"{folder}/{name}"):
            continue
        kind: BundleKind = DEFINITION_FILES[name]  # type: ignore[assignment]
        key = (folder, "flow" if kind == "flow" else "app")
        if key in found:  # flow.yaml wins over flow.json, as the CLI reads flow.yaml first
            continue
        found[key] = BundleRef(repo_root=root, folder=folder, kind=kind, definition=name)
    return sorted(found.values(), key=lambda b: sort_key(b.folder))


def in_folder_filter(local_folder: str, folder: str | None) -> bool:
    """The CLI's rehash folder filter: the item's folder equals FOLDER or is under it."""
    if not folder:
        return True
    f = folder.replace("\\", "/").removeprefix("./").rstrip("/")
    return local_folder == f or local_folder.startswith(f + "/")
