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

    cached = cache_file("lint", path, text)
    try:
        found = json.loads(cached.read_text(encoding="utf-8"))
        if isinstance(found, list) and all(isinstance(x, str) for x in found):
            return found
    except (OSError, ValueError):
        pass
    from wac.parser import parse_script

    info = parse_script(text, path, detail="full")
    found = [str(d) for d in info.diagnostics if d.code in DETERMINISM_CODES]
    store_cached(cached, json.dumps(found))
    return found


def cache_file(kind: str, path: str, text: str) -> Path:
    """Where what the parser found in ``text`` is cached (``wac/<kind>`` in the user cache):
    keyed by the script's path and text and by the parser's own files (a new wac re-parses)."""
    import hashlib
    import os

    from wac.workspaces import cache_dir

    stamp = []
    try:
        with os.scandir(Path(__file__).resolve().parent.parent / "parser") as entries:
            for entry in sorted(entries, key=lambda e: e.name):
                if entry.name.endswith(".py"):
                    st = entry.stat()
                    stamp.append(f"{entry.name}:{st.st_size}:{st.st_mtime_ns}")
    except OSError:
        stamp = ["?"]
    digest = hashlib.sha256("\0".join((",".join(stamp), path, text)).encode("utf-8", "surrogatepass")).hexdigest()
    return cache_dir() / kind / f"{digest[:32]}.json"


def store_cached(target: Path, content: str) -> None:
    """Write a cache file (temp file + rename); a cache that cannot be written is only slower."""
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
