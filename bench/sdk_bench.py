"""SDK benchmark: the cost of one round of replay, in this process (no engine, no store).

    .venv/bin/python bench/sdk_bench.py [--runs 7]

Prints medians of: ``import wac`` in a fresh interpreter; an empty round; replaying N completed
task keys, N step keys and an N-item ``parallel`` (per key); a child round; the ``step()`` fast
path through an in-memory host (per step); and the same through the real ``wmill._run_workflow``
for comparison. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from wac import parallel, step, task, workflow  # noqa: E402
from wac.sdk import run_round  # noqa: E402


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def import_ms(runs: int) -> float:
    code = "import time; t = time.perf_counter(); import wac; print((time.perf_counter() - t) * 1000)"
    out = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                env={"PYTHONPATH": str(ROOT / "src")}).stdout) for _ in range(runs)]
    return statistics.median(out)


@task
async def fetch(i: int) -> int:
    return i


class MemoryHost:
    def __init__(self) -> None:
        self.store: dict[str, Any] = {}

    def commit_step(self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool) -> bool:
        self.store[key] = value
        return True

    def resume_urls(self, approval_key: str, approver: str | None) -> dict[str, str]:
        return {}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("-n", type=int, default=1000)
    opts = parser.parse_args()
    n, runs = opts.n, opts.runs

    @workflow
    async def empty() -> int:
        return 1

    @workflow
    async def tasks() -> int:
        return sum([await fetch(i) for i in range(n)])

    @workflow
    async def steps() -> int:
        return sum([await step("s", lambda i=i: i) for i in range(n)])

    @workflow
    async def fan() -> int:
        return sum(await parallel(list(range(n)), fetch, concurrency=10))

    task_done = {"completed_steps": {("fetch" if i == 0 else f"fetch_{i + 1}"): i for i in range(n)}}
    step_done = {"completed_steps": {("s" if i == 0 else f"s_{i + 1}"): i for i in range(n)}}
    child = {"completed_steps": {k: v for k, v in task_done["completed_steps"].items() if v < n - 1},
             "_executing_key": f"fetch_{n}"}

    def quiet(fn: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            saved, sys.stdout = sys.stdout, open("/dev/null", "w")
            try:
                return fn()
            finally:
                sys.stdout.close()
                sys.stdout = saved
        return run

    rows = [
        ("import wac (fresh interpreter)", import_ms(runs), None),
        ("empty round", median_ms(lambda: run_round(empty, {}, {}), runs), None),
        (f"replay {n} completed tasks", median_ms(lambda: run_round(tasks, task_done, {}), runs), n),
        (f"replay {n} completed steps", median_ms(lambda: run_round(steps, step_done, {}), runs), n),
        (f"replay parallel({n}, concurrency=10)", median_ms(lambda: run_round(fan, task_done, {}), runs), n),
        (f"child round after {n - 1} replayed keys", median_ms(lambda: run_round(tasks, child, {}), runs), None),
        (f"{n} fast-path steps in one round", median_ms(quiet(lambda: run_round(steps, {}, {}, MemoryHost())), runs), n),
    ]
    try:
        from wmill.client import _run_workflow
    except ImportError:
        _run_workflow = None
    if _run_workflow is not None:
        import wmill

        @wmill.task
        async def wfetch(i: int) -> int:
            return i

        @wmill.workflow
        async def wtasks() -> int:
            return sum([await wfetch(i) for i in range(n)])

        wdone = {"completed_steps": {("wfetch" if i == 0 else f"wfetch_{i + 1}"): i for i in range(n)}}
        rows.append((f"wmill: replay {n} completed tasks", median_ms(lambda: _run_workflow(wtasks, wdone, {}), runs), n))

    for label, ms, per in rows:
        extra = f"   ({ms * 1000 / per:.1f} µs per key)" if per else ""
        print(f"{label:<44} {ms:9.2f} ms{extra}")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
