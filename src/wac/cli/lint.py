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

DETERMINISM_CODES = frozenset({"WAC102", "WAC113", "WAC114"})


def determinism_warnings(path: str, text: str) -> list[str]:
    """``path:line:col CODE message`` for each determinism diagnostic of the script."""
    from wac.parser import parse_script

    info = parse_script(text, path, detail="full")
    return [str(d) for d in info.diagnostics if d.code in DETERMINISM_CODES]


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
