"""The embedded workspace: a per-repo store at ``.wac/wac.db`` and its state folder."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from wac.engine.store import open_store
from wac.engine.store.base import Store


@dataclass
class LocalWorkspace:
    root: Path
    state_dir: Path
    store: Store

    def close(self) -> None:
        self.store.close()


def open_local(root: Path) -> LocalWorkspace:
    """Open (creating on first use) the embedded store of the repo at ``root``.

    ``WAC_STATE_DIR`` moves the state folder (default ``ROOT/.wac``).
    """
    state = Path(os.environ["WAC_STATE_DIR"]) if os.environ.get("WAC_STATE_DIR") else root / ".wac"
    state.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{state.resolve() / 'wac.db'}")
    store.migrate()
    return LocalWorkspace(root=root, state_dir=state, store=store)
