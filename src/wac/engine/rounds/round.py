"""One round of one job, inside the forked round process.

The worker (through :mod:`wac.engine.rounds.zygote_client`) sends the log file's descriptor, then
the round's :class:`~wac.engine.rounds.spec.RoundSpec` as one JSON line on the channel. This
process loads the bundle's entry file, runs one replay of it through the SDK (or, on request,
through the real ``wmill`` package's ``_run_workflow``), commits ``step()`` values to the store
itself (fenced by the claim token; :mod:`wac.engine.rounds.host`), and writes back one JSON line:

- ``{"op": "outcome", "outcome": {...}}``: how the round ended (spec §4.2);
- ``{"op": "error", "error": {name, message, stack}}``: the round raised.

stdout and stderr of the round go to the log file the worker handed over. Stdlib only.
"""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wac.engine.rounds import sharing
from wac.engine.rounds.host import CHANNEL, CLAIM, ENGINE, Channel, EngineHost, LazyClient, revealed, watch_claim
from wac.engine.rounds.spec import RoundSpec

if TYPE_CHECKING:
    from wac.sdk.outcomes import Outcome

_RAN_DIRECT: list[bool] = []  # set when this round called its task directly (it may be kept warm)
_LOADED: dict[tuple[str, str], Any] = {}  # a warm task process loads its code once: main by (bundle, entry)


def _module_name(entry: str) -> tuple[str, str]:
    parts = entry[:-3].split("/") if entry.endswith(".py") else entry.split("/")
    if all(p.isidentifier() for p in parts):
        return ".".join(parts), ".".join(parts[:-1])
    return "__wac_main__", ""


def load_main(bundle_dir: str, entry: str, mod_dir: str, shim_dir: str | None) -> Any:
    """The ``main`` of the bundle's ``entry`` file, executed once per process (a warm task
    process keeps it); ``shim_dir`` (wac's ``wmill`` shim) goes on ``sys.path`` unless None."""
    loaded = _LOADED.get((bundle_dir, entry))
    if loaded is not None:
        return loaded
    main = _exec_main(bundle_dir, entry, mod_dir, shim_dir)
    _LOADED[(bundle_dir, entry)] = main
    return main


def _exec_main(bundle_dir: str, entry: str, mod_dir: str, shim_dir: str | None) -> Any:
    bundle = Path(bundle_dir)
    extra = [str(bundle / mod_dir), str(bundle)]
    if shim_dir is not None:
        extra.append(shim_dir)
    if sys.path[:len(extra)] != extra:  # a shared process runs this code again: once is enough
        sys.path[:0] = extra
    name, package = _module_name(entry)
    file = bundle / entry
    mspec = importlib.util.spec_from_file_location(name, file)
    if mspec is None or mspec.loader is None:
        raise ImportError(f"cannot load {entry}")
    module = importlib.util.module_from_spec(mspec)
    module.__package__ = package
    sys.modules[name] = module
    sys.argv = [str(file)]
    sharing.note_module(name, module)
    mspec.loader.exec_module(module)
    main = getattr(module, "main", None)
    if main is None or not callable(main):
        raise _NoMainError(f"{entry} has no main function")
    return main


class _NoMainError(Exception):
    pass


def error_record(exc: BaseException, entry: str) -> dict[str, Any]:
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{entry}:{exc.lineno or 0}:{exc.offset or 0}"
        message = f"{where}: syntax error: {exc.msg}"
    elif isinstance(exc, SystemExit):  # sys.exit(3) in user code: say so, not just "3"
        code = exc.code if exc.code is not None else 0
        message = f"exited with code {code}" if isinstance(code, int) else f"exited: {code}"
    else:
        message = str(exc) or type(exc).__name__
    stack = "".join(traceback.format_exception(exc))
    return {"name": type(exc).__name__, "message": message, "stack": stack}


def _main_of(spec: RoundSpec) -> Any:
    shim = None if spec.real_wmill else spec.shim_dir
    if spec.sticky:  # a parent's round: its module its own (a shared process runs other runs of it)
        return _exec_main(spec.bundle_dir, spec.entry, spec.mod_dir, shim)
    return load_main(spec.bundle_dir, spec.entry, spec.mod_dir, shim)


def _run(spec: RoundSpec) -> Outcome:
    from wac.sdk import host as sdk_host

    engine = EngineHost(spec)
    ENGINE[:] = [engine]
    sdk_host.set_client(LazyClient(engine))
    args, checkpoint, main = spec.args, spec.checkpoint, None
    if spec.direct:
        # A direct @task child (issue 17): call the task with its own recorded args. Its claim
        # carried no parent data, so if the task cannot be found as recorded it replays the
        # parent's body from the store after all, like any child.
        main = _main_of(spec)
        func = _direct_function(spec.direct) if spec.direct_children else None
        if func is not None:
            from wac.sdk.runtime import run_direct

            _RAN_DIRECT.append(True)
            return run_direct(func, checkpoint["_executing_key"], args, engine)
        args, checkpoint = _parent_replay(spec, engine)
    if any(isinstance(v, str) and v.startswith(("$var:", "$res:")) for v in (args or {}).values()):
        args = engine.client().resolve_args(args)  # as Windmill's runner does, before the body runs
    if main is None:
        main = _main_of(spec)
    if spec.real_wmill:
        from wmill import (
            client as wmill_client,  # the real package, for compatibility runs
        )

        return wmill_client._run_workflow(main, checkpoint, args)  # type: ignore[no-any-return]
    from wac.sdk import run_round

    return run_round(main, checkpoint, args, engine)


def _direct_function(target: str) -> Any:
    """The function of the module-level ``@task`` ``"module:name:line"`` (loaded with the entry),
    or None when the module does not bind that function under that name here."""
    parts = target.split(":")
    if len(parts) != 3:
        return None
    module_name, name, line = parts
    from wac.sdk.task import task_def

    wrapper = getattr(sys.modules.get(module_name), name, None)
    definition = task_def(wrapper)
    func = getattr(wrapper, "__wrapped__", None)
    if definition is None or definition.dispatch_type != "inline" or not callable(func):
        return None
    code = getattr(func, "__code__", None)
    if code is None or str(code.co_firstlineno) != line or getattr(func, "__name__", None) != name:
        return None
    return func


def _parent_replay(spec: RoundSpec, engine: EngineHost) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parent's args and checkpoint, read from the store, for a child that must replay."""
    store = engine.store()
    parent_id = spec.parent_id
    steps = store.get_steps(parent_id)
    checkpoint: dict[str, Any] = {
        "completed_steps": {s.key: s.value for s in steps if s.done},
        "_key_order": [s.key for s in steps],
        "_executing_key": spec.checkpoint["_executing_key"],
    }
    return dict(store.get_job(parent_id).args or {}), checkpoint


def run_child(chan_fd: int) -> int:
    """Run the rounds the worker hands this process; returns the exit code.

    Each round comes as its log file's descriptor, then its spec line, on the channel. A process
    runs one round, except a warm task process (one direct child after another, while its round
    completes with ``"warm"`` in its spec: engine/rounds/warm.py) and a process that parked a
    sticky parent (it may take further rounds of the same code: engine/rounds/sharing.py); those
    end at EOF, when the worker lets them go.
    """
    sock = socket.socket(fileno=chan_fd)
    chan = Channel(sock)
    CHANNEL[:] = [chan]
    while True:
        try:
            logfd, spec = sharing.serve(chan, None)
        except (ConnectionError, ValueError):
            return 0  # the worker went away (or let this process go) before another round
        if not one_round(chan, spec, logfd) and not sharing.hosting():
            return 0


def one_round(chan: Channel, spec: RoundSpec, logfd: int) -> bool:
    """Run the round of ``spec`` (its log on ``logfd``) and report it; True when this process is
    kept warm for another."""
    run = sharing.begin(spec, logfd)
    if CLAIM["token"] is None and threading.current_thread() is threading.main_thread():
        watch_claim(spec)
    else:  # a warm task process or a shared one: the watch already runs, it now watches this round's claim
        CLAIM["token"] = spec.token
        CLAIM["gen"] += 1
        CLAIM["parked"] = False
    _RAN_DIRECT[:] = []
    warm = False
    try:
        outcome = _run(spec)
        message: dict[str, Any] = {"op": "outcome", "outcome": outcome, "mask": revealed()}
        if ENGINE and ENGINE[0].direct:
            message["direct"] = ENGINE[0].direct
        warm = bool(spec.warm and _RAN_DIRECT)
        if warm:
            message["warm"] = True
        try:
            payload = json.dumps(message, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            warm = False
            raise TypeError(f"the workflow returned a value that is not JSON-serialisable: {exc}") from None
    except BaseException as exc:  # SystemExit or KeyboardInterrupt from user code fail the round too
        payload = json.dumps({"op": "error", "error": error_record(exc, spec.entry), "mask": revealed()},
                             default=str)
    EngineHost.flush()
    # no user code runs any more: a process kept (warm, or holding parked parents) holds no
    # claim until handed its next round, and its claim watch must not take this one's end for a loss
    CLAIM["gen"] += 1
    CLAIM["parked"] = True
    try:
        chan.send(payload.encode() + b"\n")
    finally:
        sharing.end(run)
    return warm
