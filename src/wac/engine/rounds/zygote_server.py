"""The zygote's server: a warm process that forks one child per round.

Starting an interpreter and importing asyncio and the SDK costs tens of milliseconds; forking a
process that already did so costs about one. A worker starts one zygote (``python -m
wac.engine.rounds.zygote_server FD``, through :mod:`wac.engine.rounds.zygote_client`) and asks it
for round processes over a unix socket. The zygote always keeps one child forked ahead (a spare
that waits for its round); a request gets the spare's pid and its channel socket at once, and the
zygote forks the next spare. The child then runs :func:`wac.engine.rounds.round.run_child`.

The zygote holds no threads and no event loop, so forking it is safe. When its worker goes away
(EOF on the control socket) it exits, and its round children get SIGKILL through
``PR_SET_PDEATHSIG``, so no orphaned round keeps running user code.
"""

from __future__ import annotations

# Warm the modules every round needs before the first fork.
import asyncio  # noqa: F401
import contextlib
import gc
import importlib.util  # noqa: F401
import io
import json  # noqa: F401
import os
import signal
import socket
import struct
import sys
import traceback  # noqa: F401

import wac  # noqa: F401
import wac.engine.rounds.round as round_mod
import wac.engine.store.sqlite  # noqa: F401  (rounds commit their steps themselves)
import wac.owndeps  # noqa: F401  (every round opens its store through it: imported once, not per round)
import wac.sdk  # noqa: F401
from wac.engine.rounds import footprint


def _warm_up() -> None:
    """Run throw-away rounds once so every module the SDK imports lazily is loaded before forking."""
    from wac import step, task, workflow
    from wac.sdk import run_round

    @task
    def _t(x: int) -> int:
        return x

    @workflow
    async def _wf() -> object:
        a = await step("s", lambda: 1)
        return await _t(a)

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        run_round(_wf, {"completed_steps": {"s": 1}, "_executing_key": "_t"}, {})
        run_round(_wf, {"completed_steps": {}}, {})
        run_round(_wf, {"completed_steps": {"s": 1}, "_key_order": ["s"]}, {})


def _fork_spare(control: socket.socket) -> tuple[int, socket.socket]:
    """Fork the next round process ahead of time; it waits for its round.

    It does not run a throw-away round first (it used to, to copy the pages a round touches before
    anyone waits): measured, that cost every round process a second ``asyncio.run`` and about
    0.25 MiB more, and made no round faster, since the zygote's own warm-up already loaded
    everything lazily imported (issue 17)."""
    ours, theirs = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            control.close()
            ours.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.setpgid(0, 0)
            footprint.die_with_parent()
            code = round_mod.run_child(theirs.detach())
        finally:
            os._exit(code)
    theirs.close()
    return pid, ours


def serve(control: socket.socket) -> None:
    """Hand out a pre-forked round process per request until the worker closes the control socket.

    A request is one byte; the answer is the child's pid with its channel socket attached.
    """
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C belongs to the worker
    spare = _fork_spare(control)
    while True:
        try:
            msg = control.recv(1)
        except OSError:
            return
        if not msg:
            return
        pid, chan = spare
        socket.send_fds(control, [struct.pack("!i", pid)], [chan.fileno()])
        chan.close()
        spare = _fork_spare(control)


def _preimport() -> None:
    """An environment's zygote imports the bundle's third-party modules once, before forking, so
    rounds start with them loaded. A module that fails to import is left to the round, whose error
    then names it."""
    import importlib

    names = os.environ.pop("WAC_ZYGOTE_PREIMPORT", "")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        for name in filter(None, names.split(",")):
            try:
                importlib.import_module(name)
            except BaseException:  # noqa: BLE001  (any failure is the round's to report)
                sys.modules.pop(name, None)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    footprint.die_with_parent()  # binds prctl and malloc_trim once, for every round process
    _preimport()
    _warm_up()
    # Keep the collector away from everything loaded so far: a forked round that runs a GC pass
    # would otherwise touch (and copy) every page of the zygote's heap.
    gc.collect()
    gc.freeze()
    # The warm-up's freed C heap goes back to the kernel rather than being shared by every round
    # process (whose first allocations would otherwise write into those pages, copying them).
    footprint.trim()
    serve(control)
    # Nothing to flush or clean up (its spare dies with it, PR_SET_PDEATHSIG): skip the
    # interpreter's teardown of every module and the frozen heap, which its worker waits for.
    os._exit(0)


if __name__ == "__main__":
    main()
