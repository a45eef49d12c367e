"""Contract: cancel (whole subtree, shared child-finishing path) and reap (leases, lost workers)."""

from __future__ import annotations

import threading

import pytest

from tests.engine.store.conftest import FakeClock, claim_job, spec, start_parent, task
from wac.engine.store import ANY_TAG, Store
from wac.errors import LostClaimError


def test_cancelling_a_queued_job_ends_it_at_once(store: Store) -> None:
    job_id = store.submit(spec())
    assert store.cancel(job_id, "no longer needed") == 1
    job = store.get_job(job_id)
    assert job.status == "cancelled" and "no longer needed" in job.error["message"]  # type: ignore[index]
    assert store.claim("w", ANY_TAG, 10) is None
    assert store.cancel(job_id, "again") == 0


def test_cancelling_a_workflow_cancels_its_whole_live_subtree(store: Store) -> None:
    parent, ids = start_parent(store, 3)
    running = claim_job(store, ids[0])
    done = claim_job(store, ids[1])
    store.complete(done.token, "ok")
    assert store.cancel(parent, "user") == 3  # parent, the running child, the queued child
    statuses = {k.id: k.status for k in store.children(parent)}
    assert statuses == {ids[0]: "running", ids[1]: "succeeded", ids[2]: "cancelled"}
    assert store.get_job(parent).status == "cancelled"
    assert store.get_job(ids[0]).cancel_requested
    assert store.heartbeat([running.token], 10).cancel_requested == {ids[0]}
    # the worker kills the round and reports it: the job ends cancelled, not failed
    store.fail(running.token, {"name": "Killed", "message": "killed"})
    assert store.get_job(ids[0]).status == "cancelled"
    assert store.get_job(parent).status == "cancelled"  # a cancelled parent is never re-queued
    assert store.claim("w", ANY_TAG, 10) is None


def test_cancelling_a_grandchild_tree_reaches_every_level(store: Store) -> None:
    from wac.engine.store import ChildSpec

    root = store.submit(spec())
    c = claim_job(store, root)
    (flow,) = store.dispatch(c.token, [ChildSpec("sub", "sub", "main.py", {}, None, kind="flow")])
    fc = claim_job(store, flow)
    grandkids = store.dispatch(fc.token, [task("a"), task("b")])
    assert store.cancel(root, "stop") == 4
    assert {store.get_job(g).status for g in grandkids} == {"cancelled"}


def test_cancelling_one_child_of_a_live_parent_hands_it_a_failure_marker(store: Store) -> None:
    parent, ids = start_parent(store, 2)
    assert store.cancel(ids[1], "skip it") == 1
    step = {s.key: s for s in store.get_steps(parent)}["t_2"]
    assert step.done and step.failed
    assert step.value["__wmill_error"] is True and step.value["child_job_id"] == ids[1]
    assert step.value["step_key"] == "t_2" and "skip it" in step.value["message"]
    c = claim_job(store, ids[0])
    store.complete(c.token, 1)
    assert store.get_job(parent).status == "queued"  # re-queued exactly once, by the last child


def test_cancelling_a_running_child_finishes_it_in_the_parent_when_the_worker_reports(store: Store) -> None:
    parent, ids = start_parent(store, 1)
    c = claim_job(store, ids[0])
    store.cancel(ids[0], "user")
    assert store.get_job(parent).status == "waiting"
    store.fail(c.token, {"name": "Killed", "message": "killed by worker"})
    assert store.get_job(parent).status == "queued"
    assert "user" in store.get_steps(parent)[0].value["message"]


def test_cancelling_a_blocked_child_promotes_the_next_one(store: Store) -> None:
    parent, ids = start_parent(store, 3, max_in_flight=1)
    store.cancel(ids[0], "skip")
    assert [k.status for k in store.children(parent)] == ["cancelled", "queued", "blocked"]


def test_reap_requeues_a_job_whose_lease_expired_and_fences_the_old_worker(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    claim_job(store, job_id, lease=5)
    clock.advance(4.9)
    assert store.reap() == 0
    clock.advance(0.2)
    assert store.reap() == 1
    job = store.get_job(job_id)
    assert job.status == "queued"
    c = claim_job(store, job_id, worker="w2")
    assert c.token.attempt == 2


def test_a_released_job_is_claimable_at_once_and_fences_the_releasing_worker(store: Store) -> None:
    job_id = store.submit(spec())
    first = claim_job(store, job_id, lease=60)
    store.release(first.token)
    assert store.get_job(job_id).status == "queued"
    again = claim_job(store, job_id, worker="w2")
    assert again.token.attempt == first.token.attempt + 1
    with pytest.raises(LostClaimError):
        store.release(first.token)
    with pytest.raises(LostClaimError):
        store.complete(first.token, 1)


def test_a_job_whose_worker_is_lost_five_times_fails_clearly(store: Store, clock: FakeClock) -> None:
    parent, ids = start_parent(store, 1)
    for _ in range(5):
        claim_job(store, ids[0], lease=1)
        clock.advance(2)
        assert store.reap() == 1
    child = store.get_job(ids[0])
    assert child.status == "failed"
    assert "worker lost 5 times" in child.error["message"]  # type: ignore[index]
    step = store.get_steps(parent)[0]
    assert step.failed and "worker lost 5 times" in step.value["message"]
    assert store.get_job(parent).status == "queued"


def test_a_round_that_ends_normally_resets_the_lost_worker_count(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    for _ in range(4):
        claim_job(store, job_id, lease=1)
        clock.advance(2)
        store.reap()
    c = claim_job(store, job_id, lease=1)
    store.checkpoint(c.token, "s", 1, requeue=True)
    for _ in range(4):
        claim_job(store, job_id, lease=1)
        clock.advance(2)
        store.reap()
    assert store.get_job(job_id).status == "queued"


def test_reap_ends_a_cancel_requested_job_whose_worker_died(store: Store, clock: FakeClock) -> None:
    parent, ids = start_parent(store, 1)
    claim_job(store, ids[0], lease=1)
    store.cancel(ids[0], "user")
    clock.advance(2)
    store.reap()
    assert store.get_job(ids[0]).status == "cancelled"
    assert store.get_job(parent).status == "queued"


def test_reap_from_many_threads_at_once_requeues_each_job_once(store: Store, clock: FakeClock) -> None:
    ids = [store.submit(spec()) for _ in range(20)]
    for _ in ids:
        store.claim("w", ANY_TAG, 1)
    clock.advance(2)
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(store.reap())) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 20
    assert all(store.get_job(i).status == "queued" for i in ids)


def test_reap_fails_a_round_that_overruns_its_timeout_when_its_worker_did_not_kill_it(store: Store, clock: FakeClock) -> None:
    parent = store.submit(spec())
    c = claim_job(store, parent)
    (child,) = store.dispatch(c.token, [task("slow", timeout=10)])
    cc = claim_job(store, child, lease=5)
    for _ in range(5):  # the worker is alive: it keeps the lease fresh
        clock.advance(2.9)
        assert store.heartbeat([cc.token], 5).lost == frozenset()
        assert store.reap() == 0
    assert store.next_due(frozenset({"nothing"})) == pytest.approx(clock.t + 0.5)  # claim + timeout + lease
    clock.advance(0.6)
    assert store.reap() == 1
    job = store.get_job(child)
    assert job.status == "failed"
    assert job.error == {"name": "TimeoutError", "message": "slow timed out after 10s"}
    assert store.get_steps(parent)[0].value["message"] == "slow timed out after 10s"
    assert store.heartbeat([cc.token], 5).lost == {child}
