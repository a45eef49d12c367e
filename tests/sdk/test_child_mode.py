"""Child mode (``_executing_key``): exactly one task runs, its value or its own exception."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from wac import TaskError, sleep, step, task, wait_for_approval, workflow
from wac.errors import NonDeterminismError
from wac.sdk import NotJsonSerializableError, run_round

ran: list[str] = []


@pytest.fixture(autouse=True)
def _reset() -> None:
    ran.clear()


@task
async def a(x: int) -> int:
    ran.append("a")
    return x + 1


@task
async def b(x: int) -> int:
    ran.append("b")
    return x + 2


def child(main: Any, key: str, completed: dict[str, Any] | None = None, **args: Any) -> dict[str, Any]:
    return run_round(main, {"completed_steps": completed or {}, "_executing_key": key}, args)


def test_child_runs_only_its_task_and_completes_with_its_value() -> None:
    @workflow
    async def main() -> int:
        return await a(1) + await b(2)

    assert child(main, "b", {"a": 2}) == {"type": "complete", "result": 4}
    assert ran == ["b"]


def test_child_under_gather_finishes_while_sibling_calls_park() -> None:
    @workflow
    async def main() -> list[int]:
        return list(await asyncio.gather(a(1), b(1)))

    assert child(main, "a") == {"type": "complete", "result": 2}
    assert child(main, "b") == {"type": "complete", "result": 3}
    assert ran == ["a", "b"]


def test_child_of_a_later_awaited_call_does_not_deadlock() -> None:
    # wmill parks forever on `await x` in the child of b: wac joins the executing call instead.
    @workflow
    async def main() -> int:
        x = a(1)
        y = b(1)
        return await x + await y

    assert child(main, "b") == {"type": "complete", "result": 3}


def test_child_failure_raises_the_tasks_own_exception_type() -> None:
    @task
    async def broken() -> None:
        raise LookupError("nothing here")

    @workflow
    async def main() -> str:
        try:
            await broken()
        except Exception:
            return "the body must not turn the child's failure into a value"
        return "no"

    with pytest.raises(LookupError, match="nothing here"):
        child(main, "broken")


def test_a_child_returning_a_non_serialisable_value_fails_naming_the_key() -> None:
    class Foo:
        pass

    @task
    async def make() -> Any:
        return Foo()

    @workflow
    async def main() -> Any:
        return await make()

    with pytest.raises(NotJsonSerializableError, match="task 'make' returned a value that is not JSON-serialisable: object of type Foo"):
        child(main, "make")


def test_child_result_is_json_round_tripped() -> None:
    @task
    def when() -> Any:
        return (datetime.date(2024, 5, 1), {1: "x"})

    @workflow
    async def main() -> Any:
        return await when()

    assert child(main, "when")["result"] == ["2024-05-01", {"1": "x"}]


def test_inside_a_task_body_nested_tasks_and_steps_run_in_place_and_sleep_is_local() -> None:
    @task
    async def outer() -> list[Any]:
        inner = await a(10)
        s = await step("s", lambda: (1,))
        await sleep(0)
        return [inner, s]

    @workflow
    async def main() -> Any:
        return await outer()

    assert child(main, "outer") == {"type": "complete", "result": [11, [1]]}
    assert ran == ["a"]


def test_a_sync_task_calling_a_sync_task_gets_the_value() -> None:
    @task
    def inner(x: int) -> tuple[int, int]:
        return (x, x)

    @task
    def outer() -> Any:
        return inner(3)

    @workflow
    async def main() -> Any:
        return await outer()

    assert child(main, "outer")["result"] == [3, 3]


def test_approval_inside_a_task_body_is_refused() -> None:
    @task
    async def sneaky() -> None:
        await wait_for_approval()

    @workflow
    async def main() -> None:
        await sneaky()

    with pytest.raises(RuntimeError, match="cannot be called from inside a task"):
        child(main, "sneaky")


def test_retry_attempt_child_skips_the_backoff_and_runs_the_attempt() -> None:
    @task(retry={"attempts": 2, "delay": 5})
    async def flaky() -> str:
        return "second time lucky"

    @workflow
    async def main() -> str:
        return await flaky()

    marker = {"__wmill_error": True, "message": "first", "step_key": "flaky"}
    completed = {"flaky": marker, "flaky#retry2": None}
    assert child(main, "flaky#2", completed) == {"type": "complete", "result": "second time lucky"}


def test_child_that_never_reaches_its_key_is_reported_as_non_deterministic() -> None:
    @workflow
    async def main() -> str:
        return "done"

    with pytest.raises(Exception, match="ended without calling it"):
        child(main, "a")


def test_a_caught_task_error_replays_in_child_mode_too() -> None:
    @task
    async def bad() -> None:
        raise ValueError("x")

    @workflow
    async def main() -> int:
        try:
            await bad()
        except TaskError:
            pass
        return await a(1)

    marker = {"__wmill_error": True, "message": "x", "step_key": "bad"}
    assert child(main, "a", {"bad": marker}) == {"type": "complete", "result": 2}


def test_a_child_whose_body_waits_on_another_call_fails_as_non_deterministic() -> None:
    # the parent dispatched 'a'; this replay calls 'b' first and would wait forever in wmill
    @workflow
    async def main(flag: bool) -> int:
        if flag:
            return await b(1)
        return await a(1)

    with pytest.raises(NonDeterminismError, match="earlier rounds called 'a' here, this round called 'b'"):
        child(main, "a", flag=True)


def test_a_parked_child_waits_for_timers_before_declaring_a_deadlock() -> None:
    async def late() -> int:
        await asyncio.sleep(0.05)
        return await a(2)

    @workflow
    async def main() -> list[int]:
        return list(await asyncio.gather(b(1), late()))

    assert child(main, "a") == {"type": "complete", "result": 3}


def test_a_broad_except_in_the_body_cannot_swallow_the_deadlock_failure() -> None:
    @workflow
    async def main() -> str:
        try:
            await b(1)
        except Exception:
            return "swallowed"
        return "no"

    with pytest.raises(NonDeterminismError):
        child(main, "a")


def test_a_child_asked_to_execute_a_task_script_key_fails_clearly() -> None:
    from wac import task_script

    extract = task_script("f/data/extract")

    @workflow
    async def main() -> Any:
        return await extract(x=1)

    with pytest.raises(RuntimeError, match="'extract' is a script step: the engine runs f/data/extract"):
        child(main, "extract")
