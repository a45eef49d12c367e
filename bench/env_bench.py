"""Environments benchmark: per-lock environments and their warm parents (issue 10 §2).

    .venv/bin/python bench/env_bench.py [--heavy sympy] [--runs 3]

Needs a package index (PyPI by default; WAC_INDEX_URL / WAC_FIND_LINKS / WAC_NO_INDEX are
honoured). Everything lives in a temporary folder (its own XDG cache and uv cache). Prints, in one
run:

1. environment creation of the heavy package's lock: cold (empty uv cache), from uv's cache (the
   environment removed, uv's cache kept), already built;
2. the marginal cost of one sequential child task of a workflow whose script imports the heavy
   package at top level, against the same workflow without that import (runs interleaved, one
   worker with both zygotes), and (for reference) the
   heavy workflow with the warm parent's pre-import switched off;
3. memory (PSS and RSS) of each warm parent with 3 environments in use, how many are alive, and
   how long the idle ones take to retire (WAC_ENV_IDLE_S=3 for that part).

Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

TMP = Path(tempfile.mkdtemp(prefix="wac-env-bench-"))
os.environ["XDG_CACHE_HOME"] = str(TMP / "cache")
os.environ["UV_CACHE_DIR"] = str(TMP / "uv-cache")

from wac.engine import envzygotes  # noqa: E402
from wac.engine.bundle import build_bundle  # noqa: E402
from wac.engine.envlock import pin_env  # noqa: E402
from wac.engine.envs import RUNNING, EnvSpec, ensure, env_python  # noqa: E402
from wac.engine.local_backend import open_local  # noqa: E402
from wac.engine.lockresolver import LockResolver  # noqa: E402
from wac.engine.store.base import JobSpec  # noqa: E402
from wac.engine.worker import Worker, WorkerConfig  # noqa: E402

WORKFLOW = textwrap.dedent("""
    {imports}
    from wac import task, workflow

    @task
    def work(i: int) -> int:
        return {body}

    @workflow
    async def main(n: int):
        total = 0
        for i in range(n):
            total += await work(i)
        return total
""")


def resolve(requirement: str) -> str:
    t0 = time.perf_counter()
    lock = LockResolver.from_env(python_version=RUNNING).resolve([requirement])
    print(f"  resolve {requirement!r} with uv: {time.perf_counter() - t0:.2f} s "
          f"({len(lock.splitlines()) - 1} pinned)")
    return lock


def timed_ensure(lock: str) -> tuple[float, Path]:
    t0 = time.perf_counter()
    path = ensure(EnvSpec.of(lock), label="bench")
    return time.perf_counter() - t0, path


def env_creation(lock: str, heavy: str) -> Path:
    print("1. environment creation")
    cold, path = timed_ensure(lock)
    shutil.rmtree(path)
    from_uv_cache, path = timed_ensure(lock)
    built, path = timed_ensure(lock)
    print(f"  cold (empty uv cache): {cold:.2f} s")
    print(f"  from uv's cache:       {from_uv_cache:.2f} s")
    print(f"  already built:         {built * 1000:.1f} ms")
    out = subprocess.run([str(env_python(path)), "-c",
                          f"import time; t = time.perf_counter(); import {heavy}; print(time.perf_counter() - t)"],
                         capture_output=True, text=True, check=True)
    print(f"  import {heavy} in that environment: {float(out.stdout) * 1000:.0f} ms")
    return path


def make_bundle(repo: Path, name: str, source: str, lock: str | None):  # noqa: ANN201
    path = repo / "f" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source)
    bundle = build_bundle(repo, path, repo / "f" / f"{name}__mod")
    return pin_env(bundle, {f"f/{name}.py": lock} if lock else None, f"f/{name}")


def run(ws, bundle, n: int) -> float:  # noqa: ANN001
    ws.store.put_bundle(bundle.hash, bundle.files)
    t0 = time.perf_counter()
    job_id = ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"n": n}, "f/bench"))
    job = ws.store.wait_for_result(job_id, 900)
    if job.status != "succeeded":
        raise SystemExit(f"bench job failed: {job.error}")
    return time.perf_counter() - t0


def marginal(ws, bundle, runs: int, small: int = 10, big: int = 40) -> float:  # noqa: ANN001
    return marginals(ws, [bundle], runs, small, big)[0]


def marginals(ws, bundles, runs: int, small: int = 10, big: int = 40) -> list[float]:  # noqa: ANN001
    """Per-task marginal of each bundle; runs interleaved so that load drifts hit them alike."""
    for b in bundles:
        run(ws, b, 1)  # starts (and warms) the environment's zygote
    lows: list[list[float]] = [[] for _ in bundles]
    highs: list[list[float]] = [[] for _ in bundles]
    for _ in range(runs):
        for i, b in enumerate(bundles):
            lows[i].append(run(ws, b, small))
            highs[i].append(run(ws, b, big))
    return [(statistics.median(h) - statistics.median(lo)) / (big - small) for lo, h in zip(lows, highs, strict=True)]


def pss_rss(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        key, value = line.split(":", 1)
        fields[key] = int(value.split()[0])
    return fields.get("Pss", 0), fields.get("Rss", 0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--heavy", default="sympy")
    parser.add_argument("--runs", type=int, default=3)
    ns = parser.parse_args()
    heavy = ns.heavy
    print(f"wac env bench: Python {RUNNING}, heavy package {heavy}, temp {TMP}")
    try:
        lock = resolve(heavy)
        env_creation(lock, heavy)

        print("2. marginal cost of one sequential child task (median of "
              f"{ns.runs} runs of n=10 and n=40 tasks)")
        repo = TMP / "repo"
        repo.mkdir()
        (repo / "wmill.yaml").write_text("{}\n")
        plain = make_bundle(repo, "plain", WORKFLOW.format(imports="", body="i + 1"), None)
        heavy_b = make_bundle(repo, "heavy", WORKFLOW.format(imports=f"import {heavy}", body="i + 1"), lock)
        ws = open_local(repo)
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=1))
        worker.start()
        try:
            m_plain, m_heavy = marginals(ws, [plain, heavy_b], ns.runs)
        finally:
            worker.stop()
        original = envzygotes.third_party_imports
        envzygotes.third_party_imports = lambda files: []  # type: ignore[assignment]
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=1))
        worker.start()
        try:
            m_cold = marginal(ws, heavy_b, 1, small=1, big=3)  # every round imports it: keep it short
        finally:
            worker.stop()
            envzygotes.third_party_imports = original
        print(f"  without {heavy}:                     {m_plain * 1000:6.1f} ms per task")
        print(f"  with {heavy} (warm parent imports it): {m_heavy * 1000:6.1f} ms per task "
              f"= {m_heavy / m_plain:.2f}x")
        print(f"  with {heavy}, no pre-import (reference, n=1 vs 3): {m_cold * 1000:6.1f} ms per task "
              f"= {m_cold / m_plain:.2f}x")

        print("3. warm parents with 3 environments in use")
        small = ["six", "idna"]
        bundles = [heavy_b] + [make_bundle(repo, f"uses_{p}", WORKFLOW.format(imports=f"import {p}", body="i + 1"),
                                           resolve(p)) for p in small]
        os.environ["WAC_ENV_IDLE_S"] = "3"
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=3))
        worker.start()
        try:
            for b in bundles:
                run(ws, b, 2)
            alive = worker.zygotes.alive()
            default = worker.zygotes.default.pid
            print(f"  warm parents alive: {len(alive)} environment zygotes + wac's own = {len(alive) + 1}")
            for (key, pid), name in zip(alive.items(), [heavy, *small], strict=False):  # fewer may be alive
                if pid:
                    pss, rss = pss_rss(pid)
                    print(f"  {name:8} env {key[:8]}  pid {pid}: PSS {pss / 1024:6.1f} MiB, RSS {rss / 1024:6.1f} MiB")
            if default:
                pss, rss = pss_rss(default)
                print(f"  wac's own zygote      pid {default}: PSS {pss / 1024:6.1f} MiB, RSS {rss / 1024:6.1f} MiB")
            t0 = time.perf_counter()
            while worker.zygotes.alive() and time.perf_counter() - t0 < 30:
                time.sleep(0.1)
            print(f"  idle ones retired after {time.perf_counter() - t0:.1f} s (WAC_ENV_IDLE_S=3, no round alive); "
                  f"alive now: {len(worker.zygotes.alive())} + wac's own")
            run(ws, bundles[1], 1)
            print(f"  next round of a retired environment starts its zygote again: "
                  f"{len(worker.zygotes.alive())} alive")
        finally:
            worker.stop()
            ws.close()
    finally:
        shutil.rmtree(TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
