"""Warm task processes (issue 17): a direct child's round process kept for the next one.

A dispatched child of a module-level ``@task`` calls its task with its recorded arguments (a
direct child). Its round process has then loaded the script's code and opened the store; forking a
fresh one for the next child of the same code would load both again. With warm tasks
(``WAC_WARM_TASKS``, on by default) the process says, with its outcome, that it can take another;
the worker applies the outcome as usual and keeps the process here. The next direct child of the
same code bundle and entry claimed by this worker is handed to it (a new log file, then its spec)
instead of to a fork from the zygote.

What does not change: every child is still its own job with its own claim, log, timeout and
result; the process is killed on a lost claim, a cancel or a timeout exactly as a forked one (it is
not kept then), and a round that raised, replayed its parent or was not direct is never kept. What
is shared: the module's globals, as in any long-lived worker process (Temporal's, DBOS's) — a task
that changes a global of its module may find it changed in the next task of that script on this
worker. ``WAC_WARM_TASKS=0`` gives every child a fresh process.

At most ``size`` processes are kept per worker (its slot count: never more run at once), each for
at most ``idle_s`` seconds (``WAC_WARM_IDLE_S``, 30).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from wac.engine.rounds.spec import RoundSpec
from wac.engine.rounds.zygote_client import RoundProcess


class WarmTasks:
    """The idle warm task processes of one worker, by the code they hold (bundle hash, entry)."""

    def __init__(self, size: int, idle_s: float) -> None:
        self.size = size
        self.idle_s = idle_s
        self._lock = threading.Lock()
        self._procs: OrderedDict[int, tuple[tuple[str, str], RoundProcess, float]] = OrderedDict()
        self.reused = 0  # children run by a kept process instead of a fork

    def __len__(self) -> int:
        with self._lock:
            return len(self._procs)

    def put(self, code: tuple[str, str], proc: RoundProcess) -> None:
        """Keep ``proc`` (its round's outcome applied, its log closed) for the next child of ``code``."""
        proc.end_log()
        dropped = []
        with self._lock:
            self._procs[proc.pid] = (code, proc, time.monotonic())
            while len(self._procs) > self.size:
                dropped.append(self._procs.popitem(last=False)[1][1])
        for p in dropped:
            _discard(p)

    def take(self, code: tuple[str, str], spec: RoundSpec) -> RoundProcess | None:
        """A kept process of ``code``, handed ``spec`` (and a fresh log); None when there is none."""
        while True:
            with self._lock:
                pid = next((p for p, (c, _proc, _t) in reversed(self._procs.items()) if c == code), None)
                if pid is None:
                    return None
                _code, proc, _since = self._procs.pop(pid)
            try:
                proc.hand(spec)
            except OSError:  # it died while kept (killed from outside): try another, else fork
                _discard(proc)
                continue
            self.reused += 1
            return proc

    def evict_idle(self, now: float) -> None:
        """Let go of processes kept for longer than ``idle_s`` (monotonic ``now``)."""
        with self._lock:
            old = [pid for pid, (_c, _p, since) in self._procs.items() if now - since >= self.idle_s]
            dropped = [self._procs.pop(pid)[1] for pid in old]
        for p in dropped:
            _discard(p)

    def clear(self) -> None:
        """Let go of every kept process (the worker stops)."""
        with self._lock:
            dropped = [entry[1] for entry in self._procs.values()]
            self._procs.clear()
        for p in dropped:
            _discard(p)


def _discard(proc: RoundProcess) -> None:
    proc.kill("evicted")
    try:
        proc.close()
    except OSError:
        pass


__all__ = ["WarmTasks"]
