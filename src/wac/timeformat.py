"""Times as wac reads and shows them, written once for the CLI, the server and the engine.

- :func:`timestamp` reads a time a worker or a workspace sent (Unix seconds or RFC 3339 text).
- :func:`duration` shows how long something took (``52 ms``, ``1.2 s``, ``2.0 min``; ``compact``
  is the wmill CLI's summary style, ``52ms`` / ``1.2s``).
- :func:`local_time` shows a store timestamp in local time, as tables and pages print it.

Standard library only, imported lazily where heavier than ``time`` (``import wac`` stays light).
"""

from __future__ import annotations

from typing import Any


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch of ``value``: a Unix time as is, an RFC 3339 / ISO 8601 string
    (``Z`` or ``z`` for UTC, as the wmill SDK and Windmill send them) parsed; None when absent or
    unreadable (a bool is not a time)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str) or not value:
        return None
    from datetime import datetime

    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00")).timestamp()
    except ValueError:
        return None


def duration(seconds: float | None, *, compact: bool = False) -> str:
    """``seconds`` for people: under a second in ms, under two minutes in s (one decimal), then in
    min; ``""`` for None. ``compact`` (the one-line summaries of generate-metadata and sync, as
    the wmill CLI prints them): no space before the unit, and no minutes."""
    if seconds is None:
        return ""
    # A span between two clocks (a step's start is the round process's clock, its end the store's,
    # rounded to the millisecond) can come out a hair below zero: it is shown as 0, never "-1 ms".
    seconds = max(seconds, 0.0)
    if compact:
        return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def local_time(ts: float | None, *, none: str = "-") -> str:
    """A store timestamp in local time, ``YYYY-MM-DD HH:MM:SS``; ``none`` when there is none (or 0)."""
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else none
