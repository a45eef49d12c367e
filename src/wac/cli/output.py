"""Output helpers: stdout carries data, stderr carries everything else."""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

_err: Console | None = None


def stderr_console() -> Console:
    """The rich console for messages and progress (stderr; honours NO_COLOR and non-TTY)."""
    global _err
    if _err is None:
        from rich.console import Console

        _err = Console(stderr=True, highlight=False, no_color="NO_COLOR" in os.environ)
    return _err


def is_interactive() -> bool:
    """True when stderr is a terminal, so live progress may be drawn."""
    return sys.stderr.isatty() and os.environ.get("TERM") != "dumb"


def when(ts: float | None) -> str:
    """A timestamp as tables show it (local time), ``-`` for none."""
    from wac.timeformat import local_time

    return local_time(ts)


def rfc3339(ts: float | None) -> str | None:
    """A store timestamp (epoch seconds) as JSON shows it: RFC 3339 in UTC, milliseconds."""
    import datetime as dt

    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).isoformat(timespec="milliseconds")


def with_rfc3339(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with every epoch-seconds ``*_at`` field turned into an RFC 3339 string."""
    return {k: rfc3339(v) if k.endswith("_at") and isinstance(v, (int, float)) and not isinstance(v, bool) else v
            for k, v in doc.items()}


def emit_json(value: Any) -> None:
    """Print exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def plan_text(text: str) -> None:
    """A plan of ``generate-metadata`` / ``sync push`` / ``sync pull``: data, on stdout (cli/confirm.py)."""
    sys.stdout.write(text)
    sys.stdout.flush()


def info(message: str) -> None:
    """A message for the user on stderr (plain text off a terminal: rich is not even loaded)."""
    if _err is None and not is_interactive():
        sys.stderr.write(message + "\n")
        sys.stderr.flush()
        return
    stderr_console().print(message, markup=False, soft_wrap=True, emoji=False)


def error(message: str, hint: str | None = None) -> None:
    """``error: …`` and optionally ``hint: …`` on stderr."""
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")
    sys.stderr.flush()
