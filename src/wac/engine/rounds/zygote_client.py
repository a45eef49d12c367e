"""The zygote's client, in the worker: the zygote process to fork rounds from, and a handle per round.

:class:`Zygote` starts ``python -m wac.engine.rounds.zygote_server`` and asks it for round
processes; :class:`RoundProcess` is the worker's handle on one of them (its channel, its log file,
how to kill it). What runs inside the round process is :mod:`wac.engine.rounds.round`.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
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


class RoundProcess:
    """One forked round: its channel, its log file, and how to kill it."""

    def __init__(self, pid: int, chan: socket.socket, log: Any) -> None:
        self.pid = pid
        self.chan = chan
        self._rfile = chan.makefile("rb")
        self._log = log
        self.killed_because: str | None = None
        self.on_close: Any = None  # called once when the worker is done with this round

    def send(self, message: dict[str, Any]) -> None:
        self.chan.sendall(json.dumps(message, ensure_ascii=False).encode() + b"\n")

    def recv(self, timeout: float | None) -> dict[str, Any] | None:
        """The next message, ``None`` at EOF; raises ``TimeoutError`` after ``timeout`` seconds."""
        self.chan.settimeout(timeout)
        try:
            line = self._rfile.readline()
        except TimeoutError:
            raise TimeoutError from None
        except OSError:
            return None
        if not line:
            return None
        try:
            return json.loads(line)  # type: ignore[no-any-return]
        except ValueError:
            return None

    def kill(self, because: str) -> None:
        if self.killed_because is None:
            self.killed_because = because
        for target in (-self.pid, self.pid):  # the round's process group, then the round itself
            try:
                os.kill(target, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def hand(self, spec: RoundSpec) -> None:
        """Give a kept warm task process its next round: a fresh log file, then the spec."""
        log = round_log_file()
        try:
            socket.send_fds(self.chan, [b"L"], [log.fileno()])
            self.send(spec.to_json())
        except BaseException:
            log.close()
            raise
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
        try:
            self._rfile.close()
            self.chan.close()
        finally:
            if self._log is not None:
                self._log.close()
            done, self.on_close = self.on_close, None
            if done is not None:
                done()


class Zygote:
    """A warm ``python -m wac.engine.rounds.zygote_server`` that forks round processes on request.

    By default it runs on wac's own interpreter. An environment's zygote runs on the
    environment's ``python``, imports wac's engine from ``pythonpath`` (a folder holding only
    wac's package) and imports the ``preimport`` modules before its first fork.
    """

    def __init__(self, python: str | None = None, pythonpath: str | None = None,
                 preimport: tuple[str, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self.python = python or sys.executable
        self._pythonpath = pythonpath
        self.preimport = preimport

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
        env.pop("WAC_ZYGOTE_PREIMPORT", None)
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
        log = round_log_file()
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
                        log.close()
                        raise
        pid = struct.unpack("!i", msg)[0]
        chan = socket.socket(fileno=fds[0])
        socket.send_fds(chan, [b"L"], [log.fileno()])
        handle = RoundProcess(pid, chan, log)
        handle.send(spec.to_json())
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
