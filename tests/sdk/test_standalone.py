"""Outside a workflow round: the primitives run in place, like ``wmill``'s standalone mode."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from wac import parallel, sleep, step, task, task_flow, task_script, wait_for_approval, workflow


@task
async def fetch(x: int) -> tuple[int, datetime.date]:
    return (x, datetime.date(2024, 2, 3))


@task(timeout=5)
def add(a: int, b: int) -> tuple[int, int]:
    return (a, a + b)


def test_an_async_task_called_standalone_runs_and_round_trips_its_value() -> None:
    assert asyncio.run(fetch(1)) == [1, "2024-02-03"]


def test_a_sync_task_called_standalone_returns_its_round_tripped_value() -> None:
    assert add(1, b=2) == [1, 3]


def test_a_workflow_runs_as_a_plain_coroutine_outside_the_engine() -> None:
    @workflow
    async def main() -> Any:
        a = await fetch(2)
        b = await step("b", lambda: (5,))
        await sleep(0)
        c = await parallel([1, 2, 3], fetch, concurrency=2)
        return [a, b, c]

    assert main._is_workflow is True
    assert asyncio.run(main()) == [[2, "2024-02-03"], [5], [[n, "2024-02-03"] for n in (1, 2, 3)]]


def test_parallel_accepts_sync_tasks_outside_a_workflow() -> None:
    assert asyncio.run(parallel([1, 2], lambda x: add(x, 1))) == [[1, 2], [2, 3]]


def test_parallel_of_nothing_is_an_empty_list() -> None:
    assert asyncio.run(parallel([], fetch)) == []


def test_approval_and_remote_tasks_need_a_workflow() -> None:
    with pytest.raises(RuntimeError, match="wait_for_approval can only be called inside a @workflow"):
        asyncio.run(wait_for_approval())
    with pytest.raises(RuntimeError, match=r'task_script\("f/a/b"\) can only be called inside a @workflow'):
        task_script("f/a/b")(x=1)
    with pytest.raises(RuntimeError, match=r'task_flow\("f/a/c"\) can only be called inside a @workflow'):
        task_flow("f/a/c")()


def test_task_keeps_the_decorated_functions_identity() -> None:
    assert add.__name__ == "add" and add.__wac_task__.path is None
    assert add.__wac_task__.options == {"timeout": 5}
    assert task_script("f/x/extract").__name__ == "extract"


def test_a_task_carries_one_mark_whatever_made_it() -> None:
    from wac.sdk.task import TaskDef, task_def

    extract = task_script("./extract.py")
    flow = task_flow("f/x/etl")
    assert [task_def(t).dispatch_type for t in (add, extract, flow)] == ["inline", "script", "flow"]  # type: ignore[union-attr]
    assert task_def(extract).path == "./extract.py" and task_def(lambda: 1) is None  # type: ignore[union-attr]
    for marked in (add, extract, flow):
        assert [a for a in ("_is_task", "_task_path") if hasattr(marked, a)] == []
        assert isinstance(marked.__wac_task__, TaskDef)


def test_task_can_be_used_with_empty_parentheses() -> None:
    @task()
    def plain() -> int:
        return 1

    assert plain() == 1
