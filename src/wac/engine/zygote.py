"""The zygote: a warm process that forks one child per round.

Starting an interpreter and importing asyncio and the SDK costs tens of milliseconds; forking a
process that already did so costs about one. A worker starts one zygote (``python -m
wac.engine.zygote FD``) and asks it for rounds over a unix socket: each request carries two file
descriptors (the round's channel to the worker and its log file); the zygote forks, answers with
the child's pid, and the child runs :func:`wac.engine.round.run_child`.

The zygote holds no threads and no event loop, so forking it is safe. When its worker goes away
(EOF on the control socket) it exits, and its round children get SIGKILL through
``PR_SET_PDEATHSIG``, so no orphaned round keeps running user code.
"""

from __future__ import annotations

import os
import signal
import socket
import struct
import sys

# Warm the modules every round needs before the first fork.
import asyncio  # noqa: F401
import importlib.util  # noqa: F401
import json  # noqa: F401
import traceback  # noqa: F401

import wac  # noqa: F401
import wac.engine.round as round_mod
import wac.sdk  # noqa: F401

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the channel EOF still ends the round
        pass


def serve(control: socket.socket) -> None:
    """Fork a round child for every request until the worker closes the control socket."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the worker
    while True:
        try:
            msg, fds, _flags, _addr = socket.recv_fds(control, 16, 2)
        except (ConnectionResetError, OSError):
            return
        if not msg:
            return
        chan_fd, log_fd = fds
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.setpgid(0, 0)
            code = 70
            try:
                _die_with_parent()
                code = round_mod.run_child(chan_fd, log_fd)
            finally:
                os._exit(code)
        os.close(chan_fd)
        os.close(log_fd)
        control.sendall(struct.pack("!i", pid))


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    _die_with_parent()
    serve(control)


if __name__ == "__main__":
    main()
