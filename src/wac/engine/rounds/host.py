"""The round process's side of the engine: its host for the SDK, its channel, its claim watch.

:class:`EngineHost` is what the SDK's :class:`~wac.sdk.host.RoundHost` calls inside a round
process (commit a ``step()``, park a sticky parent, issue resume URLs, open the job's client); the
round itself is :mod:`wac.engine.rounds.round`. The process-wide state lives here: one channel to
the worker, the claim the process runs under (a sticky parent and a warm task process change it),
and the store it opened (once per process). Stdlib only.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
from typing import TYPE_CHECKING, Any

from wac.engine import approvals
from wac.engine.rounds import footprint, sharing
from wac.engine.rounds.spec import RoundSpec

if TYPE_CHECKING:
    from wac.sdk.outcomes import DispatchOutcome


class Channel:
    """The round's socket to its worker: JSON lines both ways; a log file comes from the worker as
    the byte ``L`` with its descriptor attached (``socket.send_fds``)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buf = bytearray()
        self._fds: list[int] = []
        self._send_lock = threading.Lock()

    def next(self) -> tuple[str, Any]:
        """The next message: ``("log", descriptor)`` or ``("msg", object)``; ConnectionError at EOF."""
        while True:
            if self._buf[:1] == b"L":
                del self._buf[:1]
                if not self._fds:
                    raise ConnectionError("a log file came without its descriptor")
                return "log", self._fds.pop(0)
            end = self._buf.find(b"\n")
            if end >= 0:
                line = bytes(self._buf[:end])
                del self._buf[:end + 1]
                return "msg", json.loads(line)
            # a descriptor comes with the byte it was sent with: a read never splits the two
            data, fds, _flags, _addr = socket.recv_fds(self.sock, 65536, 4)
            self._fds.extend(fds)
            if not data:
                raise ConnectionError("worker went away")
            self._buf += data

    def recv(self) -> dict[str, Any]:
        """The next JSON message (ConnectionError at EOF, or if a log file comes instead)."""
        kind, value = self.next()
        if kind != "msg":
            os.close(value)
            raise ConnectionError("a log file came where a message was expected")
        return value  # type: ignore[no-any-return]

    def send(self, payload: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(payload)


class EngineHost:
    """The engine side of the SDK's RoundHost, seen from inside the round process."""

    def __init__(self, spec: RoundSpec) -> None:
        from wac.engine.store.base import Token

        self._spec = spec
        self._store: Any = None
        self._token = Token(*spec.token) if spec.token else None
        self._client: Any = None
        #: @task children this round dispatched that may call their task directly: key -> "module:name:line"
        self.direct: dict[str, str] = {}

    def note_direct(self, key: str, target: str) -> None:
        """The SDK proved the child of ``key`` can call ``target`` with its recorded args."""
        if self._spec.direct_children:
            self.direct[key] = target

    def park(self, outcome: DispatchOutcome) -> dict[str, Any] | None:
        """A sticky parent (issue 17): hand the dispatch to the worker and wait, alive, for the
        children's results; None ends the round with the dispatch as usual.

        The worker commits the dispatch first. When every child is done and this worker claims
        the job again, it sends ``{"op": "resume", "token", "completed"}``: the results (already
        committed) and the new claim. If it lets the round go instead (``{"op": "drop"}``, or the
        channel closes), the round never runs again; the next round replays from the store as
        always. Meanwhile the process may run other rounds of this code (engine/rounds/sharing.py)."""
        if not self._spec.sticky or outcome.get("type") != "dispatch" or not CHANNEL:
            return None
        message: dict[str, Any] = {"op": "parked", "outcome": outcome, "mask": revealed()}
        if self.direct:
            message["direct"], self.direct = self.direct, {}
        try:
            payload = json.dumps(message, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            return None
        self.flush()
        CLAIM["gen"] += 1
        CLAIM["parked"] = True
        try:
            # while the worker commits the dispatch, give back what the parked process won't use
            # (its garbage, SQLite's page cache, the C heap's free pages: engine/rounds/footprint.py);
            # meanwhile the process may run other rounds of this code (engine/rounds/sharing.py)
            reply = sharing.park(CHANNEL[0], payload.encode() + b"\n",
                                 lambda: footprint.release(list(STORES.values())))
        except (OSError, ValueError):  # ConnectionError included: the worker let this process go
            os._exit(0)
        if reply.get("op") != "resume":
            os._exit(0)
        from wac.engine.store.base import Token

        self._token = Token(*reply["token"])
        self._spec.token = reply["token"]
        CLAIM["token"] = reply["token"]
        CLAIM["gen"] += 1  # a watch that read the parked claim's token must not judge by it
        CLAIM["parked"] = False
        completed = reply.get("completed")
        return completed if isinstance(completed, dict) else {}

    def commit_step(self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool) -> bool:
        """The step() fast path: commit the value to the store from this process, fenced by the
        job's claim token, and let the body go on. False ends the round the slow way instead
        (``inline_checkpoint``, applied by the worker)."""
        from wac.errors import WacError

        if not self._spec.fast_path or self._token is None:
            return False
        try:
            self.store().checkpoint(self._token, key, value, requeue=False, failed=failed, started_at=started_at)
            return True
        except WacError:  # the claim was lost, or the store cannot be used from here
            return False

    def store(self) -> Any:
        """The store, opened once per process (schema known current)."""
        if self._store is None:
            url = self._spec.store_url
            if url not in STORES:
                STORES[url] = open_round_store(url)
            self._store = STORES[url]
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
        # the worker's environment's base URL (it is in the spec), else the store's setting, read
        # here and not for every round (only an approval needs it)
        base_url = self._spec.base_url or self.store().get_setting("base_url")
        issued = approvals.issue(base_url, self._spec.workspace, self._spec.job_id,
                                 approval_key, approver)
        if self._token is None:
            raise RuntimeError("get_resume_urls() needs a round claimed by a wac worker")
        self.store().add_approval_tokens(self._token, approval_key, issued.rows, approver)
        return issued.urls

    @staticmethod
    def flush() -> None:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


ENGINE: list[EngineHost] = []  # the round's host, for the secrets its client handed out
STORES: dict[str, Any] = {}  # the store, opened once per process by store URL
CHANNEL: list[Channel] = []  # the channel to the worker (a sticky parent parks on it)
#: The claim this process runs under, read by the claim watch: a sticky parent gets a new
#: token on each resume, a warm task process one per round, and neither holds one while waiting.
CLAIM: dict[str, Any] = {"token": None, "parked": False, "gen": 0}


def revealed() -> list[str]:
    """Secret values this round read (the worker masks them in the job's logs)."""
    if not ENGINE or ENGINE[0]._client is None:
        return []
    return list(dict.fromkeys(ENGINE[0]._client.objects.revealed))


class LazyClient:
    """Opens the job's client (and the store) only when a client call is made."""

    def __init__(self, engine: EngineHost) -> None:
        self._engine = engine

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine.client(), name)


def watch_claim(spec: RoundSpec) -> None:
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

    token, url, lease = spec.token, spec.store_url, spec.lease_s
    if not token or not url or not lease:
        return
    CLAIM["token"] = token
    period = max(0.05, float(lease) / 4)

    def watch() -> None:
        from wac.engine.store.base import Token
        from wac.errors import StoreError

        store = None
        doubts = 0
        while True:
            time.sleep(period)
            if CLAIM["parked"]:  # a parked sticky parent holds no claim until resumed
                doubts = 0
                continue
            gen, claim = CLAIM["gen"], Token(*CLAIM["token"])
            try:
                if store is None:
                    store = open_round_store(url)
                if store.holds(claim) or CLAIM["parked"] or CLAIM["gen"] != gen:
                    doubts = 0
                    continue
                why = "its claim was lost or its lease ran out"
            except StoreError as exc:
                doubts += 1
                if doubts < 3:  # a busy store is no proof; three misses in a row are
                    continue
                why = f"the store cannot confirm its claim ({exc.message})"
            sys.stderr.write(f"wac: round of job {claim.job_id} stopped: {why}\n")
            EngineHost.flush()
            os.killpg(0, signal.SIGKILL)

    threading.Thread(target=watch, name="wac-claim-watch", daemon=True).start()
    signal.signal(signal.SIGCONT, _check_claim_on_continue(url))


def _check_claim_on_continue(url: str) -> Any:
    """A SIGCONT handler: a round stopped past its lease (SIGSTOP, a frozen machine) may have lost
    its claim meanwhile. The handler runs in the main thread between two bytecodes, so it looks
    before the body runs one more line, and kills the round if another worker holds the job now.
    A store it cannot reach is left to the watch thread (it counts doubts before it kills)."""
    opened: list[Any] = []

    def on_continue(_signum: int, _frame: Any) -> None:
        import signal

        from wac.engine.store.base import Token
        from wac.errors import StoreError

        if CLAIM["parked"] or not CLAIM["token"]:
            return
        claim = Token(*CLAIM["token"])
        try:
            if not opened:  # a store of its own: the main thread may be inside one of its own calls
                opened.append(open_round_store(url))
            if opened[0].holds(claim):
                return
        except StoreError:
            return
        sys.stderr.write(f"wac: round of job {claim.job_id} stopped: it was stopped past its lease"
                         " and another worker holds the job now\n")
        EngineHost.flush()
        os.killpg(0, signal.SIGKILL)

    return on_continue


def open_round_store(url: str) -> Any:
    """The store a round opens at ``url`` (schema known current). A PostgreSQL store in an
    environment's round runs each call with wac's own psycopg lent (:mod:`wac.owndeps`)."""
    from wac.engine.store import open_store
    from wac.owndeps import InRegion, active, own_deps

    if not active() or not url.startswith(("postgres://", "postgresql://")):
        return open_store(url, migrate=False)
    with own_deps():
        return InRegion(open_store(url, migrate=False))
