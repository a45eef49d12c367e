"""Parked parents sharing one round process (issue 17): the round process's side.

A sticky parent (engine/rounds/parked.py) waits, alive, for its children's results. Alone in its
process, it costs about 5 MiB of copy-on-write pages on CPython 3.11 (every object it touches
gets a reference count written: engine/rounds/footprint.py), so 100 of them parked at once cost
500 MiB. Here a round process that has parked a parent can take further rounds of the same code
while it waits: each runs in a thread of its own (its own event loop) and parks there in turn,
and the process holds many parked parents for the price of one process plus what each run
allocated (its module, its frames).

One round runs at a time. The worker hands a process a round (or a resume) only while none of its
rounds runs (engine/rounds/zygote_client.py, ``Link``), so what a round changes of the process —
its stdout and stderr (the job's log file on fds 1 and 2), working folder, ``os.environ`` (wmill
reads ``WM_JOB_ID`` there), ``sys.argv``, its entry module in ``sys.modules``, the SDK's client —
is that round's while it runs. :func:`park` saves it, and the resumed round gets its own back.

The main thread reads the channel whenever no round runs on it: it starts each new round (on
itself if it is free, else on a new thread) and hands each resume to the thread parked for it.
A round the worker lets go (``{"op": "drop"}``: evicted, or the run moved on) never runs again:
its thread stays blocked until the process ends (no ``finally`` of user code runs, as when a
process of its own is killed); the worker ends the process (EOF) once none of its rounds is live.
Killing the process (a timeout, a cancel, a lost claim of the round that runs) ends every round
in it; those parked replay from the store, as any evicted parent does.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wac.engine.rounds.host import Channel
    from wac.engine.rounds.spec import RoundSpec


class Run:
    """One round of this process: what it changes of the process, saved while it is parked."""

    def __init__(self, round_id: str, logfd: int) -> None:
        self.round_id = round_id  # the worker's id of the round (a resume or a drop names it)
        self.logfd = logfd  # the job's log file (fds 1 and 2 while the round runs)
        self.cwd = ""
        self.env: dict[str, str] = {}
        self.argv: list[str] = []
        self.module: tuple[str, Any] | None = None  # the entry module it executed, by name
        self.engine: Any = None
        self.client: Any = None
        self.event = threading.Event()
        self.reply: dict[str, Any] | None = None


#: Parked rounds of this process by round id (each waits for its resume).
PARKED: dict[str, Run] = {}
#: Held by the round whose user code may run, from its start (or resume) until it has parked
#: (and given back its memory) or ended (and closed what it held): the next round starts after.
TURN = threading.Lock()
#: "current": the Run whose state is in place; "base_env": os.environ before any round changed it;
#: "hosting": a round of this process parked once (the process then ends only on EOF).
STATE: dict[str, Any] = {"current": None, "base_env": None, "hosting": False}
_DROPPED = Run("", -1)  # what the main thread waits for once its own round was let go: nothing


def hosting() -> bool:
    """A round of this process parked once: the process ends only when its worker lets it go."""
    return bool(STATE["hosting"])


def begin(spec: RoundSpec, logfd: int) -> Run:
    """A new round on this thread (it takes the turn): its log on fds 1 and 2, its folder and
    environment."""
    TURN.acquire()
    run = Run(spec.round_id or spec.job_id, logfd)
    base = STATE["base_env"]
    if base is None:
        STATE["base_env"] = dict(os.environ)
    elif STATE["current"] is not None:  # another round ran here: start from the process's own
        _set_environ(base)
    os.dup2(logfd, 1)
    os.dup2(logfd, 2)
    os.chdir(spec.cwd or spec.bundle_dir)
    os.environ.update(spec.env)
    STATE["current"] = run
    return run


def end(run: Run) -> None:
    """The round ended (its outcome sent): close what it held, and give the turn to the next."""
    try:
        _close(run)
        if threading.current_thread() is not threading.main_thread():
            from wac.engine.rounds.host import STORES

            for store in list(STORES.values()):  # this thread's connection is not the next round's
                try:
                    store.end_thread()
                except Exception:  # noqa: BLE001  (best effort: the process holds it until it ends)
                    pass
    finally:
        TURN.release()


def note_module(name: str, module: Any) -> None:
    """The running round executed its entry as ``module`` (``sys.modules[name]``)."""
    run = STATE["current"]
    if run is not None:
        run.module = (name, module)


def park(chan: Channel, payload: bytes, release: Callable[[], object]) -> dict[str, Any]:
    """Send the parked message (``payload``) and wait for this round's resume.

    Returns the resume message with the round's state back in place; never returns if the worker
    lets the round go. Raises ConnectionError (or OSError) when the worker went away.
    """
    from wac.engine.rounds.host import ENGINE
    from wac.sdk import host as sdk_host

    run = STATE["current"]
    if run is None:  # never: every round begins through begin()
        raise ConnectionError("no round to park")
    try:
        run.cwd = os.getcwd()
    except OSError:  # the round removed its own working folder: it resumes wherever it is
        run.cwd = ""
    run.env, run.argv = dict(os.environ), list(sys.argv)
    run.engine, run.client = (ENGINE[0] if ENGINE else None), sdk_host.current_client()
    run.event.clear()
    run.reply = None
    PARKED[run.round_id] = run
    STATE["hosting"] = True
    try:
        chan.send(payload)
        release()
    finally:
        TURN.release()
    reply: dict[str, Any] | None
    if threading.current_thread() is threading.main_thread():
        reply = serve(chan, run)
    else:
        run.event.wait()
        reply = run.reply
    if reply is None:  # let go: this round never runs again
        threading.Event().wait()
    TURN.acquire()
    _restore(run)
    return reply


def serve(chan: Channel, waiting: Run | None) -> Any:
    """The main thread reads the channel: until the resume of ``waiting`` (its own parked round;
    returns it), or, when ``waiting`` is None, until a new round for itself (returns ``(log
    descriptor, spec)``). New rounds meanwhile start on threads of their own. Raises
    ConnectionError at EOF (the worker let this process go)."""
    from wac.engine.rounds.spec import RoundSpec

    while True:
        kind, value = chan.next()
        if kind == "log":
            try:
                spec = RoundSpec.from_json(chan.recv())
            except (TypeError, ValueError, AttributeError):  # not a spec: the worker's bug, not the rounds'
                os._exit(70)
            if waiting is None:
                return value, spec
            threading.Thread(target=_threaded_round, args=(chan, value, spec), name=f"wac-round-{spec.job_id}",
                             daemon=True).start()
            continue
        if not isinstance(value, dict) or value.get("op") not in ("resume", "drop"):
            continue
        op = value["op"]
        run = PARKED.pop(str(value.get("round")), None)
        if run is None:
            continue  # stale: that round already went on or was let go
        if op == "drop":
            _close(run)
            if run is waiting:
                waiting = _DROPPED  # this thread stays the channel's reader, for the others
                continue
            run.reply = None
        elif run is waiting:
            return value
        else:
            run.reply = value
        run.event.set()


def _threaded_round(chan: Channel, logfd: int, spec: RoundSpec) -> None:
    from wac.engine.rounds.round import one_round

    try:
        one_round(chan, spec, logfd)
    except BaseException:  # noqa: BLE001  (outside the round's own handling: the process is in doubt)
        os._exit(70)  # its worker sees the round die (EOF); the parents parked here replay


def _restore(run: Run) -> None:
    """Put ``run``'s state back in place (nothing to do when it was the last to run here)."""
    if STATE["current"] is run:
        return
    from wac.engine.rounds.host import ENGINE
    from wac.sdk import host as sdk_host

    os.dup2(run.logfd, 1)
    os.dup2(run.logfd, 2)
    if run.cwd:
        try:
            os.chdir(run.cwd)
        except OSError:  # its folder went away meanwhile: it resumes wherever it is
            pass
    _set_environ(run.env)
    sys.argv[:] = run.argv
    if run.module is not None:
        sys.modules[run.module[0]] = run.module[1]
    ENGINE[:] = [run.engine] if run.engine is not None else []
    sdk_host.set_client(run.client)
    STATE["current"] = run


def _set_environ(env: dict[str, str]) -> None:
    current = os.environ
    for name in [k for k in current if k not in env]:
        del current[name]
    for name, value in env.items():
        if current.get(name) != value:
            current[name] = value


def _close(run: Run) -> None:
    if run.logfd >= 0:
        try:
            os.close(run.logfd)
        except OSError:
            pass
        run.logfd = -1


__all__ = ["PARKED", "STATE", "Run", "begin", "end", "hosting", "note_module", "park", "serve"]
