"""Determinism warnings where people iterate (issue 14 §3): preview, --watch and push.

The parser's replay-safety diagnostics (WAC102 dynamic names, WAC113 non-deterministic calls,
also through helpers of the module, WAC114 blocking sleeps) go to stderr as ``warning:`` lines
before the run. The parser (libcst) costs a few hundred milliseconds to import, so preview runs
the lint in a thread beside the engine's start-up: :func:`start_lint`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

DETERMINISM_CODES = frozenset({"WAC102", "WAC113", "WAC114"})


def determinism_warnings(path: str, text: str) -> list[str]:
    """``path:line:col CODE message`` for each determinism diagnostic of the script.

    Results are cached by content in the user cache (``wac/lint``), so previewing an unchanged
    file again does not import the parser at all.
    """
    import json

    cached = _cache_file(path, text)
    try:
        found = json.loads(cached.read_text(encoding="utf-8"))
        if isinstance(found, list) and all(isinstance(x, str) for x in found):
            return found
    except (OSError, ValueError):
        pass
    from wac.parser import parse_script

    info = parse_script(text, path, detail="full")
    found = [str(d) for d in info.diagnostics if d.code in DETERMINISM_CODES]
    _store(cached, json.dumps(found))
    return found


def _cache_file(path: str, text: str) -> Path:
    import hashlib
    import os

    from wac.engine.workspaces import cache_dir

    parser = Path(__file__).resolve().parent.parent / "parser" / "workflow.py"
    try:
        st = os.stat(parser)
        stamp = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stamp = "?"
    digest = hashlib.sha256("\0".join((stamp, path, text)).encode("utf-8", "surrogatepass")).hexdigest()
    return cache_dir() / "lint" / f"{digest[:32]}.json"


def _store(target: Path, content: str) -> None:
    import os
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        os.replace(tmp, target)
    except OSError:
        pass  # a cache that cannot be written is only slower


def warn_determinism(path: str, text: str) -> None:
    """Print the script's determinism warnings on stderr (nothing when it has none)."""
    for line in determinism_warnings(path, text):
        sys.stderr.write(f"warning: {line}\n")


def start_lint(path: str, text: str) -> Callable[[], None]:
    """Lint in a thread; the returned function waits for it and prints its warnings."""
    found: list[str] = []

    def run() -> None:
        try:
            found.extend(determinism_warnings(path, text))
        except Exception:  # a lint must never stop a preview  # noqa: BLE001
            pass

    thread = threading.Thread(target=run, name="wac-lint", daemon=True)
    thread.start()

    def report() -> None:
        thread.join()
        for line in found:
            sys.stderr.write(f"warning: {line}\n")

    return report
