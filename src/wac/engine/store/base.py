"""The engine's Store protocol and the records it deals in.

A store persists jobs, their step results, logs and code bundles. The whole contract (G1-G6)
is stated on :class:`Store` itself, one line per operation on what it guarantees.

Job states::

    queued ──claim──▶ running ──complete──▶ succeeded
      ▲  ▲              │ │ └──fail──▶ failed        (any non-terminal ──cancel──▶ cancelled)
      │  └──sleep/checkpoint(requeue)/fail(retry_at)/reap
      │                 │ └──suspend──▶ suspended ──resume / approval timeout──▶ queued
      └── last child ───┴──dispatch──▶ waiting
    blocked ──(a sibling finishes; sliding window of max_in_flight)──▶ queued
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wac.engine.store._sqlite_approvals import ApprovalInfo

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
    claimed_at: float | None = None  # the store's clock when the claim was made
    # The job's last allocated step seq when the claim was made: every step added later (by
    # this round, or the results of children it dispatches) has a greater seq.
    step_seq: int = 0
    # Not None when ``steps`` holds only the job's done steps whose seq is greater than this (the
    # claim's ``recent`` asked for them: a parked parent needs only its children's new results).
    steps_after: int | None = None

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
    """The engine's persistence: semantic operations on jobs, their steps, logs and code, not SQL.

    One protocol, two databases: :class:`~wac.engine.store.sqlite.SqliteStore` and
    :class:`~wac.engine.store.postgres.PostgresStore` share every rule of it
    (``StoreCore`` and its mixins) and differ only in a :class:`~wac.engine.store._dialect.Dialect`
    (connections, clock, claiming, waking). ``tests/engine/store`` runs one contract suite on
    both; ``tests/typing/conformance.py`` makes mypy check both against this class.

    Guarantees of every operation, on both databases:

    * **G1 One transaction.** Each mutating operation commits all of its effects or none; a crash
      at any instant loses nothing committed.
    * **G2 Fencing.** Every round outcome (``complete``, ``fail``, ``dispatch``, ``checkpoint``,
      ``sleep``, ``suspend``, ``release``) takes the claim :class:`Token`. If the job is not
      ``running`` under that token, nothing changes and :class:`~wac.errors.LostClaimError` is
      raised.
    * **G3 Exactly-once effect of results.** A step is keyed by ``(job_id, key)`` and written
      once; a parent's ``pending`` counter drops only when a child moves running → terminal under
      its own token, and the parent is re-queued by exactly the transaction that takes it from 1
      to 0. Every path that ends a child (complete, fail, cancel, reap) runs the same
      ``_finish_child``. Tasks run at least once; a committed step value is never recomputed.
    * **G4 Store clock.** Every deadline (lease, sleep, approval timeout, concurrency window,
      round timeout) is compared with :meth:`now`: the database's clock on PostgreSQL.
    * **G5 Wake-ups are hints.** Notifications are sent at commit; waiters also wake at
      :meth:`next_due` and after a bounded poll, so a lost notification costs one poll at most.
    * **G6 Isolation.** SQLite: one writer at a time. PostgreSQL: READ COMMITTED with row locks
      (an UPDATE re-checks its row after a lock wait). Nothing depends on SERIALIZABLE.

    Errors are :class:`~wac.errors.StoreError` subclasses (busy, gone, corrupt, disk full),
    :class:`~wac.errors.JobNotFoundError`, :class:`~wac.errors.LostClaimError` and
    :class:`~wac.errors.ConflictError`; never a driver's exception. A store may be used from
    several threads of one process; a forked child opens its own from :attr:`url`.
    The state machine is drawn in this module's docstring.
    """

    # ---- lifecycle
    @property
    def url(self) -> str:
        """The URL that opens this same store from another process (a round, a worker elsewhere)."""
        ...

    def migrate(self) -> None:
        """Create or upgrade the schema from the numbered migrations; idempotent, safe from many
        processes at once (PostgreSQL: under an advisory lock)."""

    def close(self) -> None:
        """Release this process's connections; the store is not used afterwards."""

    def end_thread(self) -> None:
        """Release what the calling thread holds of its own (SQLite: its connection); the store
        stays open (a thread of a shared round process whose round ended: engine/rounds/sharing.py)."""

    def now(self) -> float:
        """The store's clock (G4), seconds since the epoch: every deadline is compared with it."""
        ...

    # ---- bundles: code pinned by content hash
    def put_bundle(self, bundle_hash: str, files: dict[str, str]) -> None:
        """Keep a code bundle under its content hash; a no-op when it is already there."""

    def get_bundle(self, bundle_hash: str) -> dict[str, str]:
        """The files of a stored bundle (``relative path → text``); StoreError when unknown."""
        ...

    def set_bundle(self, token: Token, bundle_hash: str) -> None:
        """The claimed job runs the stored bundle ``bundle_hash`` from now on, its replay rounds
        and children too (its worker pinned its environment as it started, G2)."""

    # ---- deployed scripts: versions by content hash; a path's head is its newest live version
    def put_script(
        self, path: str, script_hash: str, doc: dict[str, JsonValue], created_by: str = "",
        deployment_message: str | None = None,
    ) -> tuple[bool, str | None]:
        """Make ``doc`` the head of ``path`` in one transaction: ``(created, parent_hash)``; no
        new version when the head already has this hash."""
        ...

    def get_script(self, path: str, script_hash: str | None = None) -> ScriptRecord | None:
        """The head of ``path`` (or its version ``script_hash``); None when there is none."""
        ...

    def list_scripts(self) -> list[ScriptRecord]:
        """The head of every path with a live version, by path."""
        ...

    def script_history(self, path: str) -> list[ScriptRecord]:
        """Every version of ``path``, newest first, archived ones too."""
        ...

    def archive_script(self, path: str) -> int:
        """Archive every version of ``path``; how many were live (0: nothing was deployed)."""
        ...

    # ---- workspace objects (variables, resources, resource types, state) and job progress
    def put_object(self, record: ObjectRecord) -> None:
        """Create or replace an object (one transaction); a secret's value arrives sealed."""

    def get_object(self, kind: str, path: str) -> ObjectRecord | None:
        """One object, None when there is none."""
        ...

    def list_objects(self, kind: str) -> list[ObjectRecord]:
        """Every object of ``kind``, sorted by path."""
        ...

    def delete_object(self, kind: str, path: str) -> bool:
        """Delete an object; False when there was none."""
        ...

    def set_progress(self, job_id: str, progress: int) -> None:
        """Record what ``wmill.set_progress()`` set for the job (0-100)."""

    def get_progress(self, job_id: str) -> int | None:
        """The job's last recorded progress; None when never set."""
        ...

    # ---- job lifecycle
    def submit(self, spec: JobSpec) -> str:
        """Insert a root job, queued, and wake its tag (G1, G5); a duplicate idempotency key
        returns the existing job's id."""
        ...

    def claim(self, worker_id: str, tags: frozenset[str], lease_s: float,
              recent: Callable[[str], int | None] | None = None) -> Claim | None:
        """Take the best runnable job (queued, due, tag matching, its concurrency slot free):
        ``running``, ``attempt + 1``, leased for ``lease_s`` on the store clock; with its steps
        and token. At most one live claim per job. None when nothing is runnable.

        ``recent(job_id)`` is asked about the job picked: a step seq (the ``Claim.step_seq`` of
        an earlier claim) when only its done steps added after it are needed (``Claim.steps_after``:
        a parked sticky parent's new results), else None for all of them."""
        ...

    def together(self) -> AbstractContextManager[None]:
        """This thread's operations inside commit as one transaction where the database allows
        (SQLite); elsewhere each commits alone, as outside the block. Either way each operation
        keeps G1-G6 and, if it raises, undoes only itself; if the block raises, what it wrote in
        one transaction is undone whole. Wake-ups (G5) are sent once, after the commit, and not
        for work the block itself claimed. Nested blocks join the outer one."""
        ...

    def heartbeat(self, tokens: list[Token], lease_s: float) -> HeartbeatReport:
        """Extend the leases of the claims still held; report the lost ones and the jobs whose
        cancellation was requested (the worker kills their rounds)."""
        ...

    def holds(self, token: Token) -> bool:
        """True while the claim is live: the job runs under ``token`` and its lease has not run
        out by the store clock (a round checks it before starting more user code)."""
        ...

    def complete(self, token: Token, result: JsonValue, logs: str = "") -> None:
        """The job succeeds with ``result`` (G1-G3, G5). A child's value goes into its parent's
        steps, the parent's counter drops (re-queued at zero), the next blocked sibling is
        promoted; the concurrency slot is freed; a ``cache_ttl`` result is cached."""

    def fail(
        self, token: Token, error: dict[str, JsonValue], logs: str = "", retry_at: float | None = None
    ) -> None:
        """Re-queue at ``retry_at`` while retries remain, else the job fails with ``error``
        (``{"name", "message", "stack"?}``); a child's final failure writes a failure marker into
        its parent and does to the counter what :meth:`complete` does (G1-G3)."""

    def dispatch(
        self, token: Token, children: list[ChildSpec], max_in_flight: int | None = None, logs: str = ""
    ) -> list[str]:
        """Insert the children (``max_in_flight`` runnable, the rest ``blocked`` in order; ones a
        fresh cache entry answers are completed in the same transaction); the parent is
        ``waiting`` on them. Their ids, in order (G1, G2, G5)."""
        ...

    def checkpoint(
        self, token: Token, key: str, value: JsonValue, requeue: bool, failed: bool = False,
        started_at: float | None = None, logs: str = "",
    ) -> None:
        """Write ``step()``'s value under ``key`` (once, G3); the job keeps its claim (the fast
        path) or, with ``requeue``, is queued again at once (G1, G2)."""

    def sleep(self, token: Token, key: str, until: float, logs: str = "") -> None:
        """Write the sleep's step and release the claim: the job is queued for ``until`` on the
        store clock (G1, G2, G4)."""

    def release(self, token: Token) -> None:
        """Give a claimed job back at once (its worker is stopping): queued again, as an expired
        lease would make it, without counting as a lost worker (G2)."""

    def suspend(
        self, token: Token, key: str, timeout_at: float | None, token_hash: str,
        form: dict[str, JsonValue] | None, logs: str = "",
    ) -> None:
        """The job waits on approval ``key`` (``suspended``; with ``timeout_at`` the reaper makes
        it runnable then, G4); ``form`` is kept for prompts and pages (G1, G2)."""

    def resume(
        self, job_id: str, key: str | None, secret_hash: str | None, approved: bool,
        value: JsonValue, approver: str | None,
    ) -> None:
        """Approve or reject the approval the job waits on (``key`` None: whichever it is), if it
        still waits and the secret (when given) allows it: the decision becomes the step and the
        job is queued (G1, G3). Otherwise ConflictError and no change; a value that does not fit
        the form is an ArgsError."""

    def cancel(self, job_id: str, reason: str) -> int:
        """Cancel the job's whole non-terminal subtree; running jobs get ``cancel_requested``; a
        cancelled child of a live parent ends like a failed one (G1, G3, G5). How many jobs."""
        ...

    # ---- approval secrets (hashes only) and settings
    def add_approval_tokens(
        self, token: Token, key: str, rows: list[tuple[str, str]], approver: str | None
    ) -> None:
        """Keep the hashes of freshly issued URL secrets of approval ``key`` of the claimed job
        (``rows``: ``(hash, action)``; the secrets themselves are never stored) (G2)."""

    def add_waiting_approval_tokens(self, job_id: str, key: str, rows: list[tuple[str, str]]) -> None:
        """Keep the hashes of URL secrets minted for the approval ``job_id`` waits on now
        (``wac job get``, the runs pages)."""

    def check_approval_secret(
        self, job_id: str, key: str, secret_hash: str, approver: str | None = None
    ) -> tuple[str, str | None]:
        """What a URL secret may do on approval ``key``: ``(action, bound approver)``;
        ConflictError when it was not issued for it."""
        ...

    def get_approval(self, job_id: str, key: str) -> ApprovalInfo | None:
        """Approval ``key`` of the job (its form, timeout, whether resolved); None when none."""
        ...

    def secret_key(self) -> bytes | None:
        """The workspace's own 32-byte key for sealing secrets, made once and kept in the database
        (PostgreSQL: workers on other machines read it there); None where secrets are sealed with
        the user's key file instead (the embedded store)."""
        ...

    def get_setting(self, name: str) -> str | None:
        """A workspace setting (e.g. ``base_url`` for resume URLs); None when unset."""
        ...

    def set_setting(self, name: str, value: str | None) -> None:
        """Set a workspace setting (None removes it)."""

    def reap(self) -> int:
        """Expired leases back to ``queued`` (``failed`` when attempts are spent), approvals
        timing out, round timeouts enforced; safe from every worker at once (G1, G3, G4). How
        many jobs were affected."""
        ...

    # ---- waking
    def next_due(self, tags: frozenset[str]) -> float | None:
        """The earliest store-clock moment a worker with these tags may have work (a due job, a
        freeing concurrency window, an approval or lease running out); None: nothing scheduled."""
        ...

    def wait_for_work(self, tags: frozenset[str], timeout: float) -> None:
        """Return when a job with these tags may be runnable (a hint, G5), at :meth:`next_due`
        at the latest, or after ``timeout`` seconds."""

    def change_token(self) -> Any:
        """What "nothing changed yet" looks like now; take it BEFORE reading the state that
        :meth:`wait_for_change` then waits on, so no commit in between is missed."""
        ...

    def wait_for_change(self, job_id: str, timeout: float, since: Any = None) -> None:
        """Return after a commit that may have changed ``job_id`` (a hint, G5; one made after
        ``since`` was taken ends the wait at once), or after ``timeout`` seconds."""

    def wake(self) -> None:
        """End every wait of this process at once (a stopping worker)."""

    # ---- reads
    def get_job(self, job_id: str) -> Job:
        """The job as committed now; JobNotFoundError when there is none."""
        ...

    def list_jobs(
        self, *, root_only: bool = True, status: str | None = None, limit: int = 50
    ) -> list[Job]:
        """Newest first, at most ``limit``; only runs (no child jobs) with ``root_only``."""
        ...

    def children(self, job_id: str) -> list[Job]:
        """The child jobs of ``job_id``, oldest first."""
        ...

    def get_steps(self, job_id: str) -> list[Step]:
        """The job's checkpoint entries in allocation order (done or not)."""
        ...

    def append_log(self, job_id: str, text: str) -> None:
        """Append ``text`` to the job's log (one transaction)."""

    def read_logs(self, job_id: str, after_seq: int = 0) -> list[LogLine]:
        """The job's log lines after ``after_seq``, in order."""
        ...

    def timeline(self, job_id: str) -> list[TimelineEntry]:
        """The job's steps in order, each with the state of the child computing it."""
        ...

    def wait_for_result(self, job_id: str, timeout: float) -> Job:
        """Block until the job is terminal or ``timeout`` passes (notification first, a poll as
        fallback, G5); its latest state either way."""
        ...

    def prune(self, before: float) -> int:
        """Delete finished workflow trees whose root finished before ``before`` (and expired
        cache entries; bundles are kept); how many roots."""
        ...
