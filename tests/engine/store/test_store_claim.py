"""Contract: claim (order, tags, schedule), heartbeat and leases."""

from __future__ import annotations

from tests.engine.store.conftest import FakeClock, claim_job, spec, start_parent, task
from wac.engine.store import ANY_TAG, Store


def test_claim_takes_the_job_and_hands_out_a_token(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    c = store.claim("w1", ANY_TAG, 10)
    assert c is not None and c.job.id == job_id
    assert (c.token.job_id, c.token.attempt, c.token.worker_id) == (job_id, 1, "w1")
    job = store.get_job(job_id)
    assert (job.status, job.attempt, job.rounds, job.worker_id) == ("running", 1, 1, "w1")
    assert job.started_at == clock.t
    assert c.checkpoint() == {"completed_steps": {}, "_key_order": []}


def test_claim_returns_none_when_nothing_is_runnable(store: Store) -> None:
    assert store.claim("w1", ANY_TAG, 10) is None
    store.submit(spec())
    assert store.claim("w1", ANY_TAG, 10) is not None
    assert store.claim("w2", ANY_TAG, 10) is None  # at most one live claim per job


def test_every_claim_increments_attempt_and_rounds_but_keeps_started_at(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    first_start = clock.t
    clock.advance(5)
    store.checkpoint(c.token, "s", 1, requeue=True)
    c2 = claim_job(store, job_id)
    assert (c2.token.attempt, c2.job.rounds) == (2, 2)
    assert store.get_job(job_id).started_at == first_start


def test_claim_order_is_priority_then_schedule_then_submission(store: Store, clock: FakeClock) -> None:
    low_old = store.submit(spec())
    clock.advance(1)
    high = store.submit(spec(priority=5))
    low_new = store.submit(spec())
    higher_later = store.submit(spec(priority=9))
    order = [store.claim("w", ANY_TAG, 10).job.id for _ in range(4)]  # type: ignore[union-attr]
    assert order == [higher_later, high, low_old, low_new]


def test_tags_route_jobs_to_workers_that_serve_them(store: Store) -> None:
    plain = store.submit(spec())
    gpu = store.submit(spec(tag="gpu"))
    assert store.claim("w-other", frozenset({"other"}), 10) is None
    c = store.claim("w-gpu", frozenset({"gpu"}), 10)
    assert c is not None and c.job.id == gpu
    assert store.claim("w-gpu", frozenset({"gpu"}), 10) is None
    c = store.claim("w-default", frozenset({"default", "gpu"}), 10)
    assert c is not None and c.job.id == plain


def test_the_any_tag_worker_takes_every_tag(store: Store) -> None:
    ids = {store.submit(spec(tag=t)) for t in ("a", "b", None)}
    got = {store.claim("w", ANY_TAG, 10).job.id for _ in range(3)}  # type: ignore[union-attr]
    assert got == ids


def test_children_inherit_the_parents_tag_and_priority_unless_they_set_their_own(store: Store) -> None:
    parent = store.submit(spec(tag="gpu", priority=3))
    c = claim_job(store, parent)
    store.dispatch(c.token, [task("a"), task("b", tag="cpu", priority=7)])
    a, b = store.children(parent)
    assert (a.options.tag, a.options.priority) == ("gpu", 3)
    assert (b.options.tag, b.options.priority) == ("cpu", 7)


def test_a_job_scheduled_later_is_claimed_only_when_the_store_clock_gets_there(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.sleep(c.token, "sleep", clock.t + 60)
    assert store.claim("w", ANY_TAG, 10) is None
    assert store.next_due(ANY_TAG) == clock.t + 60
    clock.advance(59.9)
    assert store.claim("w", ANY_TAG, 10) is None
    clock.advance(0.2)
    c2 = claim_job(store, job_id)
    assert c2.checkpoint()["completed_steps"] == {"sleep": None}


def test_heartbeat_extends_leases_and_reports_lost_claims_and_cancellations(store: Store, clock: FakeClock) -> None:
    a, b, c = (store.submit(spec()) for _ in range(3))
    ca, cb, cc = (claim_job(store, j, lease=10) for j in (a, b, c))
    clock.advance(8)
    report = store.heartbeat([ca.token, cb.token, cc.token], 10)
    assert report.lost == frozenset() and report.cancel_requested == frozenset()
    clock.advance(8)  # 16 s after the claims: still alive thanks to the heartbeat
    assert store.reap() == 0
    store.complete(cb.token, 1)
    store.cancel(c, "stop")
    report = store.heartbeat([ca.token, cb.token, cc.token], 10)
    assert report.lost == frozenset({b})
    assert report.cancel_requested == frozenset({c})
    assert store.heartbeat([], 10).lost == frozenset()


def test_next_due_is_none_without_work_and_now_or_earlier_with_runnable_work(store: Store, clock: FakeClock) -> None:
    assert store.next_due(ANY_TAG) is None
    store.submit(spec(tag="x"))
    assert store.next_due(frozenset({"y"})) is None
    due = store.next_due(frozenset({"x"}))
    assert due is not None and due <= clock.t


def test_next_due_includes_lease_expiry_so_an_idle_worker_wakes_to_reap(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec(tag="x"))
    claim_job(store, job_id, lease=30)
    assert store.next_due(frozenset({"y"})) == clock.t + 30


def test_a_child_claims_its_parents_checkpoint_with_its_own_executing_key(store: Store) -> None:
    parent = store.submit(spec(args={"n": 7}))
    c = claim_job(store, parent)
    store.checkpoint(c.token, "s", {"v": 1}, requeue=False)
    store.dispatch(c.token, [task("fetch", {"u": 1}), task("fetch_2", {"u": 2})])
    child = store.claim("w2", ANY_TAG, 10)
    assert child is not None and child.job.parent_id == parent
    assert child.job.args == {"u": 1} and child.job.executing_key == "fetch"
    assert child.job.bundle_hash == store.get_job(parent).bundle_hash
    assert child.checkpoint() == {
        "completed_steps": {"s": {"v": 1}},
        "_key_order": ["s", "fetch", "fetch_2"],
        "_executing_key": "fetch",
    }
    assert child.parent_args == {"n": 7}  # child mode replays the parent's body with its args
    assert c.parent_args is None  # a root job replays its own args


def test_start_parent_helper_makes_a_waiting_parent(store: Store) -> None:
    parent, ids = start_parent(store, 3)
    assert store.get_job(parent).status == "waiting" and len(ids) == 3


def test_a_claim_asked_for_recent_steps_reads_only_those_added_since_then(store: Store, clock: FakeClock) -> None:
    """A parked sticky parent needs only its children's new results (issue 17), not every step
    of a long run: ``recent`` gives the step seq of its earlier claim, ``steps_after`` says the
    steps are that subset — by seq, not by clock, so a result finished in the same millisecond
    as the claim is never missed."""
    parent = store.submit(spec())
    first = claim_job(store, parent)
    assert first.claimed_at == clock.t and first.steps_after is None and first.step_seq == 0
    store.checkpoint(first.token, "early", 1, requeue=False)
    store.dispatch(first.token, [task("a_1", {"i": 1})])
    a = claim_job(store, store.children(parent)[0].id)
    store.complete(a.token, 10)
    second = claim_job(store, parent)
    parked_seq = second.step_seq
    assert parked_seq == 2  # "early" and "a_1"
    store.dispatch(second.token, [task("b_1", {"i": 2}), task("b_2", {"i": 3})])
    for child in [c for c in store.children(parent) if c.status == "queued"]:
        store.complete(claim_job(store, child.id).token, child.args["i"] * 100)
    asked: list[str] = []

    def recent(job_id: str) -> int | None:
        asked.append(job_id)
        return parked_seq if job_id == parent else None

    third = store.claim("w1", ANY_TAG, 30, recent=recent)
    assert third is not None and third.job.id == parent and asked == [parent]
    assert third.steps_after == parked_seq and third.step_seq == 4
    assert {s.key: s.value for s in third.steps} == {"b_1": 200, "b_2": 300}  # not "early", not "a_1"
    assert all(s.done for s in third.steps)
    full = {s.key for s in store.get_steps(parent)}
    assert full == {"early", "a_1", "b_1", "b_2"}
