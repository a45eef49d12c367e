"""The ``step()`` fast path through a fake :class:`RoundHost`."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest

from tests.sdk.driver import Driver
from wac import TaskError, step, task, workflow
from wac.sdk import run_round


class FakeHost:
    """Commits into a dict like the engine would, or refuses."""

    def __init__(self, accept: bool = True, explode: bool = False) -> None:
        self.accept = accept
        self.explode = explode
        self.commits: list[dict[str, Any]] = []

    def commit_step(self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool) -> bool:
        if self.explode:
            raise ConnectionError("engine went away")
        self.commits.append({"key": key, "value": value, "started_at": started_at, "duration_ms": duration_ms, "failed": failed})
        return self.accept

    def resume_urls(self, approval_key: str, approver: str | None) -> dict[str, str]:
        return {}

    def note_direct(self, key: str, target: str) -> None:
        pass

    def park(self, outcome: Any) -> None:
        return None


def test_committed_steps_continue_in_the_same_round() -> None:
    @workflow
    async def main() -> list[Any]:
        a = await step("a", lambda: 1)
        b = await step("b", lambda: (a, datetime.date(2024, 1, 1)))
        return [a, b]

    host = FakeHost()
    out = run_round(main, {"completed_steps": {}}, {}, host)
    assert out == {"type": "complete", "result": [1, [1, "2024-01-01"]]}
    assert [c["key"] for c in host.commits] == ["a", "b"]
    assert host.commits[1]["value"] == [1, "2024-01-01"]
    assert isinstance(host.commits[0]["started_at"], float) and host.commits[0]["failed"] is False


def test_the_live_round_sees_exactly_what_a_replay_sees() -> None:
    seen: list[Any] = []

    @workflow
    async def main() -> None:
        value = await step("v", lambda: {"t": (1, 2), 5: datetime.time(1, 2)})
        seen.append(value)

    host = FakeHost()
    run_round(main, {"completed_steps": {}}, {}, host)
    run_round(main, {"completed_steps": {"v": host.commits[0]["value"]}}, {})
    assert seen[0] == seen[1] == {"t": [1, 2], "5": "01:02:00"}


def test_a_failed_step_on_the_fast_path_raises_the_same_task_error_as_a_replay() -> None:
    errors: list[tuple[str, str, Any]] = []

    def bad() -> None:
        raise ValueError("bad input")

    @workflow
    async def main() -> str:
        try:
            await step("check", bad)
        except TaskError as exc:
            errors.append((str(exc), exc.step_key, exc.result))
        return "handled"

    host = FakeHost()
    assert run_round(main, {"completed_steps": {}}, {}, host)["result"] == "handled"
    assert host.commits[0]["failed"] is True and host.commits[0]["value"]["__wmill_error"] is True
    run_round(main, {"completed_steps": {"check": host.commits[0]["value"]}}, {})
    assert errors[0] == errors[1]
    assert errors[0][0] == "bad input"


@pytest.mark.parametrize("host", [FakeHost(accept=False), FakeHost(explode=True)])
def test_a_refused_or_failing_commit_falls_back_to_inline_checkpoint(host: FakeHost) -> None:
    @workflow
    async def main() -> int:
        return await step("a", lambda: 7)

    out = run_round(main, {"completed_steps": {}}, {}, host)
    assert out["type"] == "inline_checkpoint" and out["key"] == "a" and out["result"] == 7


@task
async def fetch(x: int) -> int:
    return x


def test_fast_path_steps_run_whole_workflows_in_fewer_rounds() -> None:
    @workflow
    async def main() -> list[int]:
        values = [await step(f"s{i}", lambda i=i: i) for i in range(5)]
        values.append(await fetch(9))
        return values

    host = FakeHost()
    committed: dict[str, Any] = {}

    def run(main: Any, cp: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        cp["completed_steps"].update(committed)
        out = run_round(main, cp, args, host)
        committed.update({c["key"]: c["value"] for c in host.commits})
        return out

    d = Driver(run, main)
    assert d.finish() == [0, 1, 2, 3, 4, 9]
    assert [o["type"] for o in d.outcomes] == ["dispatch", "complete"]


def test_concurrent_steps_both_commit() -> None:
    @workflow
    async def main() -> list[Any]:
        return list(await asyncio.gather(step("x", lambda: 1), step("y", lambda: 2)))

    host = FakeHost()
    assert run_round(main, {"completed_steps": {}}, {}, host) == {"type": "complete", "result": [1, 2]}
    assert sorted(c["key"] for c in host.commits) == ["x", "y"]
