"""One round of one job, inside the forked round process.

The worker sends the log file's descriptor, then the round's spec as one JSON line on the
channel. This process loads the bundle's entry file, runs one replay of it through the SDK (or,
on request, through the real ``wmill`` package's ``_run_workflow``), commits ``step()`` values
to the store itself (fenced by the claim token), and writes back one JSON line:

- ``{"op": "outcome", "outcome": {...}}``: how the round ended (spec §4.2);
- ``{"op": "error", "error": {name, message, stack}}``: the round raised.

stdout and stderr of the round go to the log file the worker handed over. Stdlib only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wac.engine import approvals

if TYPE_CHECKING:
    from wac.sdk.outcomes import Outcome


class _Channel:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def recv(self) -> dict[str, Any]:
        line = self.rfile.readline()
        if not line:
            raise ConnectionError("worker went away")
        return json.loads(line)  # type: ignore[no-any-return]


class EngineHost:
    """The engine side of the SDK's RoundHost, seen from inside the round process."""

    def __init__(self, spec: dict[str, Any]) -> None:
        from wac.engine.store.base import Token

        self._spec = spec
        self._store: Any = None
        self._token = Token(*spec["token"]) if spec.get("token") else None
        self._client: Any = None
        #: @task children this round dispatched that may call their task directly: key -> "module:name:line"
        self.direct: dict[str, str] = {}

    def note_direct(self, key: str, target: str) -> None:
        """The SDK proved the child of ``key`` can call ``target`` with its recorded args."""
        if self._spec.get("direct_children"):
            self.direct[key] = target

    def park(self, outcome: dict[str, Any]) -> dict[str, Any] | None:
        """A sticky parent (issue 17): hand the dispatch to the worker and wait, alive, for the
        children's results; None ends the round with the dispatch as usual.

        The worker commits the dispatch first. When every child is done and this worker claims
        the job again, it sends ``{"op": "resume", "token", "completed"}``: the results (already
        committed) and the new claim. If it evicts this process instead, the channel closes and
        the process exits; the next round replays from the store as always.
        """
        if not self._spec.get("sticky") or outcome.get("type") != "dispatch" or not _CHANNEL:
            return None
        message: dict[str, Any] = {"op": "parked", "outcome": outcome, "mask": _revealed()}
        if self.direct:
            message["direct"], self.direct = self.direct, {}
        try:
            payload = json.dumps(message, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return None
        self._flush()
        _CLAIM["gen"] += 1
        _CLAIM["parked"] = True
        chan = _CHANNEL[0]
        try:
            chan.sock.sendall(payload.encode() + b"\n")
            reply = chan.recv()
        except (OSError, ValueError):  # ConnectionError included: the worker let this process go
            os._exit(0)
        if reply.get("op") != "resume":
            os._exit(0)
        from wac.engine.store.base import Token

        self._token = Token(*reply["token"])
        self._spec["token"] = reply["token"]
        _CLAIM["token"] = reply["token"]
        _CLAIM["parked"] = False
        completed = reply.get("completed")
        return completed if isinstance(completed, dict) else {}

    def commit_step(self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool) -> bool:
        """The step() fast path: commit the value to the store from this process, fenced by the
        job's claim token, and let the body go on. False ends the round the slow way instead
        (``inline_checkpoint``, applied by the worker)."""
        from wac.errors import WacError

        if not self._spec.get("fast_path", True) or self._token is None:
            return False
        try:
            self.store().checkpoint(self._token, key, value, requeue=False, failed=failed, started_at=started_at)
            return True
        except WacError:  # the claim was lost, or the store cannot be used from here
            return False

    def store(self) -> Any:
        """The store, opened once per round (schema known current)."""
        if self._store is None:
            from wac.engine.store import open_store

            self._store = open_store(self._spec["store_url"], migrate=False)
        return self._store

    def client(self) -> Any:
        """The job's wmill client calls (:class:`~wac.engine.client_calls.RoundClient`), made on first use."""
        if self._client is None:
            from wac.engine.client_calls import RoundClient

            self._client = RoundClient(self._spec, self.store())
        return self._client

    def resume_urls(self, approval_key: str, approver: str | None) -> dict[str, str]:
        """Fresh URLs for the approval; their secrets' hashes are in the store before they are
        returned (so an URL a step sends out always works)."""
        issued = approvals.issue(self._spec.get("base_url"), self._spec["workspace"], self._spec["job_id"],
                                 approval_key, approver)
        if self._token is None:
            raise RuntimeError("get_resume_urls() needs a round claimed by a wac worker")
        if self._store is None:
            from wac.engine.store import open_store

            self._store = open_store(self._spec["store_url"], migrate=False)
        self._store.add_approval_tokens(self._token, approval_key, issued.rows, approver)
        return issued.urls

    @staticmethod
    def _flush() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


def _module_name(entry: str) -> tuple[str, str]:
    parts = entry[:-3].split("/") if entry.endswith(".py") else entry.split("/")
    if all(p.isidentifier() for p in parts):
        return ".".join(parts), ".".join(parts[:-1])
    return "__wac_main__", ""


def _load_main(spec: dict[str, Any]) -> Any:
    bundle = Path(spec["bundle_dir"])
    entry = spec["entry"]
    extra = [str(bundle / spec["mod_dir"]), str(bundle)]
    if not spec.get("real_wmill"):
        extra.append(spec["shim_dir"])
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
    mspec.loader.exec_module(module)
    main = getattr(module, "main", None)
    if main is None or not callable(main):
        raise _NoMainError(f"{entry} has no main function")
    return main


class _NoMainError(Exception):
    pass


def _error_record(exc: BaseException, entry: str) -> dict[str, Any]:
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


def _run(spec: dict[str, Any]) -> Outcome:
    from wac.sdk import host as sdk_host

    engine = EngineHost(spec)
    _ENGINE[:] = [engine]
    sdk_host.set_client(_LazyClient(engine))
    args, checkpoint, main = spec["args"], spec["checkpoint"], None
    if spec.get("direct"):
        # A direct @task child (issue 17): call the task with its own recorded args. Its claim
        # carried no parent data, so if the task cannot be found as recorded it replays the
        # parent's body from the store after all, like any child.
        main = _load_main(spec)
        func = _direct_function(spec["direct"]) if spec.get("direct_children") else None
        if func is not None:
            from wac.sdk.runtime import run_direct

            return run_direct(func, checkpoint["_executing_key"], args, engine)
        args, checkpoint = _parent_replay(spec, engine)
    if any(isinstance(v, str) and v.startswith(("$var:", "$res:")) for v in (args or {}).values()):
        args = engine.client().resolve_args(args)  # as Windmill's runner does, before the body runs
    if main is None:
        main = _load_main(spec)
    if spec.get("real_wmill"):
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
    wrapper = getattr(sys.modules.get(module_name), name, None)
    definition = getattr(wrapper, "__wac_task__", None)
    func = getattr(wrapper, "__wrapped__", None)
    if definition is None or getattr(definition, "dispatch_type", None) != "inline" or not callable(func):
        return None
    code = getattr(func, "__code__", None)
    if code is None or str(code.co_firstlineno) != line or getattr(func, "__name__", None) != name:
        return None
    return func


def _parent_replay(spec: dict[str, Any], engine: EngineHost) -> tuple[dict[str, Any], dict[str, Any]]:
    """The parent's args and checkpoint, read from the store, for a child that must replay."""
    store = engine.store()
    parent_id = spec["parent_id"]
    steps = store.get_steps(parent_id)
    checkpoint: dict[str, Any] = {
        "completed_steps": {s.key: s.value for s in steps if s.done},
        "_key_order": [s.key for s in steps],
        "_executing_key": spec["checkpoint"]["_executing_key"],
    }
    return dict(store.get_job(parent_id).args or {}), checkpoint


_ENGINE: list[EngineHost] = []  # the round's host, for the secrets its client handed out
_CHANNEL: list[_Channel] = []  # the channel to the worker (a sticky parent parks on it)
#: The claim this process runs under, read by the claim watch: a sticky parent gets a new
#: token on each resume, and holds none while parked.
_CLAIM: dict[str, Any] = {"token": None, "parked": False, "gen": 0}


def _revealed() -> list[str]:
    """Secret values this round read (the worker masks them in the job's logs)."""
    if not _ENGINE or _ENGINE[0]._client is None:
        return []
    return list(dict.fromkeys(_ENGINE[0]._client.objects.revealed))


class _LazyClient:
    """Opens the job's client (and the store) only when a client call is made."""

    def __init__(self, engine: EngineHost) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine.client(), name)


def _watch_claim(spec: dict[str, Any]) -> None:
    """Kill this round (its whole process group) once its claim is gone.

    The worker heartbeats the lease; a worker that is stopped (SIGSTOP), stalled or cut off
    stops heartbeating, the lease runs out and another worker takes the job over. This thread
    checks the claim in the store every quarter lease (a round shorter than that never looks),
    by the store's clock, and ends the round as soon as the claim is lost or its lease has run
    out, so two rounds of one job do not run user code side by side for longer than that.
    """
    import signal
    import threading
    import time

    token, url, lease = spec.get("token"), spec.get("store_url"), spec.get("lease_s")
    if not token or not url or not lease:
        return
    _CLAIM["token"] = token
    period = max(0.05, float(lease) / 4)

    def watch() -> None:
        from wac.engine.store import open_store
        from wac.engine.store.base import Token
        from wac.errors import StoreError

        store = None
        doubts = 0
        while True:
            time.sleep(period)
            if _CLAIM["parked"]:  # a parked sticky parent holds no claim until resumed
                doubts = 0
                continue
            gen, claim = _CLAIM["gen"], Token(*_CLAIM["token"])
            try:
                if store is None:
                    store = open_store(url, migrate=False)
                if store.holds(claim) or _CLAIM["parked"] or _CLAIM["gen"] != gen:
                    doubts = 0
                    continue
                why = "its claim was lost or its lease ran out"
            except StoreError as exc:
                doubts += 1
                if doubts < 3:  # a busy store is no proof; three misses in a row are
                    continue
                why = f"the store cannot confirm its claim ({exc.message})"
            sys.stderr.write(f"wac: round of job {claim.job_id} stopped: {why}\n")
            EngineHost._flush()
            os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="wac-claim-watch", daemon=True).start()


def run_child(chan_fd: int) -> int:
    """Run one round; returns the process exit code.

    The worker first sends the log file's descriptor over the channel, then the spec line.
    """
    sock = socket.socket(fileno=chan_fd)
    _msg, fds, _flags, _addr = socket.recv_fds(sock, 1, 1)
    if not fds:
        return 0  # the worker went away before handing out this round
    os.dup2(fds[0], 1)
    os.dup2(fds[0], 2)
    os.close(fds[0])
    chan = _Channel(sock)
    _CHANNEL[:] = [chan]
    spec = chan.recv()
    os.chdir(spec.get("cwd") or spec["bundle_dir"])
    os.environ.update(spec.get("env", {}))
    _watch_claim(spec)
    try:
        outcome = _run(spec)
        message: dict[str, Any] = {"op": "outcome", "outcome": outcome, "mask": _revealed()}
        if _ENGINE and _ENGINE[0].direct:
            message["direct"] = _ENGINE[0].direct
        try:
            payload = json.dumps(message, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"the workflow returned a value that is not JSON-serialisable: {exc}") from None
    except BaseException as exc:  # SystemExit or KeyboardInterrupt from user code fail the round too
        payload = json.dumps({"op": "error", "error": _error_record(exc, spec["entry"]), "mask": _revealed()},
                             default=str)
    EngineHost._flush()
    chan.sock.sendall(payload.encode() + b"\n")
    return 0
