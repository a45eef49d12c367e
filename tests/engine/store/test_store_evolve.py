"""Run snapshots, moving a live run to other code and reruns (issue 14's store side), on both stores."""

from __future__ import annotations

import pytest

from tests.engine.store.conftest import BUNDLE, claim_job, spec
from wac.engine.store import Store
from wac.engine.store._sqlite_evolve import (
    create_rerun,
    lineage,
    migrate_run,
    record_version,
    run_snapshot,
    run_snapshots,
)
from wac.errors import ConflictError, JobNotFoundError

OTHER = "c" * 64


def _suspended_run(store: Store) -> str:
    """A root run that did one step and waits on an approval (live, not held by a worker)."""
    job_id = store.submit(spec("f/demo/gate", {"n": 1}))
    c = claim_job(store, job_id)
    store.checkpoint(c.token, "step_1", {"v": 1}, requeue=False)
    store.suspend(c.token, "approval", None, "h" * 64, None)
    return job_id


def test_a_snapshot_holds_the_run_its_steps_and_a_fingerprint_of_where_it_is(store: Store) -> None:
    job_id = _suspended_run(store)
    record_version(store, job_id, "v1hash")
    snap = run_snapshot(store, job_id)
    assert snap.job.id == job_id and snap.job.status == "suspended"
    assert [(s.key, s.kind, s.done, s.value) for s in snap.steps] == [
        ("step_1", "step", True, {"v": 1}), ("approval", "approval", False, None)]
    assert snap.fingerprint == ("suspended", 1, 2, 1)
    assert snap.script_hash == "v1hash"
    assert [s.job.id for s in run_snapshots(store, "f/demo/gate", live=True)] == [job_id]
    assert run_snapshots(store, "f/demo/gate", live=False, limit=5) == []
    with pytest.raises(JobNotFoundError):
        run_snapshot(store, "00000000000000")


def test_a_live_run_moves_to_other_code_only_while_its_fingerprint_holds(store: Store) -> None:
    store.put_bundle(OTHER, {"main.py": "async def main(): ...\n"})
    job_id = _suspended_run(store)
    snap = run_snapshot(store, job_id)
    migrate_run(store, snap, OTHER, "main.py", "v2hash", "v1hash")
    assert store.get_job(job_id).bundle_hash == OTHER
    assert lineage(store, job_id) == {
        "script_hash": "v2hash", "migrated_from": "v1hash", "migrated_at": store.now(),
        "rerun_of": None, "rerun_from": None, "reused": None}
    store.resume(job_id, "approval", None, True, None, "ann")  # it moves on
    with pytest.raises(ConflictError, match="moved on since it was checked"):
        migrate_run(store, snap, BUNDLE, "main.py", None, None)
    claim_job(store, job_id)
    with pytest.raises(ConflictError, match="in a round right now"):
        migrate_run(store, run_snapshot(store, job_id), BUNDLE, "main.py", None, None)


def test_a_rerun_is_a_new_queued_run_holding_copies_of_the_reused_steps(store: Store) -> None:
    job_id = _suspended_run(store)
    old = run_snapshot(store, job_id)
    new_id = create_rerun(store, old, BUNDLE, "main.py", {"n": 2}, ["step_1"], "approval", "v1hash")
    new = store.get_job(new_id)
    assert (new.status, new.args, new.script_path, new.name) == ("queued", {"n": 2}, "f/demo/gate", "gate")
    assert [(s.key, s.value) for s in store.get_steps(new_id)] == [("step_1", {"v": 1})]
    assert lineage(store, new_id) == {
        "script_hash": "v1hash", "migrated_from": None, "migrated_at": None,
        "rerun_of": job_id, "rerun_from": "approval", "reused": 1}
    assert lineage(store, job_id) is None
