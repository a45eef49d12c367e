"""SQLite side of changing code under live runs (issue 14): run snapshots, migrate, rerun.

Functions over a :class:`~wac.engine.store.sqlite.SqliteStore` (kept out of the class so the
store's own modules stay as they are). Every write is one ``BEGIN IMMEDIATE`` transaction.

A migration is fenced like a round outcome: the run's *fingerprint* (status, attempt, last step
seq, number of done steps) read with the snapshot that was checked must still hold under the
write lock, and the run must not be held by a worker; otherwise nothing changes and
:class:`~wac.errors.ConflictError` says why.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from wac.engine.store._sqlite_rows import (
    JOB_COLUMNS,
    dumps,
    loads,
    next_id,
    row_to_job,
)
from wac.engine.store.base import Job, JsonValue, Store, TaskOptions
from wac.errors import ConflictError, JobNotFoundError, StoreError

LIVE = ("queued", "blocked", "waiting", "suspended", "running")
FINISHED = ("succeeded", "failed", "cancelled")
_LINEAGE_COLUMNS = "script_hash, migrated_from, migrated_at, rerun_of, rerun_from, reused"


@dataclass(frozen=True)
class RecordedStep:
    key: str
    kind: str
    done: bool
    failed: bool
    value: JsonValue


@dataclass(frozen=True)
class RunSnapshot:
    """A root run as one read transaction saw it: the job, its steps in order, its fingerprint."""

    job: Job
    steps: tuple[RecordedStep, ...]
    fingerprint: tuple[Any, ...]
    script_hash: str | None  # the version recorded for it, if any

    def replay_steps(self) -> list[list[Any]]:
        return [[s.key, s.done, s.value] for s in self.steps]


def _sqlite(store: Store) -> Any:
    from wac.engine.store.sqlite import StoreCore

    if not isinstance(store, StoreCore):
        raise StoreError("checking, migrating and rerunning runs needs a wac store (sqlite or postgresql)")
    return store


def _snapshots(conn: sqlite3.Connection, where: str, params: tuple[Any, ...]) -> list[RunSnapshot]:
    rows = conn.execute(
        f"SELECT {JOB_COLUMNS}, step_seq,"
        " (SELECT script_hash FROM run_lineage l WHERE l.job_id = jobs.id) AS script_hash"
        f" FROM jobs WHERE {where}", params,
    ).fetchall()
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    steps: dict[str, list[RecordedStep]] = {i: [] for i in ids}
    for chunk in range(0, len(ids), 500):
        part = ids[chunk:chunk + 500]
        marks = ",".join("?" * len(part))
        for s in conn.execute(
            f"SELECT job_id, key, kind, done, failed, value FROM steps WHERE job_id IN ({marks})"
            " ORDER BY job_id, seq", part,
        ):
            steps[s["job_id"]].append(
                RecordedStep(s["key"], s["kind"], s["done"] == 1, s["failed"] == 1, loads(s["value"])))
    out = []
    for r in rows:
        job = row_to_job(r)
        recorded = tuple(steps[job.id])
        fingerprint = (job.status, job.attempt, r["step_seq"], sum(1 for s in recorded if s.done))
        out.append(RunSnapshot(job, recorded, fingerprint, r["script_hash"]))
    return out


def run_snapshots(store: Store, path: str, *, live: bool, limit: int | None = None) -> list[RunSnapshot]:
    """Root runs of the deployed script ``path``: the live ones (oldest first), or the last
    ``limit`` finished ones (newest first). Previews are left out."""
    states = LIVE if live else FINISHED
    marks = ",".join("?" * len(states))
    where = (f"parent_id IS NULL AND preview = 0 AND script_path = ? AND status IN ({marks})"
             f" ORDER BY seq {'ASC' if live else 'DESC'}")
    params: tuple[Any, ...] = (path, *states)
    if limit is not None:
        where += " LIMIT ?"
        params += (limit,)
    found: list[RunSnapshot] = _sqlite(store)._pool.read(lambda c: _snapshots(c, where, params))
    return found


def run_snapshot(store: Store, job_id: str) -> RunSnapshot:
    found: list[RunSnapshot] = _sqlite(store)._pool.read(lambda c: _snapshots(c, "id = ?", (job_id,)))
    if not found:
        raise JobNotFoundError(f"no job {job_id}")
    return found[0]


def lineage(store: Store, job_id: str) -> dict[str, Any] | None:
    """What the store knows of where a run came from and which version it is on, or None."""
    def read(c: sqlite3.Connection) -> Any:
        return c.execute(f"SELECT {_LINEAGE_COLUMNS} FROM run_lineage WHERE job_id = ?", (job_id,)).fetchone()

    row = _sqlite(store)._pool.read(read)
    if row is None:
        return None
    return {name: row[name] for name in _LINEAGE_COLUMNS.split(", ")}


def record_version(store: Store, job_id: str, script_hash: str) -> None:
    """Note which deployed version a run was started on."""
    def txn(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO run_lineage (job_id, script_hash) VALUES (?, ?) ON CONFLICT (job_id)"
                  " DO UPDATE SET script_hash = excluded.script_hash", (job_id, script_hash))

    _sqlite(store)._pool.write(txn)


def migrate_run(
    store: Store, snap: RunSnapshot, bundle_hash: str, entry: str, script_hash: str | None,
    from_hash: str | None,
) -> None:
    """Move a live run to another code bundle in one fenced transaction.

    Raises:
        ConflictError: the run changed since ``snap`` was read, or a worker holds it now.
    """
    s = _sqlite(store)
    job_id = snap.job.id

    def txn(c: sqlite3.Connection) -> None:
        row = c.execute(
            "SELECT status, attempt, step_seq,"
            " (SELECT count(*) FROM steps WHERE job_id = ? AND done = 1) AS done_steps"
            " FROM jobs WHERE id = ?", (job_id, job_id),
        ).fetchone()
        if row is None:
            raise JobNotFoundError(f"no job {job_id}")
        status = row["status"]
        if status == "running":
            raise ConflictError(f"job {job_id} is in a round right now; it was not moved",
                                hint=f"try again when it waits: wac job migrate {job_id}")
        if status in FINISHED:
            raise ConflictError(f"job {job_id} has finished ({status}); only live runs move",
                                hint=f"start it again on the new code: wac job rerun {job_id} --latest")
        if (status, row["attempt"], row["step_seq"], row["done_steps"]) != snap.fingerprint:
            raise ConflictError(f"job {job_id} moved on since it was checked; it was not moved",
                                hint=f"check it again: wac job migrate {job_id}")
        now = s.now()
        c.execute("UPDATE jobs SET bundle_hash = ?, entry = ? WHERE id = ?", (bundle_hash, entry, job_id))
        c.execute(
            "INSERT INTO run_lineage (job_id, script_hash, migrated_from, migrated_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (job_id) DO UPDATE SET script_hash = excluded.script_hash,"
            " migrated_from = excluded.migrated_from, migrated_at = excluded.migrated_at",
            (job_id, script_hash, from_hash, now),
        )
        old = (from_hash or snap.job.bundle_hash)[:7]
        new = (script_hash or bundle_hash)[:7]
        s._log_txn(c, job_id, f"\nwac: migrated from version {old} to {new}\n", now)

    s._write(txn, work=True)


def create_rerun(
    store: Store, old: RunSnapshot, bundle_hash: str, entry: str, args: dict[str, JsonValue],
    reuse: list[str], from_key: str | None, script_hash: str | None,
) -> str:
    """A new queued root run of ``old``'s script holding copies of ``old``'s steps ``reuse``."""
    s = _sqlite(store)
    args_json = dumps(args, "job arguments")

    def txn(c: sqlite3.Connection) -> str:
        row = c.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (old.job.id,)).fetchone()
        if row is None:
            raise JobNotFoundError(f"no job {old.job.id}")
        now = s.now()
        (job_id,) = next_id(c, now)
        options = TaskOptions.from_json(loads(row["options"]))
        s._insert_job_txn(c, job_id, job_id, None, None, "queued", bundle_hash, entry, row["script_path"],
                          row["name"], args_json, None, options, now)
        for i in range(0, len(reuse), 500):
            part = reuse[i:i + 500]
            marks = ",".join("?" * len(part))
            c.execute(
                "INSERT INTO steps (job_id, key, seq, kind, done, failed, value, child_job_id, started_at,"
                " finished_at) SELECT ?, key, seq, kind, done, failed, value, child_job_id, started_at,"
                f" finished_at FROM steps WHERE job_id = ? AND done = 1 AND key IN ({marks})",
                (job_id, old.job.id, *part),
            )
        c.execute("UPDATE jobs SET step_seq = (SELECT coalesce(max(seq), 0) FROM steps WHERE job_id = ?)"
                  " WHERE id = ?", (job_id, job_id))
        c.execute(
            "INSERT INTO run_lineage (job_id, script_hash, rerun_of, rerun_from, reused) VALUES (?, ?, ?, ?, ?)",
            (job_id, script_hash, old.job.id, from_key, len(reuse)),
        )
        where = f"from '{from_key}'" if from_key else "after its last step"
        s._log_txn(c, job_id, f"\nwac: rerun of {old.job.id} {where}, reusing {len(reuse)} step(s)\n", now)
        return str(job_id)

    new_id: str = s._write(txn, work=True)
    return new_id
