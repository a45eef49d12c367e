"""Sticky parents (issue 17): round processes kept alive while their children run.

A parent's round that dispatches children would end, and each completion would re-run the
parent's body from the top over every recorded result (a replay). With sticky parents the round
process hands its dispatch to the worker and waits, alive; the worker commits the dispatch as
usual and keeps the process here. When the last child is done and the parent is re-queued, the
worker that claims it — if it is this one, and no other round of the job ran meanwhile — sends
the process the committed results and the new claim, and the body goes on from where it stopped
instead of replaying.

The cache is bounded: at most ``size`` parked processes per worker (the oldest goes first) and
each for at most ``idle_s`` seconds. An evicted, killed or moved parent loses nothing: every
result is committed before it is delivered, and the next round replays from the store as always.
Sleeps and approvals never park (a sleeping run holds no process).

A process that parked a parent may hold up to ``share`` of them: while none of its rounds runs, a
new round of the same code (bundle and entry) that may park is handed to it instead of a fresh
fork, and runs there on a thread of its own (engine/rounds/sharing.py). 100 parked parents then
cost a few processes, not 100 (each about 5 MiB on CPython 3.11). A shared process runs one round
at a time: a parent whose process runs another round when it is claimed again waits for that
round to report, at most ``BUSY_WAIT_S``; past that it is let go and replays, as an evicted one.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from wac.engine.rounds.spec import RoundSpec
from wac.engine.rounds.zygote_client import Link, RoundProcess, new_round_id
from wac.engine.store.base import Job, Step, Token

#: How long a parent claimed again waits for its shared process to end the round it runs (a
#: parent's round between two dispatches is usually a millisecond or less) before it replays.
BUSY_WAIT_S = 0.1


class ParkedParents:
    """The parked round processes of one worker, by job id."""

    def __init__(self, size: int, idle_s: float, share: int = 1) -> None:
        self.size = size
        self.idle_s = idle_s
        self.share = share  # parked parents one process may hold (1: each in a process of its own)
        # code (bundle hash, entry) -> the shared processes that parked a parent of it
        self._hosts: dict[tuple[str, str], list[Link]] = {}
        self.shared = 0  # rounds handed to a shared process instead of a fresh fork
        self.busy = 0  # parents let go because their shared process ran another round
        self._lock = threading.Lock()
        # job id -> (process, the job's round count when it parked, when, done keys it holds,
        # the code it runs)
        self._procs: OrderedDict[str, tuple[RoundProcess, int, float, frozenset[str], tuple[str, str]]] = OrderedDict()
        self.resumed = 0  # rounds that went on in a parked process instead of a replay
        self.evicted = 0
        # job id -> set once the process of a round being parked is parked (or is not after all)
        self._pending: dict[str, threading.Event] = {}
        # job id -> the job's step seq when the parked (or pending) round was claimed
        self._step_seq: dict[str, int] = {}

    def __len__(self) -> int:
        with self._lock:
            return len(self._procs)

    def expect(self, job_id: str, step_seq: int) -> None:
        """Announce that the round of ``job_id`` (claimed when its last step seq was ``step_seq``)
        is about to be parked, before its dispatch is committed: its children may then run and
        finish, and the job be claimed again, before :meth:`park` is reached; :meth:`resume`
        waits for it meanwhile instead of replaying."""
        with self._lock:
            self._pending[job_id] = threading.Event()
            self._step_seq[job_id] = step_seq

    def settle(self, job_id: str) -> None:
        """The round announced by :meth:`expect` is parked, or will not be."""
        with self._lock:
            pending = self._pending.pop(job_id, None)
            if job_id not in self._procs:
                self._step_seq.pop(job_id, None)
        if pending is not None:
            pending.set()

    def since(self, job_id: str) -> int | None:
        """For the store's claim (``recent``): when ``job_id``'s process is parked here (or being
        parked), the step seq after which its claim needs the job's done steps — every result
        the process lacks is a step added after its round was claimed (steps its own round added
        are read again: harmless); None: the claim reads every step."""
        with self._lock:
            return self._step_seq.get(job_id)

    def park(self, job: Job, proc: RoundProcess, known: frozenset[str]) -> None:
        """Keep ``proc`` (whose dispatch is committed) until the job is claimed again."""
        dropped = []
        with self._lock:
            pending = self._pending.pop(job.id, None)
            old = self._procs.pop(job.id, None)
            if old is not None:
                dropped.append(old[0])
            code = (job.bundle_hash, job.entry)
            self._procs[job.id] = (proc, job.rounds, time.monotonic(), known, code)
            link = proc.link
            if self.share > 1 and not link.sharing and not link.dead:
                link.sharing = link.keep = True
                self._hosts.setdefault(code, []).append(link)
            while len(self._procs) > self.size:
                gone, entry = self._procs.popitem(last=False)
                self._step_seq.pop(gone, None)
                dropped.append(entry[0])
        if pending is not None:
            pending.set()
        for p in dropped:
            self._discard(p)

    def resume(self, job: Job, token: Token, steps: list[Step]) -> tuple[RoundProcess, frozenset[str]] | None:
        """The parked process of ``job``, sent its new claim and the results it lacks (``steps``:
        all of the job's, or only those done since :meth:`since`), with the done keys it holds
        now; None when there is none (or it cannot go on: another round ran meanwhile, or it died)."""
        with self._lock:
            pending = self._pending.get(job.id)
        if pending is not None:
            pending.wait(5.0)  # being parked by another slot of this worker: a moment at most
        with self._lock:
            entry = self._procs.pop(job.id, None)
            self._step_seq.pop(job.id, None)
        if entry is None:
            return None
        proc, rounds, _since, known, code = entry
        # Another worker ran a round of this job meanwhile, or the run was moved to new code
        # (`wac job migrate`): the process is out of date, the next round replays.
        if rounds + 1 != job.rounds or code != (job.bundle_hash, job.entry):
            self._discard(proc)
            return None
        if not proc.link.try_activate(proc.round_id, BUSY_WAIT_S):  # it died, or runs another round for long
            if not proc.link.dead:
                self.busy += 1
            self._discard(proc)
            return None
        completed = {s.key: s.value for s in steps if s.done and s.key not in known}
        try:
            proc.resume({"token": [token.job_id, token.attempt, token.worker_id], "completed": completed})
        except (OSError, ValueError):
            self._discard(proc)
            return None
        self.resumed += 1
        return proc, known | frozenset(completed)

    def host(self, code: tuple[str, str], spec: RoundSpec) -> RoundProcess | None:
        """A new round of ``code`` that may park, handed to a shared process that holds parked
        parents of that code and room for one more (and runs no round now); None: fork one."""
        if self.share <= 1:
            return None
        spec.round_id = new_round_id(spec.job_id)
        while True:
            with self._lock:
                links = self._hosts.get(code, [])
                gone = [link for link in links if link.dead]
                links[:] = [link for link in links if not link.dead]
                if not links:
                    self._hosts.pop(code, None)
                link = next((link for link in links
                             if len(link.live) + link.dropped < self.share and link.try_activate(spec.round_id)), None)
            for dead in gone:
                dead.close_if_idle()  # a kept process that died (its last rounds closed already)
            if link is None:
                return None
            try:
                proc = link.share(spec)
            except OSError:
                continue  # it died meanwhile (share() marked it so): try another, else fork
            self.shared += 1
            return proc

    def evict_idle(self, now: float) -> None:
        """Let go of processes parked for longer than ``idle_s`` (monotonic ``now``), and of shared
        processes kept without a live round for as long."""
        dropped: list[RoundProcess] = []
        with self._lock:
            for job_id, (proc, _rounds, since, _known, _code) in list(self._procs.items()):
                if now - since >= self.idle_s:
                    del self._procs[job_id]
                    self._step_seq.pop(job_id, None)
                    dropped.append(proc)
        for p in dropped:
            self._discard(p)
        self._close_hosts(lambda link: now - link.idle_since >= self.idle_s)

    def _close_hosts(self, due: Callable[[Link], bool], keep: bool = True) -> None:
        """Close the shared processes without a live round for which ``due`` holds; ``keep=False``:
        those still holding one close with their last (the worker stops)."""
        closing = []
        with self._lock:
            for code, links in list(self._hosts.items()):
                links[:] = [link for link in links if not link.closed]  # let go of since the last look
                if not links:
                    del self._hosts[code]
                for link in links:
                    with link.lock:
                        link.keep = link.keep and keep
                        if not link.live and link.active is None and (link.dead or due(link)):
                            closing.append(link)
        for link in closing:
            link.close_if_idle()

    def clear(self) -> None:
        """Let go of every parked process (the worker stops)."""
        with self._lock:
            dropped = [entry[0] for entry in self._procs.values()]
            self._procs.clear()
            self._step_seq.clear()
        for p in dropped:
            self._discard(p)
        self._close_hosts(lambda _link: True, keep=False)
        with self._lock:
            self._hosts.clear()

    def _discard(self, proc: RoundProcess) -> None:
        self.evicted += 1
        proc.release("evicted")
        try:
            proc.close()
        except OSError:
            pass


def done_keys(steps: list[Step]) -> frozenset[str]:
    """The keys of ``steps`` with a stored value (what a round starts with)."""
    return frozenset(s.key for s in steps if s.done)


__all__ = ["ParkedParents", "done_keys"]
