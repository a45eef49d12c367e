"""How much of a round's output a job's log keeps.

A round writes its stdout and stderr to a file; the worker stores it in the job's log when the
round ends. A task that prints 50 MB must not make a 50 MB store row, a 300 MB process and a
15-second preview: each round keeps at most ``cap`` bytes of its output, the first quarter and the
last three quarters (the end of a log is where errors are), cut at line ends, with one line in
between that says how much was left out. Reading takes two bounded reads, whatever the file size.

The cap is 1 MiB (``WAC_LOG_CAP`` sets it in bytes, at least 1 KiB). Stdlib only: workers import it.
"""

from __future__ import annotations

import os
from typing import BinaryIO

DEFAULT_CAP = 1024 * 1024
_MIN_CAP = 1024


def log_cap() -> int:
    """The per-round cap in bytes (``WAC_LOG_CAP``, else 1 MiB)."""
    raw = os.environ.get("WAC_LOG_CAP", "")
    try:
        return max(_MIN_CAP, int(raw)) if raw else DEFAULT_CAP
    except ValueError:
        return DEFAULT_CAP


def human_size(n: float) -> str:
    """``812 B``, ``3.4 KB``, ``48.9 MB``."""
    if n < 1000:
        return f"{n:.0f} B"
    if n < 1000 * 1000:
        return f"{n / 1000:.1f} KB"
    return f"{n / 1e6:.1f} MB"


def read_capped(fh: BinaryIO, cap: int | None = None) -> str:
    """The text of the log file ``fh`` (from its start), at most about ``cap`` bytes of it."""
    cap = log_cap() if cap is None else cap
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    if size <= cap:
        return fh.read().decode("utf-8", "replace")
    head = fh.read(cap // 4)
    head = head[: head.rfind(b"\n") + 1] if b"\n" in head else head
    fh.seek(size - (cap - cap // 4))
    tail = fh.read()
    tail = tail[tail.find(b"\n") + 1:] if b"\n" in tail[:-1] else tail
    cut = size - len(head) - len(tail)
    note = (f"[wac: {human_size(cut)} of output left out here; a round's log keeps its first "
            f"{human_size(len(head))} and last {human_size(len(tail))} (WAC_LOG_CAP)]\n")
    return head.decode("utf-8", "replace") + note + tail.decode("utf-8", "replace")
