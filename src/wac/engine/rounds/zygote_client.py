"""The zygote's client, in the worker: the zygote process to fork rounds from, and a handle per round.

:class:`Zygote` starts ``python -m wac.engine.rounds.zygote_server`` and asks it for round
processes; :class:`RoundProcess` is the worker's handle on one of them (its channel, its log file,
how to kill it). What runs inside the round process is :mod:`wac.engine.rounds.round`.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from wac.engine.rounds.spec import RoundSpec


def round_log_file() -> Any:
    """A fresh file for a round's output (its stdout and stderr, read back when the round ends).

    In memory on Linux (``memfd_create``): a disk file's truncate (a parked parent's next round)
    and close (each round) went through the file system's journal, about half a millisecond
    each on a busy disk, on every round's path (issue 17). A round's output is bounded by what
    it prints before the round ends, as on disk; elsewhere it is an unnamed temporary file."""
    create = getattr(os, "memfd_create", None)
    if create is not None:
        try:
            return os.fdopen(create("wac-round-log", os.MFD_CLOEXEC), "w+b")
        except OSError:  # no memfd in this kernel or sandbox
            pass
    return tempfile.TemporaryFile()


_ROUND_IDS = itertools.count(1)


def new_round_id(job_id: str) -> str:
    """An id for one round in its process, unique in this worker: a job may have a round parked (or
    being let go) and a new one in the same process at once; the process tells them apart by it."""
    return f"{job_id}#{next(_ROUND_IDS)}"


class Link:
    """The worker's end of one round process's channel, shared by the rounds it runs or holds.

    A process runs one round at a time: ``active`` is the id of the round that runs in it (None:
    it waits). A process that parked a sticky parent may hold several of them and take new rounds
    of the same code while none runs (``sharing``: engine/rounds/sharing.py); it ends when the
    worker closes its last live round (``live``: the ids of the rounds it runs or holds parked),
    unless it is kept for the next round of its code (``keep``).
    """

    def __init__(self, pid: int, chan: socket.socket) -> None:
        self.pid = pid
        self.chan = chan
        self.rfile = chan.makefile("rb")
        self.lock = threading.Lock()  # guards the fields below and every write on the channel
        self.idle = threading.Condition(self.lock)  # notified when the running round reports
        self.active: str | None = None
        self.live: set[str] = set()
        self.dropped = 0  # rounds it was told to let go (their threads stay, blocked, until it ends)
        self.sharing = False  # it takes new rounds while its parked parents wait
        self.keep = False  # kept, once none of its rounds is live, for the next round of its code
        self.idle_since = 0.0  # monotonic time its last live round was closed (while kept)
        self.dead = False
        self.closed = False
        self.on_close: Any = None  # called once, when the process is let go

    def try_activate(self, round_id: str, wait_s: float = 0.0) -> bool:
        """Mark the round ``round_id`` as running here (and live), unless the process is gone or
        being let go, or another round runs here for longer than ``wait_s`` seconds."""
        with self.idle:
            if self.active is not None and not self.dead and wait_s > 0:
                self.idle.wait_for(lambda: self.active is None or self.dead, wait_s)
            if self.dead or self.active is not None:
                return False
            self.active = round_id
            self.live.add(round_id)
            return True

    def _mark_dead(self) -> None:
        """(``lock`` held) No round is handed to this process any more."""
        self.dead = True
        self.idle.notify_all()

    def _done(self, round_id: str, eof: bool) -> None:
        """The round ``round_id`` reported (or the process went away): none runs here now."""
        with self.idle:
            if self.active == round_id:
                self.active = None
            if eof:
                self._mark_dead()
            self.idle.notify_all()

    def share(self, spec: RoundSpec) -> RoundProcess:
        """A handle on a new round of ``spec``, run by this shared process: its round id
        (``spec.round_id``) was marked active first (:meth:`try_activate`). Raises OSError when
        the process is gone."""
        try:
            log = self.send_round(spec)
        except BaseException:
            with self.lock:
                self.active = None
                self.live.discard(spec.round_id)
                self._mark_dead()
            raise
        return RoundProcess(self.pid, self, log, spec.job_id, spec.round_id)

    def send_round(self, spec: RoundSpec) -> Any:
        """Send a round: a fresh log file (its descriptor with the byte ``L``), then the spec;
        returns the log file (closed again if the send fails)."""
        log = round_log_file()
        try:
            self.send(json.dumps(spec.to_json(), ensure_ascii=False).encode() + b"\n", [log.fileno()])
        except BaseException:
            log.close()
            raise
        return log

    def send(self, payload: bytes, fds: list[int] | None = None) -> None:
        with self.lock:
            try:
                if fds:
                    socket.send_fds(self.chan, [b"L"], fds)
                self.chan.sendall(payload)
            except OSError:
                self._mark_dead()  # it is gone
                raise

    def close(self) -> None:
        """Let the process go (EOF on its channel: it exits); once."""
        with self.lock:
            self._mark_dead()
            if self.closed:
                return
            self.closed = True
        try:
            self.rfile.close()
            self.chan.close()
        finally:
            done, self.on_close = self.on_close, None
            if done is not None:
                done()

    def close_if_idle(self) -> bool:
        """Close this process if none of its rounds is live or runs (it died, or is let go)."""
        with self.lock:
            if self.live or self.active is not None or self.closed:
                return False
            self._mark_dead()
        self.close()
        return True


class RoundProcess:
    """The worker's handle on one round in a round process: the process's channel (shared with the
    other rounds it holds, if any), the round's log file, and how to kill it."""

    def __init__(self, pid: int, chan: socket.socket | Link, log: Any, job_id: str = "",
                 round_id: str | None = None) -> None:
        self.link = chan if isinstance(chan, Link) else Link(pid, chan)
        self.pid = pid
        self.job_id = job_id
        self.round_id = round_id or new_round_id(job_id)
        self._log = log
        self.killed_because: str | None = None
        self.last_op: str | None = None  # what the round last reported ("parked", "outcome"…)
        self._released = self._closed = False
        with self.link.lock:
            self.link.live.add(self.round_id)
            self.link.active = self.round_id

    @property
    def chan(self) -> socket.socket:
        return self.link.chan

    @property
    def on_close(self) -> Any:
        return self.link.on_close

    @on_close.setter
    def on_close(self, value: Any) -> None:
        self.link.on_close = value

    def send(self, message: dict[str, Any]) -> None:
        self.link.send(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    def resume(self, message: dict[str, Any]) -> None:
        """Send the parked round its resume (its process marked it active first)."""
        self.send({**message, "op": "resume", "round": self.round_id})

    def recv(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, ``None`` at EOF; raises ``TimeoutError`` after ``timeout`` seconds.
        A message (or EOF) ends the running round: the process waits for another meanwhile."""
        link = self.link
        link.chan.settimeout(timeout)
        try:
            line = link.rfile.readline()
        except TimeoutError:
            raise TimeoutError from None
        except (OSError, ValueError):  # ValueError: closed meanwhile
            line = b""
        link._done(self.round_id, not line)
        if not line:
            return None
        try:
            msg = json.loads(line)
        except ValueError:
            return None
        if isinstance(msg, dict):
            self.last_op = msg.get("op")
        return msg  # type: ignore[no-any-return]

    def kill(self, because: str) -> None:
        """Kill the process (every round it holds: those parked replay from the store)."""
        if self.killed_because is None:
            self.killed_because = because
        with self.link.lock:
            self.link._mark_dead()
        for target in (-self.pid, self.pid):  # the round's process group, then the round itself
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def release(self, because: str) -> None:
        """Let go of this round, which waits (parked, or kept warm): a process of its own is
        killed; a shared one is told to drop it and goes on holding the others. Once."""
        if self._released:
            return
        self._released = True
        if not self.link.sharing:
            self.kill(because)
            return
        with self.link.lock:
            self.link.dropped += 1
        try:
            self.send({"op": "drop", "round": self.round_id})
        except OSError:
            pass

    def hand(self, spec: RoundSpec) -> None:
        """Give this kept warm task process its next round: a fresh log file, then the spec."""
        round_id = new_round_id(spec.job_id)
        spec.round_id = round_id
        log = self.link.send_round(spec)
        with self.link.lock:
            self.link.live.discard(self.round_id)
            self.link.live.add(round_id)
            self.link.active = round_id
        self.job_id, self.round_id, self.last_op = spec.job_id, round_id, None
        self._log = log

    def end_log(self) -> None:
        """Close this round's log file (its logs are stored): the process is kept for another."""
        if self._log is not None:
            self._log.close()
            self._log = None

    def reset_log(self) -> None:
        """Empty the log file (its offset is shared with the round): a parked parent's next
        round logs from here."""
        self._log.truncate(0)
        self._log.seek(0)

    def logs(self) -> str:
        from wac.engine.logcap import read_capped

        if self._log is None:
            return ""
        return read_capped(self._log)  # at most WAC_LOG_CAP bytes of it, whatever the round printed

    def close(self) -> None:
        """The worker is done with this round (once); the process is let go with its last live
        round, unless it is kept for the next round of its code."""
        if self._closed:
            return
        self._closed = True
        link = self.link
        if link.active == self.round_id:  # never expected: closed while it runs, without a report
            self.kill("closed while running")
            link._done(self.round_id, True)
        try:
            if self._log is not None:
                self._log.close()
                self._log = None
        finally:
            with link.lock:
                link.live.discard(self.round_id)
                last = not link.live and link.active is None
                if last and link.keep and not link.dead:
                    link.idle_since = time.monotonic()  # kept for the next round of its code
                    last = False
            if last:
                link.close()


class Zygote:
    """A warm ``python -m wac.engine.rounds.zygote_server`` that forks round processes on request.

    By default it runs on wac's own interpreter. An environment's zygote runs on the
    environment's ``python``, imports wac's engine from ``pythonpath`` (a folder holding only
    wac's package) and imports the ``preimport`` modules before its first fork; ``env`` are
    variables of its own (``WAC_OWN_DEPS``: :mod:`wac.owndeps`).
    """

    def __init__(self, python: str | None = None, pythonpath: str | None = None,
                 preimport: tuple[str, ...] = (), env: dict[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self.python = python or sys.executable
        self._pythonpath = pythonpath
        self.preimport = preimport
        self._env = dict(env or {})

    @property
    def pid(self) -> int | None:
        proc = self._proc
        return proc.pid if proc is not None and proc.poll() is None else None

    def start(self) -> None:
        """Start the zygote unless it is already running."""
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                self._start_locked()

    def _start_locked(self) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        src = self._pythonpath or str(Path(__file__).resolve().parents[3])  # the folder holding ``wac``
        env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        for name in ("WAC_ZYGOTE_PREIMPORT", "WAC_OWN_DEPS", "WAC_OWN_DEPS_PYTHON"):
            env.pop(name, None)
        env.update(self._env)
        if self.preimport:
            env["WAC_ZYGOTE_PREIMPORT"] = ",".join(self.preimport)
        self._proc = subprocess.Popen(
            [self.python, "-m", "wac.engine.rounds.zygote_server", str(theirs.fileno())],
            pass_fds=[theirs.fileno()],
            stdin=subprocess.DEVNULL,
            env=env,
        )
        theirs.close()
        self._control = ours

    def spawn(self, spec: RoundSpec) -> RoundProcess:
        """Fork a round process and hand it its spec."""
        with self._lock:
            for attempt in (1, 2):
                if self._proc is None or self._proc.poll() is not None:
                    self._start_locked()
                assert self._control is not None
                try:
                    self._control.sendall(b"R")
                    msg, fds, _flags, _addr = socket.recv_fds(self._control, 4, 1)
                    if len(msg) != 4 or not fds:
                        raise ConnectionError("zygote closed the control socket")
                    break
                except (OSError, ConnectionError):
                    self._proc = None  # the zygote died: start another and try once more
                    if attempt == 2:
                        raise
        pid = struct.unpack("!i", msg)[0]
        spec.round_id = new_round_id(spec.job_id)
        handle = RoundProcess(pid, socket.socket(fileno=fds[0]), None, spec.job_id, spec.round_id)
        handle._log = handle.link.send_round(spec)
        return handle

    def stop(self) -> None:
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None
            if self._proc is not None:
                try:
                    self._proc.wait(timeout=2)
                except subprocess.TimeoutExpired:
                    self._proc.kill()
                    self._proc.wait()
                self._proc = None



_early: Zygote | None = None
_early_lock = threading.Lock()


def start_early() -> None:
    """Start wac's own zygote now, before this process has loaded and prepared what its workers
    need: it boots (a fresh interpreter importing the SDK, a warm-up round) on another core
    meanwhile. The first worker of this process adopts it (:func:`adopt_early`). If none ever
    does (the command fails first), it exits with this process: its control socket closes."""
    global _early
    with _early_lock:
        if _early is None:
            _early = Zygote()
            _early.start()


def adopt_early() -> Zygote:
    """The zygote :func:`start_early` started (once), else a new one (not started yet)."""
    global _early
    with _early_lock:
        early, _early = _early, None
    return early if early is not None else Zygote()
