"""``Store.together()``: a round's outcome and the slot's next claim in one commit (issue 17).

On SQLite the block is one transaction; on PostgreSQL each operation commits alone (its
lost-commit check needs each write whole). On both, an operation that raises undoes only
itself, and what one transaction wrote is undone whole when the block raises.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.engine.store.conftest import ANY_TAG, Backend, FakeClock, _sqlite, claim_job, spec, task
from wac.engine.store import Store
from wac.errors import LostClaimError


@pytest.fixture
def sqlite_backend(tmp_path: Path) -> Backend:
    return _sqlite(tmp_path)


def test_an_outcome_and_the_next_claim_inside_together_both_land(store: Store) -> None:
    parent = store.submit(spec())
    first = claim_job(store, parent)
    with store.together():
        (child_id,) = store.dispatch(first.token, [task("a_1", {"i": 1})])
        child = store.claim("w1", ANY_TAG, 30)
    assert child is not None and child.job.id == child_id
    assert store.get_job(parent).status == "waiting"
    assert store.get_job(child_id).status == "running"
    with store.together():
        store.complete(child.token, 7)
        again = store.claim("w1", ANY_TAG, 30)
    assert again is not None and again.job.id == parent  # the parent, runnable in the same commit
    assert {s.key: s.value for s in again.steps if s.done} == {"a_1": 7}


def test_an_operation_that_raises_inside_together_undoes_only_itself(store: Store) -> None:
    done = store.submit(spec())
    stale = claim_job(store, done)
    store.complete(stale.token, 1)
    other = store.submit(spec())
    with store.together():
        with pytest.raises(LostClaimError):
            store.complete(stale.token, 2)  # the claim is gone: nothing of it is written
        got = store.claim("w1", ANY_TAG, 30)
    assert got is not None and got.job.id == other
    assert store.get_job(done).result == 1
    assert store.get_job(other).status == "running"


def test_a_block_that_raises_leaves_the_store_consistent(store: Store) -> None:
    """SQLite undoes the whole block; PostgreSQL had committed each operation: either way the
    job is exactly in one of the states a crash between two commits could leave."""
    parent = store.submit(spec())
    first = claim_job(store, parent)
    with pytest.raises(RuntimeError):
        with store.together():
            store.dispatch(first.token, [task("a_1")])
            raise RuntimeError("the worker died here")
    status = store.get_job(parent).status
    children = store.children(parent)
    assert (status, len(children)) in {("running", 0), ("waiting", 1)}


def test_together_is_one_transaction_on_sqlite(sqlite_backend: Backend, clock: FakeClock) -> None:
    """(PostgreSQL commits each operation of the block alone: its lost-commit check needs each
    write whole.)"""
    backend = sqlite_backend
    store = backend.open(clock)
    store.migrate()
    store.put_bundle("b" * 64, {"main.py": "async def main(): ...\n"})
    reader = backend.open(clock)
    try:
        parent = store.submit(spec())
        first = claim_job(store, parent)
        with pytest.raises(RuntimeError), store.together():
            store.dispatch(first.token, [task("a_1")])
            seen = []
            t = threading.Thread(target=lambda: seen.append(reader.get_job(parent).status))
            t.start()
            t.join()
            assert seen == ["running"]  # another connection sees nothing before the commit
            raise RuntimeError("undo")
        assert store.get_job(parent).status == "running" and store.children(parent) == []
        with store.together(), store.together():  # nested: joins the outer transaction
            store.dispatch(first.token, [task("a_1")])
        assert reader.get_job(parent).status == "waiting"
    finally:
        reader.close()
        store.close()


def test_a_claim_inside_together_wakes_no_idle_slot_for_the_job_it_took(sqlite_backend: Backend,
                                                                        clock: FakeClock) -> None:
    """The commit wakes this process's idle slots (G5) only when something is left for them to
    claim: a sequential task's child, taken by the slot that dispatched it, wakes nobody."""
    backend = sqlite_backend  # PostgreSQL's wake-ups are its NOTIFY, sent per commit
    store = backend.open(clock)
    store.migrate()
    store.put_bundle("b" * 64, {"main.py": "async def main(): ...\n"})
    try:
        first = claim_job(store, store.submit(spec()))
        before = _work_counter(store)
        with store.together():
            store.dispatch(first.token, [task("a_1")])
            assert store.claim("w1", ANY_TAG, 30) is not None
        assert _work_counter(store) == before  # nothing left: no slot woken
        second = claim_job(store, store.submit(spec()))
        before = _work_counter(store)
        with store.together():
            store.dispatch(second.token, [task("b_1"), task("b_2")])
            assert store.claim("w1", ANY_TAG, 30) is not None
        assert _work_counter(store) == before + 1  # b_2 is left for an idle slot
        assert store.claim("w1", ANY_TAG, 30) is not None
        third = claim_job(store, store.submit(spec()))
        before = _work_counter(store)
        store.dispatch(third.token, [task("c_1")])  # outside a block: wakes as always
        assert _work_counter(store) == before + 1
    finally:
        store.close()


def _work_counter(store: Store) -> int:
    """The in-process counter of commits that may make work runnable (SQLite's waker)."""
    return int(store.change_token()[0])
