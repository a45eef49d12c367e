"""Engine benchmark: the peers' scenarios on the embedded engine, against plain asyncio.

    .venv/bin/python bench/engine_bench.py [--runs 5] [--workers 4]

Prints, per scenario, the median wall time of N runs on a fresh SQLite store (real zygote, real
round processes), the same calls as plain asyncio in this process, and their ratio; then the
marginal cost of one step() and of one sequential child task, ``import wac`` time, and a whole
one-task ``wac script preview`` process (wall and peak RSS). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from scratch import scratch_script  # noqa: E402  (beside this file)

from wac.engine.store.base import JobSpec  # noqa: E402
from wac.engine.worker import Worker, WorkerConfig  # noqa: E402

SCRIPT = textwrap.dedent("""
    import asyncio
    from wac import parallel, step, task, workflow

    @task
    def work(i: int) -> int:
        return i + 1

    @workflow
    async def main(scenario: str, n: int):
        if scenario == "tasks_seq":
            total = 0
            for i in range(n):
                total += await work(i)
            return total
        if scenario == "steps_seq":
            total = 0
            for i in range(n):
                total += await step("s", lambda: i + 1)
            return total
        if scenario == "tasks_par":
            return sum(await asyncio.gather(*[work(i) for i in range(n)]))
        if scenario == "tasks_par10":
            return sum(await parallel(list(range(n)), work, concurrency=10))
        raise ValueError(scenario)
""")

SCENARIOS = [
    ("one task", "tasks_seq", 1),
    ("100 sequential tasks", "tasks_seq", 100),
    ("100 sequential steps", "steps_seq", 100),
    ("100 parallel tasks", "tasks_par", 100),
    ("100 parallel, concurrency 10", "tasks_par10", 100),
    ("1,000 sequential steps", "steps_seq", 1000),
    ("1 step", "steps_seq", 1),
]


async def _plain(scenario: str, n: int) -> int:
    """The same calls without an engine: async functions awaited in one event loop."""

    async def work(i: int) -> int:
        return i + 1

    async def step(fn):  # noqa: ANN001
        return fn()

    if scenario == "tasks_seq":
        return sum([await work(i) for i in range(n)])
    if scenario == "steps_seq":
        return sum([await step(lambda i=i: i + 1) for i in range(n)])
    if scenario == "tasks_par":
        return sum(await asyncio.gather(*[work(i) for i in range(n)]))
    sem = asyncio.Semaphore(10)

    async def bounded(i: int) -> int:
        async with sem:
            return await work(i)

    return sum(await asyncio.gather(*[bounded(i) for i in range(n)]))


def _median_plain(scenario: str, n: int, runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        asyncio.run(_plain(scenario, n))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_engine(scenario: str, n: int, runs: int, slots: int) -> float:
    times = []
    with scratch_script(SCRIPT) as (ws, bundle):
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=slots))
        worker.start()
        try:
            warm = ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"scenario": "tasks_seq", "n": 1}, "f/bench"))
            ws.store.wait_for_result(warm, 60)
            for _ in range(runs):
                t0 = time.perf_counter()
                job_id = ws.store.submit(
                    JobSpec(bundle.hash, bundle.entry, {"scenario": scenario, "n": n}, "f/bench")
                )
                job = ws.store.wait_for_result(job_id, 600)
                times.append(time.perf_counter() - t0)
                if job.status != "succeeded":
                    raise SystemExit(f"{scenario} failed: {job.error}")
        finally:
            worker.stop()
    return statistics.median(times)


def _import_time(runs: int) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", "import time; t=time.perf_counter(); import wac; print(time.perf_counter()-t)"],
            capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT / "src")}, check=True,
        )
        times.append(float(out.stdout))
    return statistics.median(times)


def _preview_process(runs: int) -> tuple[float, float]:
    """Wall time and peak RSS (MiB, largest process of the tree) of `wac script preview` of one task."""
    walls, rss = [], []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("{}\n")
        (repo / "one.py").write_text(SCRIPT)
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
        cmd = [sys.executable, "-m", "wac.cli", "script", "preview", "one.py", "-d",
               '{"scenario": "tasks_seq", "n": 1}']
        subprocess.run(cmd, cwd=repo, env=env, capture_output=True, check=True)  # creates the store
        for _ in range(runs):
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            t0 = time.perf_counter()
            subprocess.run(cmd, cwd=repo, env=env, capture_output=True, check=True)
            walls.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            rss.append(max(after, before) / 1024)
    return statistics.median(walls), max(rss)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, default=4)
    opts = parser.parse_args()
    print(f"engine benchmark: median of {opts.runs} runs, {opts.workers} worker slots, {os.cpu_count()} cores")
    print(f"{'scenario':32} {'wac':>10} {'asyncio':>10} {'ratio':>8}")
    results = {}
    for label, scenario, n in SCENARIOS:
        engine = run_engine(scenario, n, opts.runs, opts.workers)
        plain = _median_plain(scenario, n, opts.runs)
        results[label] = engine
        print(f"{label:32} {engine * 1000:9.1f}ms {plain * 1000:9.3f}ms {engine / plain:8.0f}x")
    step_marginal = (results["1,000 sequential steps"] - results["1 step"]) / 999
    task_marginal = (results["100 sequential tasks"] - results["one task"]) / 99
    print(f"step() marginal:               {step_marginal * 1000:.3f} ms   (target <= 0.3 ms)")
    print(f"sequential child task marginal: {task_marginal * 1000:.2f} ms   (target <= 5 ms)")
    print(f"100 parallel, concurrency 10:   {results['100 parallel, concurrency 10']:.3f} s    (target <= 1 s)")
    print(f"1,000 sequential steps:         {results['1,000 sequential steps']:.3f} s    (target <= 3 s)")
    print(f"import wac:                     {_import_time(opts.runs) * 1000:.1f} ms   (target <= 50 ms)")
    wall, rss = _preview_process(opts.runs)
    print(f"one-task preview process:       {wall:.3f} s wall, {rss:.1f} MiB peak RSS   (targets <= 0.5 s, 60 MiB)")


if __name__ == "__main__":
    main()
