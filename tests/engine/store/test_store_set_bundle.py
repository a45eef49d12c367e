"""Contract: a worker re-points the job it claimed to the bundle whose environment it pinned
(``set_bundle``), fenced by its claim (G2); the job's later rounds and its children run it."""

from __future__ import annotations

import pytest

from tests.engine.store.conftest import FakeClock, claim_job, spec, task
from wac.engine.store import Store
from wac.errors import LostClaimError, StoreError

PINNED = "p" * 64


def test_the_claimed_job_runs_the_pinned_bundle_in_its_next_rounds_and_its_children(store: Store) -> None:
    store.put_bundle(PINNED, {"main.py": "async def main(): ...\n", ".wac/env.lock": "six==1.16.0\n"})
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.set_bundle(c.token, PINNED)
    assert store.get_job(job_id).bundle_hash == PINNED
    (child_id,) = store.dispatch(c.token, [task("t_1")])
    assert store.get_job(child_id).bundle_hash == PINNED
    child = claim_job(store, child_id)
    store.complete(child.token, 1)
    again = claim_job(store, job_id)  # the parent's next round
    assert again.job.bundle_hash == PINNED


def test_a_stale_claim_or_an_unknown_bundle_changes_nothing(store: Store, clock: FakeClock) -> None:
    store.put_bundle(PINNED, {"main.py": "async def main(): ...\n"})
    job_id = store.submit(spec())
    old = claim_job(store, job_id, lease=5)
    before = store.get_job(job_id).bundle_hash
    with pytest.raises(StoreError):
        store.set_bundle(old.token, "0" * 64)
    clock.advance(6)
    assert store.reap() == 1  # the lease ran out: back to queued
    claim_job(store, job_id, worker="w2")
    with pytest.raises(LostClaimError):
        store.set_bundle(old.token, PINNED)
    assert store.get_job(job_id).bundle_hash == before
