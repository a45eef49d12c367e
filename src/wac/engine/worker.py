"""Workers: claim a job, run one round of it in a forked process, apply the round's outcome.

A worker has ``slots`` threads, each running at most one round at a time, a heartbeat thread that
extends leases and kills rounds whose job was cancelled or whose claim was lost, and one zygote to
fork rounds from. Every outcome becomes exactly one store operation (one transaction,
:mod:`wac.engine.roundreport`), taken with the slot's next claim where the store can; what a
round is told is built by :mod:`wac.engine.roundspecs`; the settings are
:mod:`wac.engine.workerconfig`.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from wac.engine.bundle import Manifest, materialize
from wac.engine.envlock import ENV_PENDING
from wac.engine.roundreport import (
    WORKSPACE_ENTRY,
    apply_error,
    apply_outcome,
    child_specs,
    error_record,
    is_failure_marker,
    mask,
    not_deployed,
)
from wac.engine.rounds.envzygotes import ZygotePool
from wac.engine.rounds.parked import ParkedParents, done_keys
from wac.engine.rounds.warm import WarmTasks
from wac.engine.rounds.zygote_client import RoundProcess
from wac.engine.roundspecs import round_spec
from wac.engine.store.base import Claim, Job, Store, Token
from wac.engine.workerconfig import (
    WorkerConfig,
    chain_claims_default,
    direct_children_default,
    sticky_parents_default,
    warm_tasks_default,
)
from wac.errors import ConflictError, JobNotFoundError, LostClaimError, StoreError, WacError

if TYPE_CHECKING:
    from wac.sdk.outcomes import Outcome

# Moved to their own modules; still importable from here.
__all__ = ["WORKSPACE_ENTRY", "Worker", "WorkerConfig", "chain_claims_default", "child_specs",
           "direct_children_default", "error_record", "is_failure_marker", "sticky_parents_default",
           "warm_tasks_default"]


class Worker:
    def __init__(self, store: Store, state_dir: Path, config: WorkerConfig | None = None) -> None:
        self.store = store
        self.state_dir = state_dir
        self.config = config or WorkerConfig()
        self.worker_id = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.zygotes = ZygotePool(report=self._report)  # wac's own zygote, and one per environment
        self.zygote = self.zygotes.default
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._live: dict[str, tuple[Token, RoundProcess | None, float | None]] = {}
        self._live_lock = threading.Lock()
        self._seeking = threading.Lock()
        self._last_reap = 0.0
        self._bundles: dict[str, tuple[frozenset[str], Path, Manifest]] = {}
        self._user: str | None = None  # the OS user, looked up once (WM_USERNAME of every job)
        self.parked = ParkedParents(self.config.sticky_max, self.config.sticky_idle_s, self.config.sticky_share)
        self.warm = WarmTasks(self.config.slots, self.config.warm_idle_s)
        self.rounds_run = 0
        #: The error that stopped this worker (a store that is gone, damaged or full, or a bug):
        #: the worker stops at the first one instead of looping on it; its owner raises it.
        self.fatal: WacError | None = None
        self._fatal_lock = threading.Lock()

    # ---- lifecycle
    def start(self) -> None:
        self.zygotes.start()
        for i in range(self.config.slots):
            t = threading.Thread(target=self._slot_loop, name=f"wac-slot-{i}", daemon=True)
            t.start()
            self._threads.append(t)
        hb = threading.Thread(target=self._heartbeat_loop, name="wac-heartbeat", daemon=True)
        hb.start()
        self._threads.append(hb)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop claiming; kill rounds still running (their jobs stay in the store for any worker)."""
        self._stop.set()
        with self._live_lock:
            for _token, proc, _deadline in self._live.values():
                if proc is not None:
                    proc.kill("worker stopping")
        self.store.wake()
        for t in self._threads:
            t.join(timeout)
        with self._live_lock:  # slots still busy (a slow fork): give their jobs back from here
            leftover = [token for token, _proc, _deadline in self._live.values()]
        for token in leftover:
            try:
                self.store.release(token)
            except WacError:
                pass  # already given back, finished, or the store is gone
        self.parked.clear()
        self.warm.clear()
        self.zygotes.stop()

    def request_stop(self) -> None:
        """Ask the loops to end (safe from a signal handler); ``stop()`` then cleans up."""
        self._stop.set()

    def wait(self) -> None:
        while not self._stop.wait(0.5):
            pass

    def raise_if_failed(self) -> None:
        """Raise the error that stopped this worker, if one did (after stopping it)."""
        if self.fatal is not None:
            self.stop()
            raise self.fatal

    def _fail(self, exc: BaseException) -> None:
        """Stop the whole worker on an error no slot can go on after; the first one is kept."""
        if isinstance(exc, WacError):
            err = exc
        else:
            thread = threading.current_thread().name
            err = WacError(f"worker stopped: unexpected {type(exc).__name__} in {thread}: {exc}",
                           hint="this is a bug in wac; the job stays in the store and resumes on the next worker")
            err.__cause__ = exc
        with self._fatal_lock:
            if self.fatal is None:
                self.fatal = err
        self._stop.set()
        try:
            self.store.wake()
        except Exception:  # noqa: BLE001  (waking is a courtesy; the loops also poll _stop)
            pass

    # ---- the loops
    def _slot_loop(self) -> None:
        while not self._stop.is_set():
            try:
                claim = self._next_claim()
                while claim is not None:  # a round's outcome came with the slot's next claim
                    if self._stop.is_set():  # taken as the worker began to stop: give it back
                        with contextlib.suppress(LostClaimError):
                            self.store.release(claim.token)
                        break
                    claim = self._run_claim(claim)
            except (LostClaimError, ConflictError, JobNotFoundError) as exc:  # another process moved the job
                self._report(f"worker: {exc.message}")
            except StoreError as exc:  # gone, damaged, full, unwritable: going on would only repeat it
                self._fail(exc)
            except WacError as exc:
                self._report(f"worker: {exc.message}")
                self._stop.wait(0.2)
            except Exception as exc:  # noqa: BLE001  (a slot must never die while the process lives on)
                self._fail(exc)

    def _next_claim(self) -> Claim | None:
        """Claim a job, waiting for one. Only one idle slot at a time looks: a commit wakes that
        one slot, not every idle slot racing for the write lock to find the same job."""
        tags = self.config.tags
        with self._seeking:
            while not self._stop.is_set():
                claim = self._claim()
                if claim is not None:
                    return claim
                self._idle(tags)
        return None

    def _idle(self, tags: frozenset[str]) -> None:
        """Nothing claimable: reap what is due (expired leases, approval timeouts), else wait for
        work, at most until the next deadline."""
        now = self.store.now()
        due = self.store.next_due(tags)
        if (due is not None and due <= now) or now - self._last_reap > 1.0:
            self._last_reap = now
            if self.store.reap():
                return
        # A deadline that is already due but claimable by nobody here (another tag's slot, a full
        # concurrency key) must not make the slot spin: wait a little anyway.
        timeout = 1.0 if due is None else min(1.0, max(0.002, due - now))
        self.store.wait_for_work(tags, timeout)

    def _heartbeat_loop(self) -> None:
        interval = max(0.05, self.config.lease_s / 3)
        busy_tick = min(interval, 0.05)  # round timeouts are enforced within this
        idle_tick = min(interval, 0.25)  # nothing running or kept: an idle worker wakes less
        tick = busy_tick
        last_beat = time.monotonic()
        while not self._stop.wait(tick):
            now_mono = time.monotonic()
            self.parked.evict_idle(now_mono)
            self.warm.evict_idle(now_mono)
            with self._live_lock:
                live = list(self._live.items())
            tick = busy_tick if live or len(self.parked) or len(self.warm) else idle_tick
            for job_id, (token, proc, deadline) in live:
                if proc is not None and deadline is not None and now_mono > deadline:
                    self._kill_live(job_id, token, proc, "timeout")
            if now_mono - last_beat < interval or not live:
                continue
            last_beat = now_mono
            try:
                report = self.store.heartbeat([tok for _, (tok, _, _) in live], self.config.lease_s)
            except (LostClaimError, ConflictError, JobNotFoundError):
                continue
            except Exception as exc:  # noqa: BLE001  (see _slot_loop)
                self._fail(exc)
                return
            for job_id, (token, proc, _deadline) in live:
                if proc is None:
                    continue
                if job_id in report.cancel_requested:
                    self._kill_live(job_id, token, proc, "cancelled")
                elif job_id in report.lost:
                    self._kill_live(job_id, token, proc, "lost")

    def _kill_live(self, job_id: str, token: Token, proc: RoundProcess, because: str) -> None:
        """Kill ``proc`` if it still runs the round of ``job_id`` under ``token``. The heartbeat
        decides on a snapshot; meanwhile the round may have ended and its process been parked or
        kept warm (then a "lost" claim is only the finished round's, and the process is another
        job's now, or the same parent's resumed under a new claim)."""
        with self._live_lock:
            entry = self._live.get(job_id)
            if entry is not None and entry[0] == token and entry[1] is proc:
                proc.kill(because)

    # ---- one round
    def _run_claim(self, claim: Claim) -> Claim | None:
        """Run one round of ``claim``; returns the slot's next claim when it was taken in the
        same commit as this round's outcome (:attr:`WorkerConfig.chain_claims`)."""
        job, token = claim.job, claim.token
        self.rounds_run += 1
        if job.entry.startswith(WORKSPACE_ENTRY):
            apply_error(self.store, token, not_deployed(self.store, self.config.workspace, job, job.entry[len(WORKSPACE_ENTRY):]), "")
            return None
        try:
            files, bundle_dir, manifest = self._bundle(job.bundle_hash)
            if ENV_PENDING in files:  # a deployed script started by a job: its environment is pinned now
                job = replace(job, bundle_hash=self._pin_started(job, token))
                claim = replace(claim, job=job)
                files, bundle_dir, manifest = self._bundle(job.bundle_hash)
        except StoreError:
            raise  # the store or its disk, not the job: the worker stops, the job stays
        except WacError as exc:  # e.g. EnvBuildError: the child's lock cannot be resolved
            hint = f"\nhint: {exc.hint}" if exc.hint else ""
            apply_error(self.store, token, error_record(type(exc).__name__, exc.message + hint), "")
            return None
        if job.entry not in files:
            apply_error(self.store, token, error_record(
                "ModuleNotFoundError", f"{job.entry} is not part of the script's code bundle "
                "(task_script('./x.py') runs a module of the script's __mod folder)"), "")
            return None
        deadline = time.monotonic() + job.options.timeout if job.options.timeout else None
        with self._live_lock:
            self._live[job.id] = (token, None, deadline)
        resumed = self.parked.resume(job, token, claim.steps)
        if resumed is None and claim.steps_after is not None:  # its parked process is gone: replay all
            claim = replace(claim, steps=self.store.get_steps(job.id), steps_after=None)
        try:
            if resumed is not None:
                proc, known = resumed
            else:
                known = done_keys(claim.steps)
                spec = round_spec(self.store, self.config, claim, bundle_dir, manifest, self._username())
                code = (job.bundle_hash, job.entry)
                reused = self.warm.take(code, spec) if spec.warm else self.parked.host(code, spec) if spec.sticky else None
                proc = reused or self.zygotes.spawn(bundle_dir, job.script_path or job.name, spec)
        except (OSError, WacError) as exc:  # WacError: the bundle's environment could not be built
            with self._live_lock:
                self._live.pop(job.id, None)
            if isinstance(exc, WacError):
                hint = f"\nhint: {exc.hint}" if exc.hint else ""
                apply_error(self.store, token, error_record(type(exc).__name__, exc.message + hint), "")
            else:
                apply_error(self.store, token, error_record("WorkerError", f"could not start the round: {exc}"), "")
            return None
        with self._live_lock:
            self._live[job.id] = (token, proc, deadline)
        if self._stop.is_set():  # stop() ran while this round was being forked: it saw no process
            proc.kill("worker stopping")
        kept, chained = "closed", None
        try:
            kept, chained = self._converse(job, token, proc, manifest.module_dir, claim.step_seq)
        finally:
            with self._live_lock:
                self._live.pop(job.id, None)
            # parked or kept warm only once no heartbeat can kill it for this job (out of _live now)
            alive = proc.killed_because is None and not self._stop.is_set()
            if kept == "parked" and alive:
                self.parked.park(job, proc, known)  # it waits for its children's results
            elif kept == "warm" and alive:
                self.warm.put((job.bundle_hash, job.entry), proc)  # it waits for the next direct child
            else:
                if kept != "closed" or proc.last_op == "parked":
                    proc.release("released")  # it would wait on its channel for nothing
                proc.close()
            self.parked.settle(job.id)  # a slot that claimed the job again meanwhile may go on
        return chained

    def _converse(self, job: Job, token: Token, proc: RoundProcess, module_dir: str,
                  step_seq: int = 0) -> tuple[str, Claim | None]:
        """Apply what the round reports, and claim the slot's next job in the same commit.
        Returns what becomes of the process — ``"parked"`` (to keep as a sticky parent),
        ``"warm"`` (to keep for the next direct child), else ``"closed"`` — and that claim."""
        msg = proc.recv(None)
        if msg is None:
            self._round_died(job, token, proc)
            return "closed", None
        with self._live_lock:
            # The round reported: no user code of it runs now. Its claim stays heartbeated while its
            # outcome is applied, but a "lost" the heartbeat judges from then on (the outcome's
            # commit releases the claim) must not kill the process, which may be parked or kept
            # warm meanwhile, holding other rounds too (engine/rounds/sharing.py).
            entry = self._live.get(job.id)
            if entry is not None and entry[1] is proc:
                self._live[job.id] = (entry[0], None, entry[2])
        logs = mask(self.store, proc.logs(), msg.get("mask"))
        kept = "closed"
        with self.store.together():
            if msg.get("op") == "parked":  # a sticky parent: its dispatch, and it waits alive
                outcome = cast("Outcome", msg.get("outcome") or {})  # from the wire: _apply_outcome checks its type
                self.parked.expect(job.id, step_seq)  # settled by _run_claim once it is parked (or not)
                applied = apply_outcome(self.store, self.config, job, token, outcome, logs, module_dir, msg.get("direct"))
                if applied and outcome.get("type") == "dispatch" and not self._stop.is_set():
                    kept = "parked"
            elif msg.get("op") == "outcome":
                applied = apply_outcome(self.store, self.config, job, token, cast("Outcome", msg["outcome"]), logs, module_dir,
                                              msg.get("direct"))
                if msg.get("warm") and applied and self.config.warm_tasks:
                    kept = "warm"
            else:
                err = msg.get("error") or error_record("Error", "round failed")
                if isinstance(err, dict):  # an exception's message or stack may quote a secret too
                    err = {k: mask(self.store, v, msg.get("mask")) if isinstance(v, str) else v for k, v in err.items()}
                apply_error(self.store, token, err, logs)
            chained = self._chain_claim()
        if kept == "parked":
            proc.reset_log()  # the next round's log starts here
        elif msg.get("op") == "parked":
            proc.release("released")
        return kept, chained

    def _chain_claim(self) -> Claim | None:
        """The slot's next claim, taken in the commit of the round's outcome (None: the slot
        looks for work as usual)."""
        if not self.config.chain_claims or self._stop.is_set():
            return None
        return self._claim()

    def _claim(self) -> Claim | None:
        """The best runnable job for this worker's tags, if any (a parked parent needs only its
        children's new results: parked.since)."""
        return self.store.claim(self.worker_id, self.config.tags, self.config.lease_s, recent=self.parked.since)

    def _round_died(self, job: Job, token: Token, proc: RoundProcess) -> None:
        logs = mask(self.store, proc.logs())
        why = proc.killed_because
        if why is None and self._stop.is_set():
            why = "worker stopping"  # its zygote went away with the stopping worker
        if why == "lost":
            return  # another worker owns the job now
        if why == "worker stopping":
            try:
                self.store.release(token)  # any worker may take it up at once
            except LostClaimError:
                pass
            return
        if why == "timeout":
            err = error_record("TimeoutError", f"{job.name} timed out after {job.options.timeout:g}s")
        elif why == "cancelled":
            err = error_record("Cancelled", f"{job.name} was cancelled")
        else:
            tail = logs.strip().splitlines()[-1:] or [""]
            err = error_record("RoundCrashedError", f"the round process of {job.name} exited unexpectedly"
                               + (f": {tail[0]}" if tail[0] else ""))
        apply_error(self.store, token, err, logs)

    def _pin_started(self, job: Job, token: Token) -> str:
        """Pin the environment of a job whose bundle left it to its worker (engine/deployed.py);
        the claim is kept alive by the heartbeat meanwhile (resolving may take seconds)."""
        from wac.engine.deployed import pin_started

        with self._live_lock:
            self._live[job.id] = (token, None, None)
        try:
            return pin_started(self.store, token, job.bundle_hash, job.entry)
        finally:
            with self._live_lock:
                self._live.pop(job.id, None)

    def _bundle(self, bundle_hash: str) -> tuple[frozenset[str], Path, Manifest]:
        """The bundle's file names, its directory (materialized once per worker) and manifest."""
        cached = self._bundles.get(bundle_hash)
        if cached is None:
            files = self.store.get_bundle(bundle_hash)
            folder = self.state_dir / "bundles"
            try:
                where = materialize(folder, bundle_hash, files)
            except OSError as exc:
                import errno

                from wac.engine.store._sqlite_conn import disk_full

                if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                    raise disk_full(str(folder)) from exc
                raise StoreError(f"cannot write the code bundle under {folder}: {exc.strerror or exc}",
                                 hint="make it writable, or set WAC_STATE_DIR to a writable folder") from exc
            cached = (frozenset(files), where, Manifest.of(files))
            self._bundles[bundle_hash] = cached
        return cached

    def _username(self) -> str:
        """The OS user (WM_USERNAME of every job), looked up once."""
        if self._user is None:
            from wac.engine.local_backend import _user

            self._user = _user() or "wac"
        return self._user

    def _report(self, message: str) -> None:
        sys.stderr.write(message + "\n")
