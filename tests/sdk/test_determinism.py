"""Non-determinism detection against the engine's ``_key_order``."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.sdk.driver import Driver
from wac import TaskError, step, task, workflow
from wac.errors import NonDeterminismError, WacError
from wac.sdk import run_round


@task
async def fetch(x: int = 0) -> int:
    return x


@task
async def other(x: int = 0) -> int:
    return x


@task
async def broken() -> None:
    raise ValueError("no")


def test_a_different_call_than_earlier_rounds_made_is_reported_naming_both_keys() -> None:
    @workflow
    async def main(flip: bool) -> None:
        if flip:
            await other()
        else:
            await fetch()
        await step("end", lambda: 1)

    cp = {"completed_steps": {"fetch": 0}, "_key_order": ["fetch"]}
    with pytest.raises(NonDeterminismError) as info:
        run_round(main, cp, {"flip": True})
    assert str(info.value) == "workflow is not deterministic: earlier rounds called 'fetch' here, this round called 'other'"
    assert isinstance(info.value, WacError) and info.value.hint


def test_a_round_that_completes_without_a_recorded_key_is_reported() -> None:
    @workflow
    async def main(skip: bool) -> str:
        if not skip:
            await fetch()
        return "done"

    cp = {"completed_steps": {"fetch": 0}, "_key_order": ["fetch"]}
    assert run_round(main, cp, {"skip": False}) == {"type": "complete", "result": "done"}
    with pytest.raises(NonDeterminismError, match="called 'fetch' here, this round ended without calling it"):
        run_round(main, cp, {"skip": True})


def test_recorded_keys_called_in_another_order_are_reported() -> None:
    @workflow
    async def main(swap: bool) -> None:
        if swap:
            await other()
            await fetch()
        else:
            await fetch()
            await other()

    cp = {"completed_steps": {"fetch": 0, "other": 0}, "_key_order": ["fetch", "other"]}
    assert run_round(main, cp, {"swap": False})["type"] == "complete"
    with pytest.raises(NonDeterminismError, match="earlier rounds called 'fetch' here, this round called 'other'"):
        run_round(main, cp, {"swap": True})


def test_a_deterministic_workflow_never_trips_the_check_through_a_full_run() -> None:
    @task(retry={"attempts": 2, "delay": 1})
    async def flaky(n: int) -> int:
        raise RuntimeError("always")

    @workflow
    async def main() -> Any:
        s = await step("s", lambda: 1)
        pair = await asyncio.gather(step("t", lambda: 2), fetch(3))
        x = fetch(4)
        y = other(5)
        values = [await y, await x]
        try:
            await asyncio.gather(flaky(1), fetch(6))
        except TaskError:
            values.append(await other(7))
        try:
            await broken()
        except TaskError:
            values.append(-1)
        return [s, list(pair), values]

    d = Driver(run_round, main)
    assert d.finish() == [1, [2, 3], [5, 4, 7, -1]]
    assert "flaky#retry3" in d.order


def test_reserved_retry_keys_that_were_never_recorded_do_not_trip_the_check() -> None:
    @task(retry={"attempts": 5})
    async def flaky() -> str:
        return "ok"

    @workflow
    async def main() -> str:
        return await flaky()

    cp = {"completed_steps": {"flaky": "ok"}, "_key_order": ["flaky"]}
    assert run_round(main, cp, {}) == {"type": "complete", "result": "ok"}


def test_child_mode_is_not_checked() -> None:
    @workflow
    async def main() -> int:
        return await other(1)

    cp = {"completed_steps": {"fetch": 0}, "_key_order": ["fetch", "other"], "_executing_key": "other"}
    assert run_round(main, cp, {}) == {"type": "complete", "result": 1}


def test_without_key_order_nothing_is_checked() -> None:
    @workflow
    async def main() -> str:
        return "whatever"

    assert run_round(main, {"completed_steps": {"fetch": 0}}, {})["type"] == "complete"


def test_keys_recorded_but_not_completed_are_ignored() -> None:
    @workflow
    async def main() -> int:
        return await other(2)

    cp = {"completed_steps": {"other": 2}, "_key_order": ["fetch", "other"]}
    assert run_round(main, cp, {}) == {"type": "complete", "result": 2}
