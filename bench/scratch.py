"""A scratch repository holding one script, its code bundle stored, for the engine benches.

The wac modules are imported when it is used, not here: a bench measuring another tree (``--before
DIR``) runs with that tree's ``src`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


@contextmanager
def scratch_script(script: str, name: str = "bench") -> Iterator[tuple[Any, Any]]:
    """``(workspace, bundle)`` of ``f/<name>.py`` = ``script`` in a fresh embedded workspace
    (its SQLite store in a temporary folder, closed and removed afterwards)."""
    from wac.engine.bundle import build_bundle
    from wac.engine.local_backend import open_local

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("{}\n")
        (repo / "f").mkdir()
        (repo / "f" / f"{name}.py").write_text(script)
        ws = open_local(repo)
        try:
            bundle = build_bundle(repo, repo / "f" / f"{name}.py", repo / "f" / f"{name}__mod")
            ws.store.put_bundle(bundle.hash, bundle.files)
            yield ws, bundle
        finally:
            ws.close()
