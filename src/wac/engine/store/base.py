"""The engine's Store protocol (``shared/spec/store-protocol.md``) and the records it deals in.

A store persists jobs, their step results, logs and code bundles. Every mutating operation is
one transaction (G1); every round outcome is fenced by the claim token (G2); a step result is
written once per ``(job_id, key)`` and a parent is re-queued by exactly the transaction that
takes its ``pending`` counter from 1 to 0 (G3); all deadlines use the store's clock (G4).

Job states::

    queued ──claim──▶ running ──complete──▶ succeeded
      ▲  ▲              │ │ └──fail──▶ failed        (any non-terminal ──cancel──▶ cancelled)
      │  └──sleep/checkpoint(requeue)/fail(retry_at)/reap
      │                 │ └──suspend──▶ suspended ──resume / approval timeout──▶ queued
      └── last child ───┴──dispatch──▶ waiting
    blocked ──(a sibling finishes; sliding window of max_in_flight)──▶ queued
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

JsonValue = Any

TERMINAL = frozenset({"succeeded", "failed", "cancelled"})
STATES = frozenset(
    {"queued", "blocked", "running", "waiting", "suspended", "succeeded", "failed", "cancelled"}
)


@dataclass(frozen=True)
class TaskOptions:
    """Options a job runs under; for children they come from the dispatched step dict."""

    timeout: float | None = None  # seconds; the worker kills the round and fails the job
    tag: str | None = None  # only workers started with this tag take the job
    priority: int = 0  # higher first
    cache_ttl: int | None = None  # seconds a (bundle, entry, executing task, args) result is reused
    concurrency_limit: int | None = None
    concurrency_key: str | None = None
    concurrency_time_window_s: int | None = None
    # Engine-internal, set by the dispatch of a @task child (issue 17): "module:name:line" of the
    # module-level task function the child may call directly with its recorded args instead of
    # replaying its parent's body. Never read from a .script.yaml or a step dict.
    direct: str | None = None

    def to_json(self) -> dict[str, JsonValue]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != 0}

    @classmethod
    def from_json(cls, data: dict[str, JsonValue] | None) -> TaskOptions:
        data = data or {}
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    @classmethod
    def from_windmill(cls, data: Mapping[str, JsonValue]) -> TaskOptions:
        """Options under Windmill's names (a dispatched step, a ``.script.yaml``); others ignored."""
        return cls.from_json({ours: data[theirs] for theirs, ours in WINDMILL_OPTION_NAMES.items()
                              if data.get(theirs) is not None})


# Windmill's option names (dispatched steps, .script.yaml) -> TaskOptions fields.
WINDMILL_OPTION_NAMES = {
    "timeout": "timeout", "tag": "tag", "priority": "priority", "cache_ttl": "cache_ttl",
    "concurrent_limit": "concurrency_limit", "concurrency_key": "concurrency_key",
    "concurrency_time_window_s": "concurrency_time_window_s",
}


@dataclass(frozen=True)
class JobSpec:
    """What ``submit`` needs to create a root job."""

    bundle_hash: str  # a bundle already stored with put_bundle
    entry: str  # path of the file to run, relative to the bundle root ("main.py", "x__mod/y.py")
    args: dict[str, JsonValue]
    script_path: str  # what users call it: "f/demo/my_workflow" or the local file path
    options: TaskOptions = TaskOptions()
    idempotency_key: str | None = None
    preview: bool = False  # True for `wac script preview` runs


@dataclass(frozen=True)
class ChildSpec:
    """One child a dispatch creates, built from one step dict of the SDK's dispatch outcome."""

    key: str  # the step key in the parent
    name: str  # task / script name, for humans
    entry: str  # file in the parent's bundle the child runs
    args: dict[str, JsonValue]
    executing_key: str | None  # set for @task children (child mode); None runs the entry's main
    options: TaskOptions = TaskOptions()
    script_path: str | None = None  # display path; defaults to the parent's
    kind: str | None = None  # step kind: None means "task" with executing_key, else "script"
    bundle_hash: str | None = None  # code the child runs; defaults to the parent's bundle


@dataclass(frozen=True)
class Token:
    """A claim token. Every round outcome presents it (G2)."""

    job_id: str
    attempt: int
    worker_id: str


@dataclass(frozen=True)
class Job:
    id: str
    root_id: str
    parent_id: str | None
    parent_key: str | None
    status: str
    bundle_hash: str
    entry: str
    script_path: str
    name: str  # the task or script name shown in trees
    args: dict[str, JsonValue]
    executing_key: str | None
    options: TaskOptions
    attempt: int
    rounds: int  # how many rounds have been claimed (replay count + 1)
    pending: int  # children still outstanding while waiting
    created_at: float
    started_at: float | None
    finished_at: float | None
    scheduled_at: float
    result: JsonValue = None
    error: dict[str, JsonValue] | None = None  # {"name", "message", "stack"?}
    worker_id: str | None = None
    cancel_requested: bool = False
    preview: bool = False
    suspended_key: str | None = None  # the approval key it waits on, when suspended


@dataclass(frozen=True)
class Step:
    """One keyed entry of a job's checkpoint, in allocation order (``seq``)."""

    key: str
    kind: str  # "task" | "step" | "sleep" | "approval" | "script" | "flow"
    seq: int
    done: bool
    value: JsonValue = None  # the stored value, or a failure marker (``__wmill_error``)
    child_job_id: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    failed: bool = False


@dataclass(frozen=True)
class Claim:
    job: Job
    token: Token
    # For a @task child: its parent's steps, and the parent's args (child mode replays the
    # parent's body with them). Empty/None for a direct child (``job.options.direct``): it calls
    # its task function with its own args and needs neither.
    steps: list[Step] = field(default_factory=list)
    parent_args: dict[str, JsonValue] | None = None

    def checkpoint(self) -> dict[str, JsonValue]:
        """The checkpoint a round gets: done steps, their order, and child mode's key."""
        cp: dict[str, JsonValue] = {
            "completed_steps": {s.key: s.value for s in self.steps if s.done},
            "_key_order": [s.key for s in self.steps],
        }
        if self.job.executing_key is not None:
            cp["_executing_key"] = self.job.executing_key
        return cp


@dataclass(frozen=True)
class HeartbeatReport:
    lost: frozenset[str]  # job ids whose claim is no longer held
    cancel_requested: frozenset[str]


@dataclass(frozen=True)
class LogLine:
    job_id: str
    seq: int
    ts: float
    text: str


@dataclass(frozen=True)
class TimelineEntry:
    """One task / step / sleep / approval of a job, for ``wac job timeline`` and the live tree."""

    key: str
    kind: str
    status: str  # "running" | "done" | "failed" | "waiting" | "cancelled" ...
    started_at: float | None
    finished_at: float | None
    child_job_id: str | None = None


@dataclass(frozen=True)
class ScriptRecord:
    """One deployed version of a script (``doc`` is the backend's JSON form of it)."""

    path: str
    hash: str
    parent_hash: str | None
    doc: dict[str, JsonValue]
    created_at: float
    created_by: str = ""
    deployment_message: str | None = None
    archived: bool = False


OBJECT_KINDS = frozenset({"variable", "resource", "resource_type", "state"})


@dataclass(frozen=True)
class ObjectRecord:
    """A workspace object the wmill client reads: a variable, resource, resource type or state.

    ``value`` is JSON text (for a secret variable: ciphertext from :mod:`wac.engine.secrets`);
    ``source`` the file a sync push read it from (encrypted too for a secret), or None.
    """

    kind: str  # one of OBJECT_KINDS
    path: str  # "f/a/b" (a resource type: its name; state: the script path)
    value: str
    is_secret: bool = False
    resource_type: str | None = None
    description: str = ""
    source: str | None = None
    updated_at: float = 0.0


class Store(Protocol):
    """Semantic persistence operations. Raises ``wac.errors.LostClaimError`` when fenced out."""

    # ---- lifecycle
    @property
    def url(self) -> str: ...  # opens the same store from another process
    def migrate(self) -> None: ...
    def close(self) -> None: ...
    def now(self) -> float: ...  # the store's clock (G4), seconds since the epoch

    # ---- bundles: code pinned by content hash
    def put_bundle(self, bundle_hash: str, files: dict[str, str]) -> None: ...
    def get_bundle(self, bundle_hash: str) -> dict[str, str]: ...

    # ---- deployed scripts: versions by content hash; a path's head is its newest live version
    def put_script(
        self, path: str, script_hash: str, doc: dict[str, JsonValue], created_by: str = "",
        deployment_message: str | None = None,
    ) -> tuple[bool, str | None]: ...  # (created, parent_hash)
    def get_script(self, path: str, script_hash: str | None = None) -> ScriptRecord | None: ...
    def list_scripts(self) -> list[ScriptRecord]: ...
    def script_history(self, path: str) -> list[ScriptRecord]: ...  # newest first
    def archive_script(self, path: str) -> int: ...

    # ---- workspace objects (variables, resources, resource types, state) and job progress
    def put_object(self, record: ObjectRecord) -> None: ...
    def get_object(self, kind: str, path: str) -> ObjectRecord | None: ...
    def list_objects(self, kind: str) -> list[ObjectRecord]: ...  # sorted by path
    def delete_object(self, kind: str, path: str) -> bool: ...
    def set_progress(self, job_id: str, progress: int) -> None: ...
    def get_progress(self, job_id: str) -> int | None: ...

    # ---- job lifecycle
    def submit(self, spec: JobSpec) -> str: ...
    def claim(self, worker_id: str, tags: frozenset[str], lease_s: float) -> Claim | None: ...
    def heartbeat(self, tokens: list[Token], lease_s: float) -> HeartbeatReport: ...
    def holds(self, token: Token) -> bool: ...  # the claim is live and its lease not run out
    def complete(self, token: Token, result: JsonValue, logs: str = "") -> None: ...
    def fail(
        self, token: Token, error: dict[str, JsonValue], logs: str = "", retry_at: float | None = None
    ) -> None: ...
    def dispatch(
        self, token: Token, children: list[ChildSpec], max_in_flight: int | None = None, logs: str = ""
    ) -> list[str]: ...
    def checkpoint(
        self, token: Token, key: str, value: JsonValue, requeue: bool, failed: bool = False,
        started_at: float | None = None, logs: str = "",
    ) -> None: ...
    def sleep(self, token: Token, key: str, until: float, logs: str = "") -> None: ...
    def release(self, token: Token) -> None: ...  # a stopping worker gives the job back at once
    def suspend(
        self, token: Token, key: str, timeout_at: float | None, token_hash: str,
        form: dict[str, JsonValue] | None, logs: str = "",
    ) -> None: ...
    def resume(
        self, job_id: str, key: str | None, secret_hash: str | None, approved: bool,
        value: JsonValue, approver: str | None,
    ) -> None: ...
    def cancel(self, job_id: str, reason: str) -> int: ...

    # ---- approval secrets (hashes only) and settings
    def add_approval_tokens(
        self, token: Token, key: str, rows: list[tuple[str, str]], approver: str | None
    ) -> None: ...
    def add_waiting_approval_tokens(self, job_id: str, key: str, rows: list[tuple[str, str]]) -> None: ...
    def check_approval_secret(
        self, job_id: str, key: str, secret_hash: str, approver: str | None = None
    ) -> tuple[str, str | None]: ...
    def get_approval(self, job_id: str, key: str) -> Any: ...
    def get_setting(self, name: str) -> str | None: ...
    def set_setting(self, name: str, value: str | None) -> None: ...
    def reap(self) -> int: ...

    # ---- waking
    def next_due(self, tags: frozenset[str]) -> float | None: ...
    def wait_for_work(self, tags: frozenset[str], timeout: float) -> None: ...
    def change_token(self) -> Any: ...  # take before reading what wait_for_change(since=) waits on
    def wait_for_change(self, job_id: str, timeout: float, since: Any = None) -> None: ...
    def wake(self) -> None: ...  # ends this process's waits at once (a stopping worker)

    # ---- reads
    def get_job(self, job_id: str) -> Job: ...
    def list_jobs(
        self, *, root_only: bool = True, status: str | None = None, limit: int = 50
    ) -> list[Job]: ...
    def children(self, job_id: str) -> list[Job]: ...
    def get_steps(self, job_id: str) -> list[Step]: ...
    def append_log(self, job_id: str, text: str) -> None: ...
    def read_logs(self, job_id: str, after_seq: int = 0) -> list[LogLine]: ...
    def timeline(self, job_id: str) -> list[TimelineEntry]: ...
    def wait_for_result(self, job_id: str, timeout: float) -> Job: ...
    def prune(self, before: float) -> int: ...
