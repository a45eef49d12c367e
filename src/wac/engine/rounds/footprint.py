"""What a round process costs in memory while it waits (issue 17): a parked sticky parent.

A round process is forked from the zygote and shares its pages until it writes to them
(copy-on-write). What a parked parent holds on its own is every page its process wrote: CPython
3.11 writes a reference count into each object it touches (reading included), so a round copies
one page per object it uses wherever it lies, plus what it allocated. Measured with
``bench/linear_memory.py`` (it prints the breakdown): about 5.2 MiB PSS per parked parent that
committed a ``step()``: 3.2 MiB in CPython's object arenas, 1.2-1.4 MiB of C heap (SQLite,
large dict and list buffers), 0.7 MiB of libpython's own data; the claim watch thread's stack is
three pages. Most of those pages differ from the zygote's copy in a few words only.

Parking gives back what is not live any more (:func:`release`): the round's cyclic garbage
(``gc.collect``; the zygote's objects are frozen, so it touches none of them), the SQLite page
cache of the store connection the round committed its steps on (``PRAGMA shrink_memory``: the
connection stays open, the cache fills again on resume), and the C heap's free pages
(``malloc_trim``: glibc gives them back to the kernel). It is a size, never a behaviour: a process
where none of it is available parks the same.

The zygote binds the C functions once (:func:`preload`) so a round process does not build
``ctypes`` objects of its own for them.
"""

from __future__ import annotations

import gc
import os
import signal
from typing import Any

_PR_SET_PDEATHSIG = 1
_LIBC: dict[str, Any] = {}  # "prctl", "malloc_trim": the C functions this platform has, once bound

#: What the last :func:`release` did (for tests and the bench): objects collected, SQLite
#: connections shrunk, whether the C heap was trimmed.
LAST: dict[str, int] = {}


def preload() -> None:
    """Bind ``prctl`` and ``malloc_trim`` from the C library (in the zygote, before forking)."""
    if _LIBC:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        _LIBC["none"] = None
        return
    for name in ("prctl", "malloc_trim"):
        try:
            _LIBC[name] = getattr(libc, name)  # Linux; malloc_trim: glibc only
        except AttributeError:
            pass
    if "malloc_trim" in _LIBC:
        _LIBC["malloc_trim"].argtypes = [ctypes.c_size_t]
        _LIBC["malloc_trim"].restype = ctypes.c_int
    _LIBC.setdefault("none", None)


def die_with_parent() -> None:
    """SIGKILL this process when its parent dies (``PR_SET_PDEATHSIG``; a fork clears it, so each
    round process sets it again). Not Linux: the channel's EOF still ends the round."""
    preload()
    if "prctl" in _LIBC:
        _LIBC["prctl"](_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def trim() -> bool:
    """Hand the C heap's free pages back to the kernel (``malloc_trim``); False where unavailable."""
    preload()
    if "malloc_trim" not in _LIBC:
        return False
    _LIBC["malloc_trim"](0)
    return True


def release(stores: list[Any]) -> dict[str, int]:
    """Give back what a parked round no longer uses: its cyclic garbage, the page cache of this
    thread's SQLite connection to each of ``stores`` (they stay open), and the C heap's free pages."""
    done = {"collected": gc.collect(), "shrunk": 0, "trimmed": 0}
    for store in stores:
        # this thread's connection only (the one the round committed its steps on): another
        # thread of user code may be inside a call on its own
        local = getattr(getattr(store, "_pool", None), "_local", None)
        conn = getattr(local, "conn", None)
        if conn is None or getattr(local, "pid", None) != os.getpid():
            continue
        try:
            conn.execute("PRAGMA shrink_memory")
            done["shrunk"] += 1
        except Exception:  # noqa: BLE001  (a closed or busy connection keeps its cache)
            pass
    done["trimmed"] = int(trim())
    LAST.clear()
    LAST.update(done)
    return done


__all__ = ["LAST", "die_with_parent", "preload", "release", "trim"]
