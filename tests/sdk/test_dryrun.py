"""Dry rounds: new code replayed over a run's recorded steps, running nothing (issue 14 §1)."""

from __future__ import annotations

import asyncio
from typing import Any

from wac import get_resume_urls, parallel, sleep, step, task, wait_for_approval, workflow
from wac.sdk import run_round
from wac.sdk.dryrun import END, dry_replay

RAN: list[str] = []


@task
async def a() -> str:
    RAN.append("a")
    return "a"


@task
async def b() -> str:
    RAN.append("b")
    return "b"


@task
async def c() -> str:
    RAN.append("c")
    return "c"


def body_never_runs() -> int:
    RAN.append("step body")
    return 1


# Recorded: a done, then suspended on the approval.
SUSPENDED = [["a", True, "a"], ["approval", False, None]]


@workflow
async def v1() -> Any:
    x = await a()
    await wait_for_approval(timeout=60)
    return [x, await b()]


def test_the_same_code_is_compatible_with_a_run_suspended_on_an_approval() -> None:
    verdict = dry_replay(v1, SUSPENDED, {})
    assert verdict == {"compatible": True, "stop": "approval 'approval'", "recorded": None, "new": None,
                       "message": None}


def test_reordered_tasks_diverge_at_the_first_recorded_key() -> None:
    @workflow
    async def reordered() -> Any:
        y = await b()
        x = await a()
        await wait_for_approval(timeout=60)
        return [x, y]

    verdict = dry_replay(reordered, SUSPENDED, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"]) == (False, "a", "b")
    done_both = [["a", True, "a"], ["b", True, "b"]]
    verdict = dry_replay(reordered, done_both, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"]) == (False, "a", "b")


def test_a_renamed_task_before_the_suspension_diverges() -> None:
    @workflow
    async def renamed() -> Any:
        x = await c()
        await wait_for_approval(timeout=60)
        return x

    verdict = dry_replay(renamed, SUSPENDED, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"], verdict["stop"]) == (False, "a", "c", "task 'c'")


def test_a_task_added_after_the_suspension_point_is_compatible() -> None:
    @workflow
    async def added() -> Any:
        x = await a()
        await wait_for_approval(timeout=60)
        return [x, await c(), await b()]

    assert dry_replay(added, SUSPENDED, {})["compatible"] is True


def test_a_step_added_before_the_approval_the_run_waits_on_diverges_without_running_it() -> None:
    RAN.clear()

    @workflow
    async def added_before() -> Any:
        x = await a()
        await step("extra", body_never_runs)
        await wait_for_approval(timeout=60)
        return x

    verdict = dry_replay(added_before, SUSPENDED, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"], verdict["stop"]) == (
        False, "approval", "extra", "step 'extra'")
    assert RAN == []  # neither the step body nor any task ran


def test_a_branch_changed_before_the_suspension_point_diverges() -> None:
    @workflow
    async def branchy(fast: bool) -> Any:
        x = await (a() if not fast else c())
        await wait_for_approval(timeout=60)
        return x

    assert dry_replay(branchy, SUSPENDED, {"fast": False})["compatible"] is True
    verdict = dry_replay(branchy, SUSPENDED, {"fast": True})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"]) == (False, "a", "c")


def test_a_sleeping_run_replays_past_its_sleep_and_stops_at_the_next_new_key() -> None:
    @workflow
    async def sleepy() -> Any:
        x = await a()
        await sleep(3600)
        return [x, await b()]

    recorded = [["a", True, "a"], ["sleep", True, None]]
    assert dry_replay(sleepy, recorded, {}) == {"compatible": True, "stop": "task 'b'", "recorded": None,
                                                "new": None, "message": None}

    @workflow
    async def no_sleep() -> Any:
        x = await a()
        return [x, await b()]

    verdict = dry_replay(no_sleep, recorded, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"]) == (False, "sleep", "b")


def test_a_run_waiting_on_children_needs_the_code_to_stop_at_the_keys_in_flight() -> None:
    @workflow
    async def fan() -> Any:
        return await asyncio.gather(a(), b())

    waiting = [["a", True, "a"], ["b", False, None]]
    verdict = dry_replay(fan, waiting, {})
    assert verdict["compatible"] is True and verdict["stop"] == "task 'b'"

    @workflow
    async def fan_renamed() -> Any:
        return await asyncio.gather(a(), c())

    verdict = dry_replay(fan_renamed, waiting, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"]) == (False, "b", "c")

    @workflow
    async def fan_wider() -> Any:  # a task added beside the one in flight: still carried on
        return await parallel([1, 2, 3], lambda i: [a, b, c][i - 1]())

    assert dry_replay(fan_wider, waiting, {})["compatible"] is True


def test_a_finished_run_is_compatible_when_the_code_completes_over_its_steps() -> None:
    finished = [["a", True, "a"], ["approval", True, {"approved": True}], ["b", True, "b"]]
    assert dry_replay(v1, finished, {})["stop"] == "completes"

    @workflow
    async def shorter() -> Any:
        return await a()

    verdict = dry_replay(shorter, finished, {})
    assert (verdict["compatible"], verdict["recorded"], verdict["new"]) == (False, "approval", END)


def test_get_resume_urls_works_in_a_dry_round_and_prints_go_nowhere(capsys: Any) -> None:
    @workflow
    async def urls() -> Any:
        print("hello from the body")
        get_resume_urls()
        await wait_for_approval(timeout=60)

    assert dry_replay(urls, [["approval", False, None]], {})["compatible"] is True
    assert capsys.readouterr().out == ""


def test_a_real_round_still_runs_step_bodies() -> None:
    RAN.clear()

    @workflow
    async def one() -> Any:
        return await step("s", body_never_runs)

    assert run_round(one, {}, {})["type"] == "inline_checkpoint" and RAN == ["step body"]
