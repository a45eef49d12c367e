"""Rounds driven by the in-test engine: outcomes, replay, child mode, failures."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sdk.driver import Driver
from wac import TaskError, parallel, sleep, step, task, task_flow, task_script, wait_for_approval, workflow
from wac.sdk import run_round

calls: list[str] = []


@pytest.fixture(autouse=True)
def _reset_calls() -> None:
    calls.clear()


@task
async def fetch(x: int) -> int:
    calls.append(f"fetch({x})")
    return x * 10


@task
def double(x: int) -> int:
    calls.append(f"double({x})")
    return x * 2


@task
async def explode(reason: str) -> None:
    calls.append("explode")
    raise ValueError(reason)


def drive(main: Any, **args: Any) -> Driver:
    return Driver(run_round, main, args)


def test_sequential_tasks_dispatch_one_per_round_and_complete_with_the_result() -> None:
    @workflow
    async def main(n: int) -> int:
        a = await fetch(n)
        b = await double(a)
        return a + b

    d = drive(main, n=2)
    assert d.finish() == 60
    assert [o["type"] for o in d.outcomes] == ["dispatch", "dispatch", "complete"]
    first = d.outcomes[0]
    assert first == {
        "type": "dispatch",
        "mode": "sequential",
        "steps": [{"name": "fetch", "script": "fetch", "args": {"x": 2}, "key": "fetch", "dispatch_type": "inline"}],
    }
    assert d.children == ["fetch", "double"]
    assert calls == ["fetch(2)", "double(20)"]  # each task body ran once, in its child


def test_gathered_tasks_are_dispatched_together_in_parallel_mode() -> None:
    @workflow
    async def main() -> list[int]:
        return list(await asyncio.gather(fetch(1), fetch(2), double(3)))

    d = drive(main)
    assert d.finish() == [10, 20, 6]
    dispatch = d.outcomes[0]
    assert dispatch["mode"] == "parallel"
    assert [s["key"] for s in dispatch["steps"]] == ["fetch", "fetch_2", "double"]
    assert len(d.outcomes) == 2


def test_parallel_with_concurrency_dispatches_everything_with_a_sliding_window() -> None:
    @workflow
    async def main() -> list[int]:
        return await parallel([1, 2, 3, 4, 5], fetch, concurrency=2)

    d = drive(main)
    assert d.finish() == [10, 20, 30, 40, 50]
    dispatch = d.outcomes[0]
    assert dispatch["max_in_flight"] == 2
    assert [s["key"] for s in dispatch["steps"]] == ["fetch", "fetch_2", "fetch_3", "fetch_4", "fetch_5"]
    assert len(d.outcomes) == 2


def test_parallel_without_concurrency_dispatches_all_items_without_a_window() -> None:
    @workflow
    async def main() -> list[int]:
        await fetch(0)
        await fetch(0)
        return await parallel([10, 20, 30], fetch)

    d = drive(main)
    assert d.finish() == [100, 200, 300]
    assert "max_in_flight" not in d.outcomes[2]
    assert [s["key"] for s in d.outcomes[2]["steps"]] == ["fetch_3", "fetch_4", "fetch_5"]


def test_parallel_over_a_plain_coroutine_function_batches_like_wmill() -> None:
    async def twice(x: int) -> int:
        return await double(x) + await double(x + 1)

    @workflow
    async def main() -> list[int]:
        return await parallel([1, 2], twice, concurrency=1)

    d = drive(main)
    assert d.finish() == [2 + 4, 4 + 6]
    assert all("max_in_flight" not in o for o in d.outcomes)
    assert d.children == ["double", "double_2", "double_3", "double_4"]


def test_a_branch_on_a_task_result_is_replayed_the_same_way() -> None:
    @workflow
    async def main(n: int) -> str:
        if await fetch(n) > 15:
            return f"big {await double(n)}"
        return "small"

    assert drive(main, n=2).finish() == "big 4"
    assert drive(main, n=1).finish() == "small"


def test_a_step_body_runs_exactly_once_and_its_value_is_replayed() -> None:
    runs: list[int] = []

    def roll() -> int:
        runs.append(1)
        return 4

    @workflow
    async def main() -> list[int]:
        a = await step("roll", roll)
        b = await fetch(a)
        return [a, b]

    d = drive(main)
    assert d.finish() == [4, 40]
    assert len(runs) == 1
    assert d.outcomes[0]["type"] == "inline_checkpoint"
    assert d.outcomes[0]["key"] == "roll" and d.outcomes[0]["result"] == 4
    assert isinstance(d.outcomes[0]["started_at"], str) and isinstance(d.outcomes[0]["duration_ms"], int)


def test_a_failed_task_raises_task_error_and_the_fallback_task_runs() -> None:
    @workflow
    async def main() -> dict[str, Any]:
        try:
            await explode("disk full")
        except TaskError as exc:
            fallback = await double(21)
            return {"message": str(exc), "key": exc.step_key, "job": exc.child_job_id, "fallback": fallback}
        return {}

    d = drive(main)
    assert d.finish() == {"message": "disk full", "key": "explode", "job": "job-explode", "fallback": 42}
    assert d.completed["explode"]["__wmill_error"] is True


def test_a_failed_task_is_not_caught_by_except_of_its_original_type() -> None:
    @workflow
    async def main() -> str:
        try:
            await explode("x")
        except ValueError:
            return "caught ValueError"
        return "no"

    with pytest.raises(TaskError, match="^x$"):
        drive(main).finish()


def test_a_failed_step_stores_a_marker_and_raises_task_error_on_replay() -> None:
    class Boom(Exception):
        def __init__(self, msg: str) -> None:
            super().__init__(msg)
            self.code = 418

    def bad() -> None:
        raise Boom("teapot")

    @workflow
    async def main() -> Any:
        try:
            await step("brew", bad)
        except TaskError as exc:
            return exc.result["error"]
        return None

    d = drive(main)
    error = d.finish()
    assert error["name"] == "Boom" and error["message"] == "teapot"
    assert error["extra"] == {"code": 418}
    assert "raise Boom" in error["stack"] and "run_inline_step" not in error["stack"]
    marker = d.outcomes[0]["result"]
    assert marker["__wmill_error"] is True and marker["step_key"] == "brew"


def test_retry_allocates_backoff_and_attempt_keys_and_sleeps_between_attempts() -> None:
    attempts: list[int] = []

    @task(retry={"attempts": 3, "delay": 2, "multiplier": 3, "max_delay": 10})
    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 4:
            raise RuntimeError(f"try {len(attempts)}")
        return "ok"

    @workflow
    async def main() -> str:
        return await flaky()

    d = drive(main)
    assert d.finish() == "ok"
    assert d.children == ["flaky", "flaky#2", "flaky#3", "flaky#4"]
    assert d.slept == [("flaky#retry2", 2), ("flaky#retry3", 6), ("flaky#retry4", 10)]


def test_retry_exhausted_raises_the_last_attempts_task_error() -> None:
    @task(retry={"attempts": 1})
    async def always() -> None:
        raise RuntimeError("still broken")

    @workflow
    async def main() -> Any:
        try:
            await always()
        except TaskError as exc:
            return exc.step_key
        return None

    d = drive(main)
    assert d.finish() == "always#2"
    assert d.slept == []  # no delay configured: no backoff sleep


def test_retry_keys_are_reserved_up_front_so_later_calls_keep_their_keys() -> None:
    @task(retry={"attempts": 2})
    async def pick() -> int:
        return 1

    @workflow
    async def main() -> list[int]:
        a = await pick()
        b = await step("pick#2", lambda: 5)
        return [a, b]

    d = drive(main)
    assert d.finish() == [1, 5]
    assert d.outcomes[1]["key"] == "pick#2_2"


def test_invalid_retry_policy_is_rejected_at_decoration() -> None:
    with pytest.raises(ValueError, match="unknown retry option"):
        task(retry={"attempts": 1, "delays": 3})
    with pytest.raises(ValueError, match="between 0 and 100"):
        task(retry={"attempts": 101})


def test_sleep_returns_a_sleep_outcome_with_at_least_one_second() -> None:
    @workflow
    async def main() -> str:
        await sleep(0.2)
        await sleep(90)
        return "awake"

    d = drive(main)
    assert d.finish() == "awake"
    assert d.outcomes[0] == {"type": "sleep", "key": "sleep", "seconds": 1}
    assert d.outcomes[1] == {"type": "sleep", "key": "sleep_2", "seconds": 90}


def test_approval_suspends_and_returns_the_stored_payload_on_replay() -> None:
    @workflow
    async def main() -> Any:
        answer = await wait_for_approval(timeout=60, form={"type": "object"})
        return answer

    d = Driver(run_round, main, approvals=[{"value": {"ok": 1}, "approver": "ann", "approved": True}])
    assert d.finish() == {"value": {"ok": 1}, "approver": "ann", "approved": True}
    assert d.outcomes[0] == {
        "type": "approval", "key": "approval", "timeout": 60, "form": {"type": "object"},
        "skin": None, "description": None,
    }


def test_a_timed_out_approval_raises_task_error() -> None:
    @workflow
    async def main() -> str:
        try:
            await wait_for_approval(key="manager")
        except TaskError as exc:
            return f"timed out: {exc}"
        return "approved"

    marker = {"__wmill_error": True, "message": "approval timed out", "step_key": "manager", "result": {}}
    assert Driver(run_round, main, approvals=[marker]).finish() == "timed out: approval timed out"


def test_an_explicit_approval_key_used_twice_is_refused() -> None:
    @workflow
    async def main() -> None:
        await step("manager", lambda: 1)
        await wait_for_approval(key="manager")

    with pytest.raises(RuntimeError, match='"manager" is already used'):
        drive(main).finish()


def test_an_unusable_approval_key_is_refused() -> None:
    @workflow
    async def main() -> None:
        await wait_for_approval(key="a/b")

    with pytest.raises(RuntimeError, match="without `/`"):
        run_round(main, {"completed_steps": {}}, {})


def test_self_approval_disabled_is_passed_to_the_engine() -> None:
    @workflow
    async def main() -> None:
        await wait_for_approval(self_approval=False)

    out = run_round(main, {"completed_steps": {}}, {})
    assert out["self_approval_disabled"] is True


def test_task_script_and_task_flow_dispatch_with_their_path_and_options() -> None:
    extract = task_script("f/data/extract", timeout=600, tag="gpu", concurrency_limit=2)
    pipeline = task_flow("f/etl/pipeline", priority=10)

    @workflow
    async def main() -> list[Any]:
        return list(await asyncio.gather(extract(url="u"), pipeline(input=1)))

    out = run_round(main, {"completed_steps": {}}, {})
    assert out["steps"] == [
        {"name": "extract", "script": "f/data/extract", "args": {"url": "u"}, "key": "extract",
         "dispatch_type": "script", "timeout": 600, "tag": "gpu", "concurrent_limit": 2},
        {"name": "pipeline", "script": "f/etl/pipeline", "args": {"input": 1}, "key": "pipeline",
         "dispatch_type": "flow", "priority": 10},
    ]


def test_task_options_and_positional_args_are_mapped_onto_the_dispatched_step() -> None:
    @task(path="f/x/remote", timeout=30, cache_ttl=60, concurrency_key="k", concurrency_time_window_s=5)
    async def remote(a: int, b: int = 2, *rest: int) -> None:
        return None

    @workflow
    async def main() -> None:
        await remote(1, 3, 9)

    out = run_round(main, {"completed_steps": {}}, {})
    assert out["steps"] == [
        {"name": "remote", "script": "f/x/remote", "args": {"a": 1, "b": 3, "rest": 9}, "key": "remote",
         "dispatch_type": "inline", "timeout": 30, "cache_ttl": 60, "concurrency_key": "k",
         "concurrency_time_window_s": 5},
    ]


def test_a_task_called_but_never_awaited_is_still_dispatched() -> None:
    @workflow
    async def main() -> str:
        fetch(5)
        return "done"

    out = run_round(main, {"completed_steps": {}}, {})
    assert out["type"] == "dispatch" and out["steps"][0]["key"] == "fetch"
    child = run_round(main, {"completed_steps": {}, "_executing_key": "fetch"}, {})
    assert child == {"type": "complete", "result": 50}


def test_sync_main_is_supported() -> None:
    def main(x: int) -> dict[str, int]:
        return {"x": x}

    assert run_round(main, {"completed_steps": {}}, {"x": 3}) == {"type": "complete", "result": {"x": 3}}


def test_workflow_result_is_json_round_tripped() -> None:
    @workflow
    async def main() -> Any:
        return {"t": (1, 2), 3: "int key"}

    assert run_round(main, {"completed_steps": {}}, {})["result"] == {"t": [1, 2], "3": "int key"}


def test_an_exception_escaping_the_body_propagates_with_its_type() -> None:
    @workflow
    async def main() -> None:
        raise KeyError("missing")

    with pytest.raises(KeyError):
        run_round(main, {"completed_steps": {}}, {})


def test_suspension_is_not_swallowed_by_a_broad_except_exception() -> None:
    @workflow
    async def main() -> str:
        try:
            await fetch(1)
        except Exception:
            return "swallowed"
        return "after"

    assert run_round(main, {"completed_steps": {}}, {})["type"] == "dispatch"


def test_a_failed_task_the_body_never_awaited_still_fails_the_workflow() -> None:
    @workflow
    async def main() -> str:
        explode("fire and forget")
        return "returned"

    with pytest.raises(TaskError, match="fire and forget"):
        drive(main).finish()


def test_an_awaited_failure_raises_where_it_is_awaited_not_where_it_is_called() -> None:
    @workflow
    async def main() -> Any:
        pending = explode("late")
        other = await fetch(1)
        try:
            await pending
        except TaskError as exc:
            return [other, str(exc)]
        return None

    assert drive(main).finish() == [10, "late"]
