"""Workers: claim a job, run one round of it in a forked process, apply the round's outcome.

A worker has ``slots`` threads, each running at most one round at a time, a heartbeat thread that
extends leases and kills rounds whose job was cancelled or whose claim was lost, and one zygote to
fork rounds from. Every outcome becomes exactly one store operation (one transaction).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from wac.engine import approvals
from wac.engine.bundle import Manifest, materialize
from wac.engine.envlock import ENV_PENDING
from wac.engine.rounds.envzygotes import ZygotePool
from wac.engine.rounds.parked import ParkedParents, done_keys
from wac.engine.rounds.spec import RoundSpec
from wac.engine.rounds.warm import WarmTasks
from wac.engine.rounds.zygote_client import RoundProcess
from wac.engine.store.base import ChildSpec, Claim, Job, Store, TaskOptions, Token
from wac.errors import ConflictError, JobNotFoundError, LostClaimError, StoreError, WacError
from wac.sdk.outcomes import OUTCOME_TYPES
from wac.timeformat import timestamp

if TYPE_CHECKING:
    from wac.sdk.outcomes import DispatchStep, Outcome

WORKSPACE_ENTRY = "ws:"  # entry prefix of a child that runs a script deployed in the workspace


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw not in ("0", "false", "no", "off")


def _number(name: str, default: float, low: float) -> float:
    try:
        return max(low, float(os.environ.get(name, "") or default))
    except ValueError:
        return default


def direct_children_default() -> bool:
    """``WAC_DIRECT_CHILDREN``: ``0`` (or ``false``/``no``/``off``) replays every child; on by default."""
    return _flag("WAC_DIRECT_CHILDREN", True)


def warm_tasks_default() -> bool:
    """``WAC_WARM_TASKS``: ``0`` forks a fresh process for every direct child; on by default."""
    return _flag("WAC_WARM_TASKS", True)


def chain_claims_default() -> bool:
    """``WAC_CHAIN_CLAIMS``: ``0`` applies a round's outcome and claims the slot's next job in two
    commits (and lets any idle slot take it); on by default."""
    return _flag("WAC_CHAIN_CLAIMS", True)


def sticky_parents_default() -> bool:
    """``WAC_STICKY_PARENTS``: ``0`` ends a parent's round at each dispatch; on by default."""
    return _flag("WAC_STICKY_PARENTS", True)


@dataclass
class WorkerConfig:
    slots: int = 1
    tags: frozenset[str] = frozenset({"*"})
    lease_s: float = 10.0
    skip_sleeps: bool = False  # preview --skip-sleeps: sleeps of preview jobs end at once
    real_wmill: bool = False  # run rounds through the real ``wmill`` package instead of wac's SDK
    fast_path: bool = True  # step() commits from inside the round
    workspace: str = "local"
    repo_root: str | None = None  # preview jobs read the repo's variable/resource files first,
    objects_workspace: str | None = None  # then this (the current) workspace's objects, then the store's
    # A dispatched child of a module-level @task calls the task directly with its recorded args
    # instead of replaying its parent's body (issue 17); WAC_DIRECT_CHILDREN=0 turns it off.
    direct_children: bool = field(default_factory=direct_children_default)
    # A parent whose round dispatched children stays alive awaiting their results (issue 17),
    # at most sticky_max of them per worker, each for at most sticky_idle_s seconds.
    sticky_parents: bool = field(default_factory=sticky_parents_default)
    sticky_max: int = field(default_factory=lambda: int(_number("WAC_STICKY_MAX", 16, 0)))
    sticky_idle_s: float = field(default_factory=lambda: _number("WAC_STICKY_IDLE_S", 30.0, 0.0))
    # A direct child's round process is kept for the next direct child of the same code instead of
    # exiting (engine/rounds/warm.py), at most one per slot, each for at most warm_idle_s seconds.
    warm_tasks: bool = field(default_factory=warm_tasks_default)
    warm_idle_s: float = field(default_factory=lambda: _number("WAC_WARM_IDLE_S", 30.0, 0.0))
    # A slot applies a round's outcome and claims its next job (the queue's head, often the child
    # just dispatched or the parent just made runnable) in one commit, then runs it.
    chain_claims: bool = field(default_factory=chain_claims_default)


def is_failure_marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__wmill_error") is True


def child_specs(job: Job, module_dir: str, steps: list[DispatchStep],
                direct: dict[str, str] | None = None) -> list[ChildSpec]:
    """Turn the SDK's dispatched step dicts into children of ``job``.

    ``direct`` maps the keys of @task children the round proved callable directly to their
    task function (``module:name:line``); they carry it in their options."""
    children = []
    for step in steps:
        kind = step.get("dispatch_type", "inline")
        script = str(step.get("script") or step["name"])
        if kind == "inline":
            entry, executing, child_kind = job.entry, step["key"], "task"
        elif script.startswith(("./", "../")):
            entry = posixpath.normpath(posixpath.join(module_dir, script))
            executing, child_kind = None, "script"
        else:
            entry, executing, child_kind = WORKSPACE_ENTRY + script, None, kind
        options = TaskOptions.from_windmill(step)
        target = (direct or {}).get(step["key"]) if kind == "inline" else None
        if isinstance(target, str) and target:
            options = replace(options, direct=target)
        children.append(
            ChildSpec(
                key=step["key"], name=step["name"], entry=entry, args=dict(step.get("args") or {}),
                executing_key=executing, options=options,
                script_path=job.script_path if kind == "inline" else script, kind=child_kind,
            )
        )
    return children


def error_record(name: str, message: str, stack: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"name": name, "message": message}
    if stack:
        record["stack"] = stack
    return record


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
        self.parked = ParkedParents(self.config.sticky_max, self.config.sticky_idle_s)
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
                # a parent parked here needs only its children's new results (parked.since)
                claim = self.store.claim(self.worker_id, tags, self.config.lease_s, recent=self.parked.since)
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
            for job_id, (_token, proc, deadline) in live:
                if proc is not None and deadline is not None and now_mono > deadline:
                    self._kill_live(job_id, proc, "timeout")
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
            for job_id, (_token, proc, _deadline) in live:
                if proc is None:
                    continue
                if job_id in report.cancel_requested:
                    self._kill_live(job_id, proc, "cancelled")
                elif job_id in report.lost:
                    self._kill_live(job_id, proc, "lost")

    def _kill_live(self, job_id: str, proc: RoundProcess, because: str) -> None:
        """Kill ``proc`` if it still runs the round of ``job_id``. The heartbeat decides on a
        snapshot; meanwhile the round may have ended and its process been parked or kept warm
        (then a "lost" claim is only the finished round's, and the process is another job's now)."""
        with self._live_lock:
            entry = self._live.get(job_id)
            if entry is not None and entry[1] is proc:
                proc.kill(because)

    # ---- one round
    def _run_claim(self, claim: Claim) -> Claim | None:
        """Run one round of ``claim``; returns the slot's next claim when it was taken in the
        same commit as this round's outcome (:attr:`WorkerConfig.chain_claims`)."""
        job, token = claim.job, claim.token
        self.rounds_run += 1
        if job.entry.startswith(WORKSPACE_ENTRY):
            self._apply_error(token, self._not_deployed(job, job.entry[len(WORKSPACE_ENTRY):]), "")
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
            self._apply_error(token, error_record(type(exc).__name__, exc.message + hint), "")
            return None
        if job.entry not in files:
            self._apply_error(token, error_record(
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
                spec = self._round_spec(claim, bundle_dir, manifest)
                kept_warm = self.warm.take((job.bundle_hash, job.entry), spec) if spec.warm else None
                proc = kept_warm or self.zygotes.spawn(bundle_dir, job.script_path or job.name, spec)
        except (OSError, WacError) as exc:  # WacError: the bundle's environment could not be built
            with self._live_lock:
                self._live.pop(job.id, None)
            if isinstance(exc, WacError):
                hint = f"\nhint: {exc.hint}" if exc.hint else ""
                self._apply_error(token, error_record(type(exc).__name__, exc.message + hint), "")
            else:
                self._apply_error(token, error_record("WorkerError", f"could not start the round: {exc}"), "")
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
                if kept != "closed":
                    proc.kill("released")  # it would wait on its channel for nothing
                proc.close()
            self.parked.settle(job.id)  # a slot that claimed the job again meanwhile may go on
        return chained

    def _round_spec(self, claim: Claim, bundle_dir: Path, manifest: Manifest) -> RoundSpec:
        """What the round of ``claim`` is told (:class:`RoundSpec`)."""
        job, token = claim.job, claim.token
        # A @task child replays its parent's body up to the call: the claim carries the parent's
        # args and results for it. A direct child (job.options.direct) calls its task with its
        # own args; its round reads the parent's from the store only if it must replay after all.
        args = claim.parent_args if claim.parent_args is not None else job.args
        direct = job.options.direct if job.executing_key is not None and job.parent_id else None
        direct_children = self.config.direct_children and not self.config.real_wmill
        spec = RoundSpec(
            job_id=job.id, bundle_dir=str(bundle_dir), entry=job.entry, mod_dir=manifest.module_dir,
            args=args, checkpoint=claim.checkpoint(), store_url=self.store.url,
            token=[token.job_id, token.attempt, token.worker_id], workspace=self.config.workspace,
            cwd=os.getcwd(), env=self._job_env(job), script_path=job.script_path, root_id=job.root_id,
            parent_id=job.parent_id, lease_s=self.config.lease_s, slots=self.config.slots,
            fast_path=self.config.fast_path, real_wmill=self.config.real_wmill,
            base_url=approvals.base_url_from_env(), direct_children=direct_children,
            sticky=(self.config.sticky_parents and self.config.sticky_max > 0 and not self.config.real_wmill
                    and job.executing_key is None),
            direct=direct, warm=bool(direct and direct_children and self.config.warm_tasks),
        )
        if self._in_preview(job):  # a preview's client reads the repo's object files first
            spec.repo_root, spec.objects_workspace = self.config.repo_root, self.config.objects_workspace
        return spec

    def _in_preview(self, job: Job) -> bool:
        """A preview job, or a child of one (children read the repo's object files too)."""
        if self.config.repo_root is None and self.config.objects_workspace is None:
            return False  # nothing to read first: no need to know
        if job.preview or job.root_id == job.id:
            return job.preview
        try:
            return self.store.get_job(job.root_id).preview
        except WacError:
            return False

    def _job_env(self, job: Job) -> dict[str, str]:
        """The WM_* variables Windmill sets for a job, with their meaning here (docs/reference/client.md)."""
        if self.config.real_wmill:  # the real package would call a Windmill server with these
            return {"WAC_JOB_ID": job.id, "WAC_ROOT_JOB_ID": job.root_id, "WM_JOB_ID": ""}
        if self._user is None:
            from wac.engine.local_backend import _user

            self._user = _user() or "wac"
        user = self._user
        return {"WAC_JOB_ID": job.id, "WAC_ROOT_JOB_ID": job.root_id, "WM_JOB_ID": job.id,
               "WM_WORKSPACE": self.config.workspace, "WM_ROOT_FLOW_JOB_ID": job.root_id,
               "WM_FLOW_JOB_ID": job.parent_id or "", "WM_JOB_PATH": job.script_path,
               "WM_OBJECT_PATH": job.script_path, "WM_STATE_PATH": job.script_path,
               "WM_STATE_PATH_NEW": job.script_path, "WM_BASE_URL": _no_password(self.store.url),
               "WM_USERNAME": user, "WM_EMAIL": f"{user}@localhost", "WM_PERMISSIONED_AS": f"u/{user}",
               "WM_WORKER_GROUP": "default", "WM_FLOW_STEP_ID": job.parent_key or ""}

    def _mask(self, logs: str, revealed: list[str] | None = None) -> str:
        """Job logs never hold a secret variable's value: each is replaced by ``*****`` as Windmill does."""
        if not logs:
            return logs
        from wac.engine.objects import secret_values

        try:
            values = list(secret_values(self.store))
        except WacError:
            values = []
        values += [v for v in revealed or [] if isinstance(v, str) and len(v) >= 3]
        for value in sorted(values, key=len, reverse=True):
            logs = logs.replace(value, "*****")
        return logs

    def _converse(self, job: Job, token: Token, proc: RoundProcess, module_dir: str,
                  step_seq: int = 0) -> tuple[str, Claim | None]:
        """Apply what the round reports, and claim the slot's next job in the same commit.
        Returns what becomes of the process — ``"parked"`` (to keep as a sticky parent),
        ``"warm"`` (to keep for the next direct child), else ``"closed"`` — and that claim."""
        msg = proc.recv(None)
        if msg is None:
            self._round_died(job, token, proc)
            return "closed", None
        logs = self._mask(proc.logs(), msg.get("mask"))
        kept = "closed"
        with self.store.together():
            if msg.get("op") == "parked":  # a sticky parent: its dispatch, and it waits alive
                outcome = cast("Outcome", msg.get("outcome") or {})  # from the wire: _apply_outcome checks its type
                self.parked.expect(job.id, step_seq)  # settled by _run_claim once it is parked (or not)
                applied = self._apply_outcome(job, token, outcome, logs, module_dir, msg.get("direct"))
                if applied and outcome.get("type") == "dispatch" and not self._stop.is_set():
                    kept = "parked"
            elif msg.get("op") == "outcome":
                applied = self._apply_outcome(job, token, cast("Outcome", msg["outcome"]), logs, module_dir,
                                              msg.get("direct"))
                if msg.get("warm") and applied and self.config.warm_tasks:
                    kept = "warm"
            else:
                err = msg.get("error") or error_record("Error", "round failed")
                if isinstance(err, dict):  # an exception's message or stack may quote a secret too
                    err = {k: self._mask(v, msg.get("mask")) if isinstance(v, str) else v for k, v in err.items()}
                self._apply_error(token, err, logs)
            chained = self._chain_claim()
        if kept == "parked":
            proc.reset_log()  # the next round's log starts here
        elif msg.get("op") == "parked":
            proc.kill("released")
        return kept, chained

    def _chain_claim(self) -> Claim | None:
        """The slot's next claim, taken in the commit of the round's outcome (None: the slot
        looks for work as usual)."""
        if not self.config.chain_claims or self._stop.is_set():
            return None
        return self.store.claim(self.worker_id, self.config.tags, self.config.lease_s, recent=self.parked.since)

    def _round_died(self, job: Job, token: Token, proc: RoundProcess) -> None:
        logs = self._mask(proc.logs())
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
        self._apply_error(token, err, logs)

    def _apply_error(self, token: Token, error: dict[str, Any], logs: str) -> None:
        try:
            self.store.fail(token, error, logs=logs)
        except LostClaimError:
            pass

    def _apply_outcome(self, job: Job, token: Token, outcome: Outcome, logs: str, module_dir: str,
                       direct: dict[str, str] | None = None) -> bool:
        """One store transaction for the outcome (:mod:`wac.sdk.outcomes`, dispatched on its
        ``type``); False when the claim was lost or the job failed."""
        kind = outcome.get("type")
        store = self.store
        try:
            if kind not in OUTCOME_TYPES:
                store.fail(token, error_record("ProtocolError", f"unknown round outcome {kind!r}"), logs=logs)
                return False
            if outcome["type"] == "complete":
                store.complete(token, outcome.get("result"), logs=logs)
            elif outcome["type"] == "dispatch":
                steps = outcome.get("steps") or []
                marks = direct if self.config.direct_children and isinstance(direct, dict) else None
                children = [self._pin_deployed(c) for c in child_specs(job, module_dir, steps, marks)]
                store.dispatch(token, children, max_in_flight=outcome.get("max_in_flight"), logs=logs)
            elif outcome["type"] == "inline_checkpoint":
                value = outcome.get("result")
                store.checkpoint(token, outcome["key"], value, requeue=True,
                                 failed=is_failure_marker(value), started_at=timestamp(outcome.get("started_at")),
                                 logs=logs)
            elif outcome["type"] == "sleep":
                seconds = float(outcome.get("seconds") or 0)
                if self.config.skip_sleeps and job.preview:
                    seconds = 0.0
                store.sleep(token, outcome["key"], store.now() + seconds, logs=logs)
            else:  # approval
                key = outcome["key"]
                timeout = outcome.get("timeout")
                shown = {"form": outcome.get("form"), "description": outcome.get("description"), "skin": outcome.get("skin")}
                form = {k: v for k, v in shown.items() if v is not None}
                store.suspend(token, key, store.now() + float(timeout) if timeout else None,
                              "", form or None, logs=logs)
        except LostClaimError:
            return False
        return True

    def _not_deployed(self, job: Job, path: str) -> dict[str, Any]:
        """The error of a child whose workspace script or flow could not be pinned."""
        kind = None
        if job.parent_id is not None:
            kind = next((s.kind for s in self.store.get_steps(job.parent_id) if s.key == job.parent_key), None)
        get_item = getattr(self.store, "get_item", None)
        if get_item is not None and get_item("flow", path) is not None:
            return error_record("FlowNotSupportedError", f"{path} is a flow (pushed to workspace "
                                f"'{self.config.workspace}'): running flows on the embedded engine is not "
                                "supported yet")
        if kind == "flow":
            from wac.engine.deployed import resolve_child

            if resolve_child(self.store, path) is not None:
                return error_record("NotAFlowError", f'{path} is a script, not a flow: call it with '
                                    f'task_script("{path}") instead of task_flow("{path}")')
            return error_record("NotDeployedError", f"no flow {path} in workspace '{self.config.workspace}' "
                                "(the embedded engine runs scripts; flows run on a Windmill server)")
        return error_record(
            "NotDeployedError",
            f"{path} is not deployed in workspace '{self.config.workspace}'; running workspace scripts "
            "from task_script()/task_flow() needs a workspace (wac sync push)",
        )

    def _pin_deployed(self, child: ChildSpec) -> ChildSpec:
        """A ``task_script("f/a/b")`` child runs the head deployed now, pinned by its bundle (its
        environment is pinned when it starts: _pin_started)."""
        if not child.entry.startswith(WORKSPACE_ENTRY) or child.kind == "flow":
            return child  # a flow is never a deployed script: its round says so (_not_deployed)
        from wac.engine.deployed import resolve_child

        found = resolve_child(self.store, child.entry[len(WORKSPACE_ENTRY):])
        return child if found is None else replace(child, bundle_hash=found[0], entry=found[1])

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

    def _report(self, message: str) -> None:
        sys.stderr.write(message + "\n")



def _no_password(url: str) -> str:
    """A store URL as user code may see it: never with a PostgreSQL password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(":" + parts.password + "@", "@", 1)).geturl()
