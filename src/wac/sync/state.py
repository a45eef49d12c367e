"""The sync state: each file's SHA-256 at the last push or pull, per workspace.

Kept in ``.wac/sync/<workspace>.json`` (``.wac/`` is gitignored local state)::

    {"version": 1, "workspace": "shared", "files": {"f/a/b.py": "<sha256>", ...}}

A pull compares a file's current content with its recorded hash: a file changed since (or never
recorded) is a local edit the pull must not overwrite without ``--yes``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from wac.project.textio import atomic_write

STATE_DIR = Path(".wac") / "sync"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def state_path(root: Path, workspace: str) -> Path:
    """``ROOT/.wac/sync/<workspace>.json`` (an odd workspace name is hashed into a safe file name)."""
    name = workspace if _SAFE_NAME.match(workspace) else "ws-" + digest(workspace.encode())[:16]
    return root / STATE_DIR / f"{name}.json"


@dataclass
class SyncState:
    """``files``: repo-relative path -> sha256 of its bytes when last pushed or pulled."""

    path: Path
    workspace: str
    files: dict[str, str] = field(default_factory=dict)
    warning: str | None = None  # set when an unreadable state file was ignored

    def save(self) -> None:
        doc = {"version": 1, "workspace": self.workspace, "files": dict(sorted(self.files.items()))}
        atomic_write(self.path, json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def load_state(root: Path, workspace: str) -> SyncState:
    """The recorded state; a missing file is empty, an unreadable one is empty with a warning
    (an empty state only makes pull more careful: every differing file is a conflict)."""
    path = state_path(root, workspace)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        files = doc["files"]
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            raise ValueError("'files' is not a mapping of hashes")
    except FileNotFoundError:
        return SyncState(path, workspace)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return SyncState(path, workspace, warning=f"ignoring unreadable sync state {path}: {exc}")
    return SyncState(path, workspace, {str(k): v for k, v in files.items()})
