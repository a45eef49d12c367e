"""The embedded workspace: a per-repo store at ``.wac/wac.db`` and its state folder."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from wac.engine.store import open_store
from wac.engine.store.base import Store


def find_repo_root(start: Path | None = None) -> Path:
    """The nearest folder with ``wmill.yaml``, else the git top level, else the current folder."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "wmill.yaml").is_file():
            return folder
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    try:
        top = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"], cwd=here, capture_output=True, text=True, timeout=5
        )
        if top.returncode == 0 and top.stdout.strip():
            return Path(top.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return here


@dataclass
class LocalWorkspace:
    root: Path
    state_dir: Path
    store: Store

    def close(self) -> None:
        self.store.close()


def open_local(start: Path | None = None) -> LocalWorkspace:
    """Open (creating on first use) the embedded store of the repo around ``start``."""
    root = find_repo_root(start)
    state = Path(os.environ["WAC_STATE_DIR"]) if os.environ.get("WAC_STATE_DIR") else root / ".wac"
    state.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{state / 'wac.db'}")
    store.migrate()
    return LocalWorkspace(root=root, state_dir=state, store=store)
