"""The same workflow bodies, driven round by round through the real ``wmill`` 1.850
``_run_workflow`` and through wac's ``run_round``, must produce identical outcomes.

The real package is loaded under a private name, so it never clashes with the shim or with
another test's ``wmill``.
"""

from __future__ import annotations

import asyncio
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import wac
import wac.sdk
from tests.sdk.driver import Driver

WAC_ONLY = {"max_in_flight", "self_approval_disabled"}
TIMING = {"started_at", "duration_ms"}


def _load_real_wmill() -> ModuleType:
    name = "_wac_test_real_wmill"
    if name in sys.modules:
        return sys.modules[name]
    init = Path(str(importlib.metadata.distribution("wmill").locate_file("wmill/__init__.py")))
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(init.parent)])
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    assert module.__version__ if hasattr(module, "__version__") else True
    return module


REAL = _load_real_wmill()
SDKS = {
    "wmill": (REAL.client, REAL.client._run_workflow),
    "wac": (wac.sdk, wac.sdk.run_round),
}


def normalise(outcome: dict[str, Any]) -> Any:
    kept = {k: v for k, v in outcome.items() if k not in WAC_ONLY | TIMING}
    return json.loads(json.dumps(kept, default=str))


# Each body factory takes an SDK namespace and returns (main, args, approvals).
Body = Callable[[Any], tuple[Callable[..., Any], dict[str, Any], list[Any]]]


def sequential_with_branch(sdk: Any) -> Any:
    @sdk.task
    async def fetch(x: int) -> int:
        return x * 10

    @sdk.task
    def double(x: int) -> int:
        return x * 2

    @sdk.workflow
    async def main(n: int) -> Any:
        a = await fetch(n)
        if a > 15:
            return [a, await double(a)]
        return [a]

    return main, {"n": 2}, []


def gather_and_parallel(sdk: Any) -> Any:
    @sdk.task
    async def fetch(x: int) -> int:
        return x + 1

    @sdk.workflow
    async def main() -> Any:
        first = await fetch(0)
        pair = await asyncio.gather(fetch(1), fetch(2))
        many = await sdk.parallel([10, 20, 30], fetch)
        return [first, list(pair), many]

    return main, {}, []


def steps_and_failures(sdk: Any) -> Any:
    @sdk.task
    async def explode(reason: str) -> None:
        raise ValueError(reason)

    @sdk.task
    async def fallback(x: int) -> int:
        return -x

    def bad() -> None:
        raise KeyError("k")

    @sdk.workflow
    async def main() -> Any:
        out: list[Any] = [await sdk.step("t", lambda: (1, 2))]
        try:
            await explode("boom")
        except sdk.TaskError as exc:
            out.append([str(exc), exc.step_key, await fallback(3)])
        try:
            await sdk.step("bad", bad)
        except sdk.TaskError as exc:
            out.append([exc.step_key, exc.result["error"]["name"]])
        return out

    return main, {}, []


def retries(sdk: Any) -> Any:
    state = {"n": 0}

    @sdk.task(retry={"attempts": 3, "delay": 2, "multiplier": 2, "max_delay": 5})
    async def flaky() -> str:
        state["n"] += 1
        if state["n"] < 3:
            raise RuntimeError(f"attempt {state['n']}")
        return f"ok after {state['n']}"

    @sdk.task(retry={"attempts": 1})
    async def hopeless() -> None:
        raise RuntimeError("never")

    @sdk.workflow
    async def main() -> Any:
        first = await flaky()
        try:
            await hopeless()
        except sdk.TaskError as exc:
            return [first, exc.step_key]
        return [first]

    return main, {}, []


def sleeps_and_approvals(sdk: Any) -> Any:
    @sdk.workflow
    async def main() -> Any:
        await sdk.sleep(0.5)
        await sdk.sleep(30)
        a = await sdk.wait_for_approval(timeout=60, form={"type": "object"}, description="ok?")
        b = await sdk.wait_for_approval(key="boss", skin="minimal")
        return [a, b]

    answers = [{"value": 1, "approver": "ann", "approved": True}, {"value": None, "approver": "bob", "approved": False}]
    return main, {}, answers


def key_collisions(sdk: Any) -> Any:
    @sdk.task
    async def x(v: int) -> int:
        return v

    @sdk.workflow
    async def main() -> Any:
        keys = [await sdk.step("x", lambda: 1), await sdk.step("x", lambda: 2), await sdk.step("x_2", lambda: 3)]
        keys.append(await sdk.step("x", lambda: 4))
        keys.append(await x(5))
        return keys

    return main, {}, []


def remote_tasks_and_options(sdk: Any) -> Any:
    extract = sdk.task_script("f/data/extract", timeout=600, tag="gpu", priority=3)
    pipeline = sdk.task_flow("f/etl/pipeline", cache_ttl=60, concurrency_limit=2, concurrency_key="k")

    @sdk.task(path="f/x/remote", concurrency_time_window_s=10)
    async def remote(a: int, b: int = 2) -> int:
        return a + b

    @sdk.workflow
    async def main() -> Any:
        got = await asyncio.gather(extract(url="u"), pipeline(input=[1]))
        return [list(got), await remote(1, b=5)]

    return main, {}, []


def nested_and_sync_tasks(sdk: Any) -> Any:
    @sdk.task
    def inner(x: int) -> tuple[int, int]:
        return (x, x)

    @sdk.task
    async def outer(x: int) -> Any:
        return [await inner(x), await sdk.step("in-task", lambda: {"k": (1,)})]

    @sdk.workflow
    async def main() -> Any:
        return await outer(4)

    return main, {}, []


def unawaited_task(sdk: Any) -> Any:
    @sdk.task
    async def note(msg: str) -> str:
        return msg

    @sdk.workflow
    async def main() -> str:
        note("fire and forget")
        return "returned"

    return main, {}, []


BODIES: list[Any] = [
    sequential_with_branch,
    gather_and_parallel,
    steps_and_failures,
    retries,
    sleeps_and_approvals,
    key_collisions,
    remote_tasks_and_options,
    nested_and_sync_tasks,
    # the real wmill leaves the child's task coroutine unawaited (and warns): ignore its warnings
    pytest.param(
        unawaited_task,
        marks=pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
        id="unawaited_task",
    ),
]


def drive(body: Body, which: str) -> Driver:
    sdk, run = SDKS[which]
    main, args, approvals = body(sdk)
    d = Driver(run, main, args, approvals=list(approvals), key_order=False)
    d.finish()
    return d


@pytest.fixture(autouse=True)
def _no_windmill_env(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    for var in ("WM_JOB_ID", "WM_WORKSPACE", "BASE_INTERNAL_URL", "WM_TOKEN", "MAIN_OVERRIDE"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.parametrize("body", BODIES, ids=[getattr(b, "__name__", "") for b in BODIES])
def test_wac_rounds_match_the_real_wmill_round_for_round(body: Body) -> None:
    real = drive(body, "wmill")
    ours = drive(body, "wac")
    assert [normalise(o) for o in ours.outcomes] == [normalise(o) for o in real.outcomes]
    assert ours.children == real.children
    assert ours.completed.keys() == real.completed.keys()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_an_unawaited_task_really_runs_in_its_child_unlike_wmill() -> None:
    # wmill's child never awaits the task's coroutine and completes with the *workflow's* value.
    assert drive(unawaited_task, "wmill").completed["note"] == "returned"
    assert drive(unawaited_task, "wac").completed["note"] == "fire and forget"


def test_both_sdks_print_the_same_round_log_lines(capsys: pytest.CaptureFixture[str]) -> None:
    lines = {}
    for which in SDKS:
        drive(steps_and_failures, which)
        text = capsys.readouterr().out
        lines[which] = [l for l in text.splitlines() if l.startswith("--- WAC:")]
    assert lines["wac"] == lines["wmill"]


def test_parallel_with_concurrency_ends_with_the_same_results_and_keys_in_fewer_rounds() -> None:
    def body(sdk: Any) -> Any:
        @sdk.task
        async def square(x: int) -> int:
            return x * x

        @sdk.workflow
        async def main() -> Any:
            return await sdk.parallel(list(range(7)), square, concurrency=3)

        return main, {}, []

    real = drive(body, "wmill")
    ours = drive(body, "wac")
    assert ours.outcomes[-1] == real.outcomes[-1] == {"type": "complete", "result": [0, 1, 4, 9, 16, 25, 36]}
    assert ours.children == real.children
    assert len(real.outcomes) == 4 and len(ours.outcomes) == 2
    assert ours.outcomes[0]["max_in_flight"] == 3


def test_the_real_wmill_is_the_pinned_version() -> None:
    assert importlib.metadata.version("wmill") == "1.850.0"
