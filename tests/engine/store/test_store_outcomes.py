"""Contract: round outcomes — fencing (G2), child results exactly once (G3), sliding window."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.engine.store.conftest import FakeClock, claim_job, spec, start_parent, task
from wac.engine.store import ANY_TAG, Store, Token
from wac.errors import LostClaimError, StoreError

OUTCOMES: dict[str, Callable[[Store, Token], object]] = {
    "complete": lambda s, t: s.complete(t, 1, logs="late\n"),
    "fail": lambda s, t: s.fail(t, {"name": "E", "message": "m"}, logs="late\n"),
    "fail_retry": lambda s, t: s.fail(t, {"name": "E", "message": "m"}, retry_at=s.now()),
    "dispatch": lambda s, t: s.dispatch(t, [task("x")], logs="late\n"),
    "checkpoint": lambda s, t: s.checkpoint(t, "x", 1, requeue=False, logs="late\n"),
    "checkpoint_requeue": lambda s, t: s.checkpoint(t, "x", 1, requeue=True),
    "sleep": lambda s, t: s.sleep(t, "x", s.now() + 5, logs="late\n"),
    "suspend": lambda s, t: s.suspend(t, "x", None, "h", None, logs="late\n"),
}


def _snapshot(store: Store, job_id: str) -> tuple:
    return (store.get_job(job_id), store.get_steps(job_id), store.children(job_id), store.read_logs(job_id))


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_a_stale_token_raises_lost_claim_and_changes_nothing(store: Store, clock: FakeClock, outcome: str) -> None:
    job_id = store.submit(spec())
    old = claim_job(store, job_id, lease=5)
    clock.advance(6)
    assert store.reap() == 1  # the lease ran out: back to queued
    new = claim_job(store, job_id, worker="w2")
    before = _snapshot(store, job_id)
    with pytest.raises(LostClaimError):
        OUTCOMES[outcome](store, old.token)
    assert _snapshot(store, job_id) == before
    # a token with the right attempt but another worker id is fenced out too
    with pytest.raises(LostClaimError):
        OUTCOMES[outcome](store, Token(job_id, new.token.attempt, "w1"))
    assert _snapshot(store, job_id) == before


@pytest.mark.parametrize("outcome", sorted(OUTCOMES))
def test_no_outcome_is_accepted_twice_from_the_same_round(store: Store, outcome: str) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    OUTCOMES[outcome](store, c.token)
    if outcome == "checkpoint":  # the fast path keeps the claim by design
        return
    before = _snapshot(store, job_id)
    with pytest.raises(LostClaimError):
        OUTCOMES[outcome](store, c.token)
    assert _snapshot(store, job_id) == before


def test_complete_stores_the_result_and_the_rounds_logs_in_one_go(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    clock.advance(2)
    store.complete(c.token, {"ok": [1, "ü"]}, logs="hello\n")
    job = store.get_job(job_id)
    assert (job.status, job.result, job.finished_at) == ("succeeded", {"ok": [1, "ü"]}, clock.t)
    assert [ln.text for ln in store.read_logs(job_id)] == ["hello\n"]


def test_a_result_that_is_not_json_is_refused_and_the_claim_stays(store: Store) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    with pytest.raises(StoreError):
        store.complete(c.token, {1, 2})
    assert store.get_job(job_id).status == "running"
    store.complete(c.token, [1, 2])


def test_fail_without_retry_fails_the_job_with_its_error(store: Store) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.fail(c.token, {"name": "ValueError", "message": "bad", "stack": "tb"}, logs="oops\n")
    job = store.get_job(job_id)
    assert job.status == "failed"
    assert job.error == {"name": "ValueError", "message": "bad", "stack": "tb"}
    assert store.read_logs(job_id)[0].text == "oops\n"


def test_fail_with_retry_at_requeues_the_job_for_then(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.fail(c.token, {"name": "E", "message": "flaky"}, retry_at=clock.t + 30)
    job = store.get_job(job_id)
    assert (job.status, job.scheduled_at) == ("queued", clock.t + 30)
    assert store.claim("w", ANY_TAG, 10) is None
    clock.advance(30)
    assert claim_job(store, job_id).token.attempt == 2


def test_checkpoint_fast_path_keeps_the_claim_and_the_step_is_replayed(store: Store) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.checkpoint(c.token, "a", 1, requeue=False)
    store.checkpoint(c.token, "b", {"x": None}, requeue=False, started_at=123.0)
    assert store.get_job(job_id).status == "running"
    store.checkpoint(c.token, "c", 3, requeue=True)
    c2 = claim_job(store, job_id)
    assert c2.checkpoint() == {"completed_steps": {"a": 1, "b": {"x": None}, "c": 3}, "_key_order": ["a", "b", "c"]}
    steps = store.get_steps(job_id)
    assert [(s.kind, s.done, s.seq) for s in steps] == [("step", True, 1), ("step", True, 2), ("step", True, 3)]
    assert steps[1].started_at == 123.0


def test_a_committed_step_value_is_never_overwritten(store: Store) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.checkpoint(c.token, "rand", 4, requeue=True)
    c2 = claim_job(store, job_id)
    store.checkpoint(c2.token, "rand", 99, requeue=False)  # a replay racing its own fast path
    assert store.get_steps(job_id)[0].value == 4


def test_a_failed_step_is_stored_as_failed(store: Store) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    marker = {"__wmill_error": True, "message": "x", "step_key": "s", "result": {"error": {"name": "E", "message": "x"}}}
    store.checkpoint(c.token, "s", marker, requeue=True, failed=True)
    (step,) = store.get_steps(job_id)
    assert step.failed and step.done and step.value == marker


def test_dispatch_creates_children_and_parks_the_parent(store: Store, clock: FakeClock) -> None:
    parent, ids = start_parent(store, 3)
    job = store.get_job(parent)
    assert (job.status, job.pending) == ("waiting", 3)
    kids = store.children(parent)
    assert [k.id for k in kids] == ids
    assert [(k.parent_key, k.status, k.args, k.root_id) for k in kids] == [
        ("t_1", "queued", {"i": 0}, parent), ("t_2", "queued", {"i": 1}, parent), ("t_3", "queued", {"i": 2}, parent),
    ]
    steps = store.get_steps(parent)
    assert [(s.key, s.kind, s.done, s.child_job_id, s.started_at) for s in steps] == [
        (f"t_{i + 1}", "task", False, ids[i], clock.t) for i in range(3)
    ]


def test_dispatch_of_scripts_and_flows_records_their_kind(store: Store) -> None:
    from wac.engine.store import ChildSpec

    parent = store.submit(spec())
    c = claim_job(store, parent)
    store.dispatch(c.token, [
        ChildSpec("x", "x", "x__mod/x.py", {}, None),
        ChildSpec("f", "f", "main.py", {}, None, kind="flow", script_path="f/a/f"),
    ])
    assert [s.kind for s in store.get_steps(parent)] == ["script", "flow"]
    assert [k.script_path for k in store.children(parent)] == ["f/demo/wf", "f/a/f"]


def test_dispatch_refuses_a_repeated_key(store: Store) -> None:
    parent = store.submit(spec())
    c = claim_job(store, parent)
    with pytest.raises(StoreError):
        store.dispatch(c.token, [task("a"), task("a")])
    assert store.get_job(parent).status == "running" and store.children(parent) == []


def test_each_child_result_lands_under_its_key_and_only_the_last_requeues_the_parent(store: Store) -> None:
    parent, ids = start_parent(store, 3)
    for n in range(3):
        child = store.claim("w", ANY_TAG, 10)
        assert child is not None and child.job.parent_id == parent
        store.complete(child.token, child.job.args["i"] * 10)
        job = store.get_job(parent)
        assert job.pending == 2 - n
        assert job.status == ("queued" if n == 2 else "waiting")
    c = claim_job(store, parent)
    assert c.checkpoint()["completed_steps"] == {"t_1": 0, "t_2": 10, "t_3": 20}


def test_a_failed_child_leaves_a_failure_marker_in_its_parent(store: Store) -> None:
    parent, ids = start_parent(store, 1)
    child = claim_job(store, ids[0])
    err = {"name": "ValueError", "message": "no good", "stack": "Traceback..."}
    store.fail(child.token, err)
    (step,) = store.get_steps(parent)
    assert step.done and step.failed
    assert step.value == {
        "__wmill_error": True, "message": "no good", "step_key": "t_1", "child_job_id": ids[0],
        "result": {"error": err},
    }
    assert store.get_job(parent).status == "queued"


def test_a_retried_child_does_not_touch_its_parent_until_it_ends(store: Store, clock: FakeClock) -> None:
    parent, ids = start_parent(store, 1)
    child = claim_job(store, ids[0])
    store.fail(child.token, {"name": "E", "message": "x"}, retry_at=clock.t)
    assert store.get_job(parent).pending == 1 and not store.get_steps(parent)[0].done
    child = claim_job(store, ids[0])
    store.complete(child.token, "ok")
    assert store.get_steps(parent)[0].value == "ok"


def test_a_child_result_counts_once_even_if_a_stale_round_reports_it_again(store: Store, clock: FakeClock) -> None:
    parent, ids = start_parent(store, 2)
    first = claim_job(store, ids[0], lease=5)
    claim_job(store, ids[1], lease=100)
    clock.advance(6)
    assert store.reap() == 1
    second = claim_job(store, ids[0], worker="w2")
    store.complete(second.token, "second")
    with pytest.raises(LostClaimError):
        store.complete(first.token, "first")
    job = store.get_job(parent)
    assert (job.pending, job.status) == (1, "waiting")
    assert store.get_steps(parent)[0].value == "second"


def test_sliding_window_keeps_at_most_max_in_flight_children_runnable(store: Store) -> None:
    parent, ids = start_parent(store, 5, max_in_flight=2)
    assert [k.status for k in store.children(parent)] == ["queued", "queued", "blocked", "blocked", "blocked"]
    order = []
    while (c := store.claim("w", ANY_TAG, 10)) is not None and c.job.id != parent:
        order.append(c.job.id)
        live = [k.status for k in store.children(parent)].count("queued") + 1
        assert live <= 2
        store.complete(c.token, c.job.args["i"])
    assert order == ids  # promoted in input order
    assert store.get_job(parent).status == "running"


def test_sleep_writes_a_done_sleep_step_and_releases_the_claim(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.sleep(c.token, "sleep", clock.t + 10, logs="zz\n")
    (step,) = store.get_steps(job_id)
    assert (step.kind, step.done, step.started_at, step.finished_at) == ("sleep", True, clock.t, clock.t + 10)
    job = store.get_job(job_id)
    assert (job.status, job.scheduled_at) == ("queued", clock.t + 10)


def test_dispatching_a_key_that_is_already_done_creates_no_child(store: Store) -> None:
    parent, ids = start_parent(store, 1)
    store.complete(claim_job(store, ids[0]).token, "v")
    c = claim_job(store, parent)
    again = store.dispatch(c.token, [task("t_1"), task("t_2")])
    assert again[0] == ids[0]  # the existing child, not a new one
    assert len(store.children(parent)) == 2
    job = store.get_job(parent)
    assert (job.status, job.pending) == ("waiting", 1)
    assert store.get_steps(parent)[0].value == "v"


def test_a_dispatch_served_entirely_from_done_keys_requeues_the_parent(store: Store) -> None:
    parent, ids = start_parent(store, 1)
    store.complete(claim_job(store, ids[0]).token, "v")
    c = claim_job(store, parent)
    store.dispatch(c.token, [task("t_1")])
    assert store.get_job(parent).status == "queued"


def test_results_and_logs_with_unusual_text_round_trip(store: Store) -> None:
    job_id = store.submit(spec(args={"name": "caf\u00e9 \U0001f600"}))
    c = claim_job(store, job_id)
    value = {"bad_name": "file\udcff.txt", "nan": float("inf"), "nested": [{"é": None}]}
    store.complete(c.token, value, logs="r\u00e9sultat \udcff\n")
    assert store.get_job(job_id).result == value
    assert store.get_job(job_id).args == {"name": "caf\u00e9 \U0001f600"}
    assert store.read_logs(job_id)[0].text == "r\u00e9sultat \\udcff\n"
