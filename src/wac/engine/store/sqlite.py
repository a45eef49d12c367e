"""The embedded SQLite implementation of the engine's :class:`~wac.engine.store.base.Store`.

Every public mutating method runs one ``BEGIN IMMEDIATE`` transaction (G1) that calls private
``_x_txn(conn, …)`` helpers, so operations compose. Every path that ends a child — complete,
fail, cancel, reap — goes through the one :meth:`SqliteStore._finish_child` (the Windmill
PR #11119 lesson); that and the other ways jobs end live in :mod:`._sqlite_ending`, reads,
waking and maintenance in :mod:`._sqlite_reads`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from wac.engine.store._sqlite_approvals import SqliteApprovals
from wac.engine.store._sqlite_conn import ConnectionPool, waker_for
from wac.engine.store._sqlite_ending import MAX_LOST, RELEASE, Row, SqliteEnding
from wac.engine.store._sqlite_items import SqliteItems
from wac.engine.store._sqlite_objects import SqliteObjects
from wac.engine.store._sqlite_reads import SLOT_FREE, tag_filter
from wac.engine.store._sqlite_rows import (
    JOB_COLUMNS,
    STEP_COLUMNS,
    cache_key,
    dumps,
    loads,
    next_id,
    row_to_job,
    row_to_step,
)
from wac.engine.store._sqlite_runs import SqliteRuns
from wac.engine.store._sqlite_scripts import SqliteScripts
from wac.engine.store.base import (
    ChildSpec,
    Claim,
    HeartbeatReport,
    JobSpec,
    JsonValue,
    TaskOptions,
    Token,
)
from wac.errors import ConflictError, JobNotFoundError, StoreError

__all__ = ["MAX_LOST", "SqliteStore", "StoreCore"]

#: The database clock in seconds since the epoch, as SQL (the PostgreSQL dialect translates it).
NOW_SQL = "(julianday('now') - 2440587.5) * 86400.0"


class StoreCore(SqliteEnding, SqliteScripts, SqliteObjects, SqliteApprovals, SqliteRuns, SqliteItems):
    """The store's semantics, written once over a :class:`~._dialect.Dialect` (``self._pool``).

    The state machine, fencing (G2), the one ``_finish_child`` path, caching, concurrency slots
    and approvals live here and in the mixins; SQL is written in the subset SQLite and
    PostgreSQL share, and a dialect runs it (connections, transactions, the clock, wake-ups).
    :class:`SqliteStore` and :class:`~.postgres.PostgresStore` only choose the dialect.
    """

    path: str
    _clock: Callable[[], float] | None

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """The URL that opens this store again (``open_store(url)``), e.g. from a round process."""
        return self._pool.url

    def migrate(self) -> None:
        self._pool.migrate()

    def close(self) -> None:
        self._pool.close()

    def end_thread(self) -> None:
        self._pool.end_thread()

    def now(self) -> float:
        """The store clock (G4): the database's clock in seconds since the epoch.

        Every deadline (leases, sleeps, timeouts, approvals) is written and compared in this one
        clock, read through the store's connection, never a process's own ``time.time()``: a
        process whose Python clock is off cannot park a sleep or fire a lease early.
        """
        if self._clock is not None:
            return self._clock()
        return self._pool.now()

    def _write(self, fn: Callable[[sqlite3.Connection], Any], *, work: bool) -> Any:
        out = self._pool.write(fn, work=work)
        pending: list[bool] | None = getattr(self._pool._local, "pending", None)
        if pending is not None:  # inside together(): wake others once, after the commit
            pending.append(work)
        else:
            self._waker.notify(work)
        return out

    @contextlib.contextmanager
    def together(self) -> Iterator[None]:
        """This thread's writes inside commit as one transaction where the dialect can (else
        each alone, as outside). A worker applies a round's outcome and claims its next job in
        one: a sequential task costs two commits, not four, and no other slot is woken for a job
        this one has already taken (the others are woken only if something else is queued)."""
        local = self._pool._local
        if getattr(local, "pending", None) is not None:
            yield
            return
        with self._pool.batch() as batching:
            if not batching:
                yield
                return
            local.pending, local.claimed = [], False
            try:
                yield
            finally:
                pending, local.pending = local.pending, None
        if not pending:
            return
        work = any(pending)
        if work and local.claimed:  # the work it made may be the job it claimed: anything else?
            work = self._pool.peek(lambda c: c.execute(
                "SELECT 1 FROM jobs WHERE status = 'queued' LIMIT 1").fetchone()) is not None
        self._waker.notify(work)

    # ------------------------------------------------------------------ submit / claim
    def submit(self, spec: JobSpec) -> str:
        args = dumps(spec.args, "job arguments")
        name = spec.script_path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".py")

        def txn(conn: sqlite3.Connection) -> str:
            if spec.idempotency_key is not None:
                row = conn.execute(
                    "SELECT id FROM jobs WHERE idempotency_key = ?", (spec.idempotency_key,)
                ).fetchone()
                if row is not None:
                    return str(row["id"])
            if conn.execute("SELECT 1 FROM bundles WHERE hash = ?", (spec.bundle_hash,)).fetchone() is None:
                raise StoreError(
                    f"no code bundle {spec.bundle_hash[:12]} in the store",
                    hint="store the code with put_bundle() before submitting a job",
                )
            now = self.now()
            (job_id,) = next_id(conn, now)
            self._insert_job_txn(
                conn, job_id, job_id, None, None, "queued", spec.bundle_hash, spec.entry,
                spec.script_path, name, args, None, spec.options, now, spec.preview,
                spec.idempotency_key,
            )
            return job_id

        return str(self._write(txn, work=True))

    def _insert_job_txn(
        self, conn: sqlite3.Connection, job_id: str, root_id: str, parent_id: str | None,
        parent_key: str | None, status: str, bundle_hash: str, entry: str, script_path: str,
        name: str, args_json: str, executing_key: str | None, options: TaskOptions, now: float,
        preview: bool = False, idempotency_key: str | None = None, result_json: str | None = None,
        ckey: str | None = None,
    ) -> None:
        conn.execute(_INSERT_JOB, _job_row(
            job_id, root_id, parent_id, parent_key, status, bundle_hash, entry, script_path, name,
            args_json, executing_key, options, now, preview, idempotency_key, result_json, ckey,
        ))
        if parent_id is None:  # who started the run, for the approval page (server)
            conn.execute("UPDATE jobs SET created_by = ? WHERE id = ?", (_submitter(), job_id))

    def claim(self, worker_id: str, tags: frozenset[str], lease_s: float,
              recent: Callable[[str], int | None] | None = None) -> Claim | None:
        where, tag_params = tag_filter(tags)
        sql = (
            "SELECT j.id, j.cancel_requested FROM jobs j WHERE j.status = 'queued' AND j.scheduled_at <= :now"
            f"{where} AND {SLOT_FREE} ORDER BY j.priority DESC, j.scheduled_at, j.seq LIMIT 1"
        )
        # Look without the write lock first, so idle workers never queue up for it (inside
        # together() the lock is held already: the transaction below looks; a slot whose chained
        # claim finds nothing claims again before it waits, so it needs no wake-up baseline).
        if getattr(self._pool._local, "pending", None) is None:
            self._remember_baseline()
            params = {"now": self.now(), **tag_params}
            if self._pool.peek(lambda c: c.execute(sql, params).fetchone()) is None:
                return None

        cancelled = []

        since: list[int | None] = [None]
        claimed_at = [0.0]

        def txn(conn: sqlite3.Connection) -> tuple[Row, list[Row] | None] | None:
            now = claimed_at[0] = self.now()
            since[0] = None
            while True:
                found = conn.execute(sql + self._pool.skip_locked, {"now": now, **tag_params}).fetchone()
                if found is None:
                    return None
                # A job whose cancel was asked while it ran and that came back to the queue (its
                # worker stopped, its round requeued itself before the heartbeat saw the cancel)
                # ends here: a cancelled job never starts user code again.
                if not found["cancel_requested"]:
                    break
                asked = conn.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (found["id"],)).fetchone()
                self._cancel_now_txn(conn, asked, asked["cancel_reason"] or "cancelled", now, finish=True)
                cancelled.append(found["id"])
            row = conn.execute(
                "UPDATE jobs SET status = 'running', attempt = attempt + 1, rounds = rounds + 1,"
                " worker_id = ?, lease_until = ?, started_at = coalesce(started_at, ?),"
                " round_deadline = ? + json_extract(options, '$.timeout')"
                f" WHERE id = ? RETURNING {JOB_COLUMNS}, step_seq",
                (worker_id, now + lease_s, now, now + lease_s, found["id"]),
            ).fetchone()
            if row["conc_key"] is not None:
                conn.execute(
                    "INSERT INTO concurrency_slots (job_id, key, started_at, window)"
                    " VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING",
                    (row["id"], row["conc_key"], now, row["conc_window"]),
                )
            if row["executing_key"] is not None and row["parent_id"]:
                return row, None  # a @task child: its parent's steps are read after commit
            since[0] = recent(row["id"]) if recent is not None else None
            if since[0] is not None:  # only steps added since then (a parked parent's new results)
                steps = conn.execute(
                    f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? AND done = 1 AND seq > ? ORDER BY seq",
                    (row["id"], since[0]),
                ).fetchall()
                return row, steps
            steps = conn.execute(
                f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY seq", (row["id"],)
            ).fetchall()
            return row, steps

        got = self._write(txn, work=False)
        if got is not None and getattr(self._pool._local, "pending", None) is not None:
            self._pool._local.claimed = True
        if cancelled:
            self._waker.notify(work=True)  # their parents may be runnable now
        if got is None:
            return None
        row, steps = got
        parent_args = None
        job = row_to_job(row)
        if steps is None and job.options.direct:
            steps = []  # a direct child calls its task with its own args: no parent replay
        if steps is None:
            # A @task child replays its parent's body with the parent's args and steps. All it
            # needs was committed before the dispatch and done step rows never change, so they
            # are read after the claim commits, keeping the write lock short.
            def read(c: sqlite3.Connection) -> tuple[Any, list[Row]]:
                args = c.execute("SELECT args FROM jobs WHERE id = ?", (row["parent_id"],)).fetchone()
                rows = c.execute(
                    f"SELECT {STEP_COLUMNS} FROM steps WHERE job_id = ? ORDER BY seq",
                    (row["parent_id"],),
                ).fetchall()
                return args, rows

            args_row, steps = self._pool.read(read)
            parent_args = loads(args_row["args"]) if args_row else None
        token = Token(job.id, row["attempt"], worker_id)
        return Claim(job, token, [row_to_step(s) for s in steps], parent_args, claimed_at=claimed_at[0],
                     step_seq=int(row["step_seq"]), steps_after=since[0])

    def heartbeat(self, tokens: list[Token], lease_s: float) -> HeartbeatReport:
        if not tokens:
            return HeartbeatReport(frozenset(), frozenset())

        def txn(conn: sqlite3.Connection) -> HeartbeatReport:
            until = self.now() + lease_s
            lost, cancel = set(), set()
            for t in tokens:
                row = conn.execute(
                    "UPDATE jobs SET lease_until = ? WHERE id = ? AND status = 'running'"
                    " AND attempt = ? AND worker_id = ? RETURNING cancel_requested",
                    (until, t.job_id, t.attempt, t.worker_id),
                ).fetchone()
                if row is None:
                    lost.add(t.job_id)
                elif row["cancel_requested"]:
                    cancel.add(t.job_id)
            return HeartbeatReport(frozenset(lost), frozenset(cancel))

        report: HeartbeatReport = self._pool.write(txn, work=False)
        return report

    def holds(self, token: Token) -> bool:
        """True while ``token``'s claim is live: the job runs under it and its lease has not run
        out by the store clock (a round checks this to stop once its claim is gone)."""

        def read(conn: sqlite3.Connection) -> Any:
            return conn.execute(
                f"SELECT lease_until >= ({NOW_SQL}) AS live FROM jobs WHERE id = ? AND status = 'running'"
                " AND attempt = ? AND worker_id = ?",
                (token.job_id, token.attempt, token.worker_id),
            ).fetchone()

        row = self._pool.read(read)
        return bool(row is not None and row["live"])

    # ------------------------------------------------------------------ round outcomes
    def dispatch(
        self, token: Token, children: list[ChildSpec], max_in_flight: int | None = None, logs: str = ""
    ) -> list[str]:
        keys = [c.key for c in children]
        if len(set(keys)) != len(keys):
            raise StoreError(f"a dispatch repeats a step key: {sorted(keys)}")
        encoded = [dumps(c.args, f"arguments of {c.key!r}") for c in children]
        window = max_in_flight if max_in_flight and max_in_flight > 0 else None

        def txn(conn: sqlite3.Connection) -> list[str]:
            now = self.now()
            parent = self._fence(conn, token)
            ids = next_id(conn, now, len(children))
            last_seq = conn.execute(
                "UPDATE jobs SET step_seq = step_seq + ? WHERE id = ? RETURNING step_seq",
                (len(children), token.job_id),
            ).fetchone()["step_seq"]
            seq0 = last_seq - len(children)
            # Keys that already have a row (a round replayed past a dispatch that committed): one
            # look for all of them, then every new step and job row in one batch (executemany:
            # one pipelined round trip on PostgreSQL instead of two per child).
            existing: dict[str, Any] = {}
            for at in range(0, len(keys), 500):
                part = keys[at:at + 500]
                for row in conn.execute(
                    f"SELECT key, done, child_job_id FROM steps WHERE job_id = ? AND key IN ({','.join('?' * len(part))})",
                    (token.job_id, *part),
                ):
                    existing[row["key"]] = row
            out: list[str] = []
            step_rows: list[tuple[Any, ...]] = []
            job_rows: list[tuple[Any, ...]] = []
            pending = in_flight = 0
            for i, (child, args_json) in enumerate(zip(children, encoded, strict=True)):
                prev = existing.get(child.key)
                if prev is not None:
                    # Done means nothing to run; a live child still owns the key and will finish
                    # it, so it is waited for but not created again.
                    pending += 0 if prev["done"] else 1
                    out.append(prev["child_job_id"] or "")
                    continue
                cid = ids[i]
                opts = _inherit(child.options, parent)
                bundle = child.bundle_hash or parent["bundle_hash"]
                path = child.script_path or parent["script_path"]
                kind = child.kind or ("task" if child.executing_key is not None else "script")
                cached: str | None = None
                ckey: str | None = None
                if opts.cache_ttl:
                    ckey = cache_key(bundle, child.entry, child.name, child.args)
                    hit = conn.execute(
                        "SELECT result FROM cache WHERE key = ? AND expires_at > ?", (ckey, now)
                    ).fetchone()
                    cached = None if hit is None else hit["result"]
                step_rows.append((token.job_id, child.key, seq0 + i + 1, kind, int(cached is not None),
                                  cached, cid, now, None if cached is None else now))
                if cached is not None:
                    status = "succeeded"
                elif window is None or in_flight < window:
                    status, in_flight, pending = "queued", in_flight + 1, pending + 1
                else:
                    status, pending = "blocked", pending + 1
                job_rows.append(_job_row(
                    cid, parent["root_id"], token.job_id, child.key, status, bundle, child.entry, path,
                    child.name, args_json, child.executing_key, opts, now, result_json=cached, ckey=ckey,
                ))
                out.append(cid)
            if step_rows:
                conn.executemany(
                    "INSERT INTO steps (job_id, key, seq, kind, done, value, child_job_id,"
                    " started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?)"
                    " ON CONFLICT (job_id, key) DO NOTHING", step_rows,
                )
                conn.executemany(_INSERT_JOB, job_rows)
            status = "waiting" if pending else "queued"
            conn.execute(
                f"UPDATE jobs SET status = ?, pending = ?, scheduled_at = ?, {RELEASE},"
                " lost_count = 0 WHERE id = ?",
                (status, pending, now, token.job_id),
            )
            self._log_txn(conn, token.job_id, logs, now)
            return out

        ids: list[str] = self._write(txn, work=True)
        return ids

    def checkpoint(
        self, token: Token, key: str, value: JsonValue, requeue: bool, failed: bool = False,
        started_at: float | None = None, logs: str = "",
    ) -> None:
        value_json = dumps(value, f"value of step {key!r}")

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            seq = self._fence_seq(conn, token)
            conn.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, failed, value, started_at,"
                " finished_at) VALUES (?, ?, ?, 'step', 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (token.job_id, key, seq, int(failed), value_json,
                 now if started_at is None else started_at, now),
            )
            if requeue:
                conn.execute(
                    f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {RELEASE},"
                    " lost_count = 0 WHERE id = ?",
                    (now, token.job_id),
                )
            if logs:
                self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=requeue)

    def sleep(self, token: Token, key: str, until: float, logs: str = "") -> None:
        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            seq = self._fence_seq(conn, token)
            conn.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, started_at, finished_at)"
                " VALUES (?, ?, ?, 'sleep', 1, ?, ?) ON CONFLICT DO NOTHING",
                (token.job_id, key, seq, now, until),
            )
            conn.execute(
                f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {RELEASE}, lost_count = 0"
                " WHERE id = ?",
                (until, token.job_id),
            )
            self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=True)

    def release(self, token: Token) -> None:
        """Give a claimed job back at once (its worker is stopping): queued again, as an expired
        lease would make it, without counting as a lost worker."""

        def txn(conn: sqlite3.Connection) -> None:
            row = self._fence(conn, token)
            if row["cancel_requested"]:  # its cancel was asked while it ran: it ends now, not queued
                self._cancel_now_txn(conn, row, row["cancel_reason"] or "cancelled", self.now(), finish=True)
                return
            conn.execute(
                f"UPDATE jobs SET status = 'queued', scheduled_at = ?, {RELEASE} WHERE id = ?",
                (self.now(), token.job_id),
            )

        self._write(txn, work=True)

    def suspend(
        self, token: Token, key: str, timeout_at: float | None, token_hash: str,
        form: dict[str, JsonValue] | None, logs: str = "",
    ) -> None:
        form_json = None if form is None else dumps(form, "approval form")

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            seq = self._fence_seq(conn, token)
            conn.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, started_at)"
                " VALUES (?, ?, ?, 'approval', 0, ?) ON CONFLICT DO NOTHING",
                (token.job_id, key, seq, now),
            )
            conn.execute(
                "INSERT INTO approvals (job_id, key, token_hash, timeout_at, form, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (job_id, key) DO UPDATE SET"
                " token_hash = excluded.token_hash, timeout_at = excluded.timeout_at,"
                " form = excluded.form, resolved_at = NULL",
                (token.job_id, key, token_hash, timeout_at, form_json, now),
            )
            conn.execute(
                f"UPDATE jobs SET status = 'suspended', suspended_key = ?, {RELEASE},"
                " lost_count = 0 WHERE id = ?",
                (key, token.job_id),
            )
            self._log_txn(conn, token.job_id, logs, now)

        self._write(txn, work=True)

    # ------------------------------------------------------------------ approvals
    def resume(
        self, job_id: str, key: str | None, secret_hash: str | None, approved: bool,
        value: JsonValue, approver: str | None,
    ) -> None:
        """Approve or reject the approval ``job_id`` waits on. With ``secret_hash`` (a URL's
        secret), the secret must be one issued for that approval and allow this decision, and its
        bound approver wins; an approved value must fit the approval's form (nothing changes
        otherwise)."""

        def txn(conn: sqlite3.Connection) -> None:
            now = self.now()
            who = approver
            row = conn.execute(
                "SELECT status, suspended_key FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise JobNotFoundError(f"no job {job_id}")
            status, waiting_on = row["status"], row["suspended_key"]
            if status != "suspended" or (key is not None and key != waiting_on):
                what = f"approval {key!r}" if key is not None else "an approval"
                raise ConflictError(
                    f"job {job_id} is not waiting for {what} (it is {status})",
                    hint="it may have been approved, rejected or timed out already",
                )
            if secret_hash is not None:
                _, bound = self._check_secret_txn(conn, job_id, waiting_on, secret_hash, approved, approver)
                who = bound or approver
            if approved:
                self._check_form_txn(conn, job_id, waiting_on, value)
            payload = dumps({"value": value, "approver": who, "approved": approved}, "approval")
            conn.execute(
                "UPDATE steps SET done = 1, value = ?, finished_at = ? WHERE job_id = ? AND key = ?",
                (payload, now, job_id, waiting_on),
            )
            conn.execute(
                "UPDATE approvals SET resolved_at = ? WHERE job_id = ? AND key = ?",
                (now, job_id, waiting_on),
            )
            conn.execute(
                "UPDATE jobs SET status = 'queued', suspended_key = NULL, scheduled_at = ?"
                " WHERE id = ?",
                (now, job_id),
            )

        self._write(txn, work=True)


_INSERT_JOB = (
    "INSERT INTO jobs (id, root_id, parent_id, parent_key, status, bundle_hash, entry,"
    " script_path, name, args, executing_key, options, tag, priority, created_at,"
    " started_at, finished_at, scheduled_at, result, preview, idempotency_key, secret,"
    " conc_key, conc_limit, conc_window, cache_key, cache_ttl)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def _job_row(
    job_id: str, root_id: str, parent_id: str | None, parent_key: str | None, status: str,
    bundle_hash: str, entry: str, script_path: str, name: str, args_json: str,
    executing_key: str | None, options: TaskOptions, now: float, preview: bool = False,
    idempotency_key: str | None = None, result_json: str | None = None, ckey: str | None = None,
) -> tuple[Any, ...]:
    """The values of :data:`_INSERT_JOB` for one new job."""
    limit = options.concurrency_limit if options.concurrency_limit else None
    conc_key = (options.concurrency_key or f"{script_path}:{name}") if limit else None
    window = options.concurrency_time_window_s if limit else None
    done = status == "succeeded"
    return (
        job_id, root_id, parent_id, parent_key, status, bundle_hash, entry, script_path,
        name, args_json, executing_key, dumps(options.to_json(), "task options"),
        options.tag or "default", options.priority, now, now if done else None,
        now if done else None, now, result_json, int(preview), idempotency_key,
        "", conc_key, limit, window, ckey, options.cache_ttl,
    )


def _submitter() -> str:
    """The OS user submitting a run."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def _inherit(options: TaskOptions, parent: Row) -> TaskOptions:
    """A child runs under its own options, with the parent's tag and priority when unset."""
    tag = options.tag or (parent["tag"] if parent["tag"] != "default" else None)
    priority = options.priority or parent["priority"]
    if tag == options.tag and priority == options.priority:
        return options
    return replace(options, tag=tag, priority=priority)


class SqliteStore(StoreCore):
    """A store in one SQLite file, shared by threads and processes (the embedded dialect).

    Args:
        path: the database file (its directory must exist).
        clock: the store clock (G4), seconds since the epoch; tests inject a fake one.
        poll_interval: how often idle waits look at ``PRAGMA data_version`` for commits made by
            other processes, at first; a wait that sees nothing backs off to ``poll_max``, and
            after ``QUIET_S`` seconds of nothing to ``poll_quiet`` (issue 17: an idle worker polls
            about 5 times a second, not 330; a worker that just saw a commit, 20 to 330).
    """

    def __init__(
        self, path: str, *, clock: Callable[[], float] | None = None, poll_interval: float = 0.003,
        create: bool = True, poll_max: float = 0.05, poll_quiet: float = 0.2,
    ) -> None:
        self.path = os.path.realpath(path)
        self._pool = ConnectionPool(self.path, create=create)
        self._waker = waker_for(self.path)
        self._clock = clock  # None: SQLite's clock (G4), the one clock every process shares
        self._poll = poll_interval
        self._poll_max = poll_max
        self._poll_quiet = poll_quiet
