"""Contract: timeline, children, logs written with outcomes, prune."""

from __future__ import annotations

from tests.engine.store.conftest import FakeClock, claim_job, spec, start_parent, task
from wac.engine.store import Store


def test_timeline_shows_each_step_with_the_state_of_its_child(store: Store, clock: FakeClock) -> None:
    parent = store.submit(spec())
    c = claim_job(store, parent)
    store.checkpoint(c.token, "s", 1, requeue=False)
    ids = store.dispatch(c.token, [task("a"), task("b"), task("c"), task("d")], max_in_flight=3)
    t_claim = clock.t + 1
    clock.advance(1)
    store.complete(claim_job(store, ids[0]).token, 1)
    store.fail(claim_job(store, ids[1]).token, {"name": "E", "message": "x"})
    claim_job(store, ids[2])
    store.cancel(ids[3], "skip")
    tl = store.timeline(parent)
    assert [(e.key, e.kind, e.status, e.child_job_id) for e in tl] == [
        ("s", "step", "done", None),
        ("a", "task", "done", ids[0]),
        ("b", "task", "failed", ids[1]),
        ("c", "task", "running", ids[2]),
        ("d", "task", "cancelled", ids[3]),
    ]
    assert tl[3].started_at == t_claim and tl[3].finished_at is None
    assert tl[1].finished_at == clock.t


def test_timeline_shows_queued_blocked_and_waiting_entries(store: Store, clock: FakeClock) -> None:
    parent, ids = start_parent(store, 2, max_in_flight=1)
    assert [e.status for e in store.timeline(parent)] == ["queued", "blocked"]
    job_id = store.submit(spec())
    c = claim_job(store, ids[0])
    store.complete(c.token, 0)
    claim_job(store, ids[1])
    c = claim_job(store, job_id)
    store.suspend(c.token, "approval", None, "h", None)
    assert [(e.kind, e.status) for e in store.timeline(job_id)] == [("approval", "waiting")]


def test_outcome_logs_are_appended_to_the_job_log(store: Store) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.checkpoint(c.token, "s", 1, requeue=True, logs="round 1\n")
    c = claim_job(store, job_id)
    store.dispatch(c.token, [task("t")], logs="round 2\n")
    child = store.children(job_id)[0]
    store.complete(claim_job(store, child.id).token, 1, logs="child\n")
    c = claim_job(store, job_id)
    store.complete(c.token, 2, logs="round 3\n")
    assert [ln.text for ln in store.read_logs(job_id)] == ["round 1\n", "round 2\n", "round 3\n"]
    assert [ln.text for ln in store.read_logs(child.id)] == ["child\n"]


def test_prune_deletes_old_finished_trees_only(store: Store, clock: FakeClock) -> None:
    old, ids = start_parent(store, 2)
    for i in ids:
        store.complete(claim_job(store, i).token, 1)
    store.complete(claim_job(store, old).token, "done")
    store.append_log(old, "x")
    live = store.submit(spec())
    clock.advance(100)
    recent = store.submit(spec())
    store.complete(claim_job(store, live).token, 1)  # finished now, after the cut-off
    claim_job(store, recent)
    assert store.prune(clock.t - 50) == 1
    assert {j.id for j in store.list_jobs(root_only=False, limit=100)} == {live, recent}
    assert store.prune(clock.t - 50) == 0
