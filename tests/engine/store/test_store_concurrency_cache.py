"""Contract: per-key concurrency limits and windows, and the task result cache."""

from __future__ import annotations

from tests.engine.store.conftest import FakeClock, claim_job, spec, task
from wac.engine.store import ANY_TAG, Store


def test_a_concurrency_limit_keeps_extra_jobs_of_the_key_waiting(store: Store) -> None:
    a = store.submit(spec(concurrency_limit=1, concurrency_key="k"))
    b = store.submit(spec(concurrency_limit=1, concurrency_key="k"))
    free = store.submit(spec())
    ca = claim_job(store, a)
    c = store.claim("w", ANY_TAG, 10)
    assert c is not None and c.job.id == free  # b is skipped, not blocking the queue
    assert store.claim("w", ANY_TAG, 10) is None
    store.complete(ca.token, 1)
    claim_job(store, b)


def test_a_job_keeps_its_slot_across_rounds_until_it_ends(store: Store, clock: FakeClock) -> None:
    a = store.submit(spec(concurrency_limit=1, concurrency_key="k"))
    b = store.submit(spec(concurrency_limit=1, concurrency_key="k"))
    ca = claim_job(store, a)
    store.sleep(ca.token, "sleep", clock.t + 5)
    clock.advance(5)
    ca = claim_job(store, a)  # b is older in the queue but a already holds the slot
    store.fail(ca.token, {"name": "E", "message": "x"})
    claim_job(store, b)


def test_the_default_concurrency_key_is_the_script_path_and_name(store: Store) -> None:
    a = store.submit(spec("f/x/wf", concurrency_limit=1))
    store.submit(spec("f/x/wf", concurrency_limit=1))
    other = store.submit(spec("f/x/other", concurrency_limit=1))
    claim_job(store, a)
    c = store.claim("w", ANY_TAG, 10)
    assert c is not None and c.job.id == other
    assert store.claim("w", ANY_TAG, 10) is None


def test_a_limit_of_two_runs_two_at_a_time(store: Store) -> None:
    ids = [store.submit(spec(concurrency_limit=2, concurrency_key="k")) for _ in range(3)]
    c1, c2 = claim_job(store, ids[0]), claim_job(store, ids[1])
    assert store.claim("w", ANY_TAG, 10) is None
    store.complete(c2.token, 2)
    claim_job(store, ids[2])
    store.complete(c1.token, 1)


def test_a_time_window_limits_starts_within_the_window(store: Store, clock: FakeClock) -> None:
    opts = {"concurrency_limit": 1, "concurrency_key": "api", "concurrency_time_window_s": 60}
    a, b = store.submit(spec(**opts)), store.submit(spec(**opts))
    ca = claim_job(store, a)
    store.complete(ca.token, 1)
    clock.advance(10)
    assert store.claim("w", ANY_TAG, 10) is None  # a started 10 s ago, inside the window
    assert store.next_due(ANY_TAG) == clock.t + 50  # when a's start leaves the window
    clock.advance(50.01)
    claim_job(store, b)


def test_a_full_concurrency_key_does_not_make_next_due_spin(store: Store, clock: FakeClock) -> None:
    a = store.submit(spec(concurrency_limit=1, concurrency_key="k"))
    store.submit(spec(concurrency_limit=1, concurrency_key="k"))
    claim_job(store, a, lease=30)
    assert store.next_due(ANY_TAG) == clock.t + 30  # only a's lease, not the blocked job


def test_cancel_and_reap_free_concurrency_slots(store: Store, clock: FakeClock) -> None:
    ids = [store.submit(spec(concurrency_limit=1, concurrency_key="k")) for _ in range(3)]
    claim_job(store, ids[0], lease=1)
    store.cancel(ids[0], "x")  # running: cancel requested, still holds the slot
    assert store.claim("w", ANY_TAG, 10) is None
    clock.advance(2)
    store.reap()  # its worker is gone: cancelled now, slot freed
    c = claim_job(store, ids[1], lease=1)
    store.cancel(ids[1], "x")
    store.fail(c.token, {"name": "Killed", "message": "killed"})
    claim_job(store, ids[2])


def test_children_with_a_concurrency_limit_take_turns(store: Store) -> None:
    parent = store.submit(spec())
    c = claim_job(store, parent)
    a, b = store.dispatch(c.token, [task("t", concurrency_limit=1), task("t_2", name="t", concurrency_limit=1)])
    ca = claim_job(store, a)
    assert store.claim("w", ANY_TAG, 10) is None
    store.complete(ca.token, 1)
    claim_job(store, b)


def _cached_run(store: Store, args: dict, ttl: int = 60) -> tuple[str, list[str]]:
    parent = store.submit(spec())
    c = claim_job(store, parent)
    ids = store.dispatch(c.token, [task("fetch", args, cache_ttl=ttl)])
    return parent, ids


def test_a_cached_task_result_is_served_without_running_it_again(store: Store, clock: FakeClock) -> None:
    parent, (child,) = _cached_run(store, {"url": "u", "n": 1})
    store.complete(claim_job(store, child).token, {"body": "hello"})
    claim_job(store, parent)  # first workflow moves on; take it out of the queue
    clock.advance(30)
    parent2, (child2,) = _cached_run(store, {"n": 1, "url": "u"})  # same args, other key order
    job = store.get_job(child2)
    assert (job.status, job.result) == ("succeeded", {"body": "hello"})
    (step,) = store.get_steps(parent2)
    assert step.done and step.value == {"body": "hello"}
    assert store.get_job(parent2).status == "queued"  # nothing to wait for
    assert store.claim("w", ANY_TAG, 10).job.id == parent2  # type: ignore[union-attr]


def test_the_cache_misses_on_other_args_and_after_the_ttl(store: Store, clock: FakeClock) -> None:
    parent, (child,) = _cached_run(store, {"n": 1}, ttl=60)
    store.complete(claim_job(store, child).token, "v1")
    claim_job(store, parent)
    other_parent, (other,) = _cached_run(store, {"n": 2})
    assert store.get_job(other).status == "queued"
    store.cancel(other_parent, "done looking")
    clock.advance(61)
    _, (late,) = _cached_run(store, {"n": 1})
    assert store.get_job(late).status == "queued"


def test_failed_tasks_are_not_cached(store: Store) -> None:
    parent, (child,) = _cached_run(store, {"n": 1})
    store.fail(claim_job(store, child).token, {"name": "E", "message": "x"})
    claim_job(store, parent)
    _, (again,) = _cached_run(store, {"n": 1})
    assert store.get_job(again).status == "queued"
