"""Key allocation (§4.3): name-based keys, collisions, parallel counters, peek."""

from __future__ import annotations

import asyncio
from typing import Any

from wac import get_resume_urls, parallel, sleep, step, task, wait_for_approval, workflow
from wac.sdk import run_round
from wac.sdk.keys import KeyAllocator


def test_repeated_names_get_numbered_keys() -> None:
    keys = KeyAllocator()
    assert [keys.alloc("fetch") for _ in range(3)] == ["fetch", "fetch_2", "fetch_3"]


def test_a_suffixed_name_never_aliases_an_earlier_key() -> None:
    keys = KeyAllocator()
    assert [keys.alloc(n) for n in ("x", "x", "x_2", "x")] == ["x", "x_2", "x_2_2", "x_3"]


def test_peek_returns_the_next_key_without_consuming_it() -> None:
    keys = KeyAllocator()
    keys.alloc("approval")
    assert keys.peek("approval") == "approval_2"
    assert keys.peek("approval") == "approval_2"
    assert keys.alloc("approval") == "approval_2"


@task
async def fetch(x: int) -> int:
    return x


def test_parallel_calls_continue_the_counter_of_earlier_calls() -> None:
    @workflow
    async def main() -> Any:
        await fetch(1)
        await fetch(2)
        return await parallel([10, 20, 30], fetch)

    out = run_round(main, {"completed_steps": {"fetch": 1, "fetch_2": 2}}, {})
    assert [s["key"] for s in out["steps"]] == ["fetch_3", "fetch_4", "fetch_5"]


def test_tasks_steps_sleeps_and_approvals_share_one_allocator() -> None:
    @workflow
    async def main() -> None:
        await step("sleep", lambda: 1)
        await sleep(3)
        await step("approval", lambda: 2)
        await wait_for_approval()

    done = {"sleep": 1, "sleep_2": None, "approval": 2}
    out = run_round(main, {"completed_steps": done}, {})
    assert out["type"] == "approval" and out["key"] == "approval_2"


def test_empty_step_name_falls_back_to_step() -> None:
    @workflow
    async def main() -> None:
        await step("", lambda: 1)

    assert run_round(main, {"completed_steps": {}}, {})["key"] == "step"


class Host:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str | None]] = []

    def commit_step(self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool) -> bool:
        return True

    def resume_urls(self, approval_key: str, approver: str | None) -> dict[str, str]:
        self.asked.append((approval_key, approver))
        return {"approvalPage": f"page/{approval_key}", "resume": f"r/{approval_key}", "cancel": f"c/{approval_key}"}

    def note_direct(self, key: str, target: str) -> None:
        pass

    def park(self, outcome: Any) -> None:
        return None


def test_get_resume_urls_names_the_next_approval_key_without_consuming_it() -> None:
    host = Host()

    @workflow
    async def main() -> None:
        first = await step("urls", lambda: get_resume_urls())
        await wait_for_approval()
        second = await step("urls", lambda: get_resume_urls("bob"))
        await wait_for_approval()
        return [first, second]

    approved = {"value": None, "approver": "a", "approved": True}
    out = run_round(main, {"completed_steps": {}}, {}, host)
    assert out == {"type": "approval", "key": "approval", "timeout": 1800, "form": None, "skin": None, "description": None}
    out = run_round(main, {"completed_steps": {"urls": {"resume": "r/approval"}, "approval": approved}}, {}, host)
    assert out["key"] == "approval_2"
    assert host.asked == [("approval", None), ("approval_2", "bob")]


def test_get_resume_urls_outside_the_engine_raises_runtime_error() -> None:
    import pytest

    with pytest.raises(RuntimeError, match="get_resume_urls"):
        get_resume_urls()

    @workflow
    async def main() -> None:
        get_resume_urls()

    with pytest.raises(RuntimeError, match="wac engine"):
        run_round(main, {"completed_steps": {}}, {})


def test_a_gathered_step_and_task_allocate_task_keys_at_call_time() -> None:
    @workflow
    async def main() -> Any:
        return await asyncio.gather(step("s", lambda: 1), fetch(1))

    out = run_round(main, {"completed_steps": {}}, {})
    assert out["type"] == "inline_checkpoint" and out["key"] == "s"
    out = run_round(main, {"completed_steps": {"s": 1}}, {})
    assert out["steps"][0]["key"] == "fetch"
