"""Linear cost (issue 17): the curve of task-heavy workflows, before and after, in one run.

    .venv/bin/python bench/linear_bench.py [--before DIR] [--sizes 10,100,300,1000] [--runs 1]
                                           [--skip-process] [--only SHAPE] [--dbos PYTHON]

``--dbos bench/.venv-dbos/bin/python`` (a venv of the bench's own with ``pip install dbos``, never
the project's) adds DBOS's sequential child workflows on SQLite at the same sizes, in the same run
(bench/linear_dbos.py). The whole-process figures also give the peak PSS of the preview's process
tree (bench/linear_memory.py samples it).

``--before DIR`` is a tree holding another wac's ``src/`` (for example main's code:
``git archive main src | tar -x -C /tmp/wac-before``); each measurement then runs on both trees
one after the other (before, after, before, after…) so a machine loaded by other work slows both
alike, and the table prints their ratio. Without it only this checkout is measured (or the tree
given with ``--after``, e.g. a ``git archive HEAD src`` snapshot, so editing goes on meanwhile).

Each measurement is its own process (``python -m`` of this file with ``--one``) whose
``PYTHONPATH`` is the tree's ``src``: a fresh SQLite store, one worker with 4 slots (its zygote
warmed by one run first), the median wall time from submit to result ("engine time"). The
whole-process figures run ``wac script preview`` of the same script (creating the store, the
worker, the zygote, and printing the result). Nothing here asserts a time.

Shapes: ``seq`` (``for i in range(n): await work(i)``), ``par10`` (``parallel(range(n), work,
concurrency=10)``), ``par`` (``asyncio.gather`` of n calls, unlimited) and ``steps`` (n inline
``step()`` calls). Settings under test come from the environment (``WAC_DIRECT_CHILDREN``…).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # linear_memory and scratch beside this file

from scratch import scratch_script  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import asyncio
    from wac import parallel, step, task, workflow

    @task
    def work(i: int) -> int:
        return i + 1

    @workflow
    async def main(shape: str, n: int):
        if shape == "seq":
            total = 0
            for i in range(n):
                total += await work(i)
            return total
        if shape == "steps":
            total = 0
            for i in range(n):
                total += await step("s", lambda: i + 1)
            return total
        if shape == "par":
            return sum(await asyncio.gather(*[work(i) for i in range(n)]))
        if shape == "par10":
            return sum(await parallel(list(range(n)), work, concurrency=10))
        raise ValueError(shape)
""")


def _expected(shape: str, n: int) -> int:
    return sum(i + 1 for i in range(n))


def one(shape: str, n: int, runs: int) -> dict[str, float]:
    """In the measuring process: engine time of ``runs`` runs of one shape (median, seconds)."""
    from wac.engine.store.base import JobSpec
    from wac.engine.worker import Worker, WorkerConfig

    times = []
    with scratch_script(SCRIPT) as (ws, bundle):
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=4))
        worker.start()
        try:
            warm = ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"shape": "seq", "n": 2}, "f/bench"))
            ws.store.wait_for_result(warm, 120)
            for _ in range(runs):
                t0 = time.perf_counter()
                job_id = ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"shape": shape, "n": n}, "f/bench"))
                job = ws.store.wait_for_result(job_id, 1800)
                times.append(time.perf_counter() - t0)
                if job.status != "succeeded" or job.result != _expected(shape, n):
                    raise SystemExit(f"{shape} {n} failed: {job.status} {job.error} {job.result}")
        finally:
            worker.stop()
    return {"engine": statistics.median(times)}


def _tree_env(src: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(src)
    env["NO_COLOR"] = "1"
    return env


def measure(src: Path, shape: str, n: int, runs: int) -> float:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--one", shape, str(n), "--runs", str(runs)],
        capture_output=True, text=True, env=_tree_env(src), check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"measurement {shape} {n} on {src} failed:\n{out.stderr[-2000:]}")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["engine"])


def preview(src: Path, shape: str, n: int, runs: int) -> tuple[float, float]:
    """Whole-process wall time of ``wac script preview`` (median of ``runs``; the store exists,
    the schema and lint caches are warm) and the peak PSS of its process tree (MiB, Linux)."""
    import threading

    from linear_memory import _pss_kib, _tree

    walls, peaks = [], []
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("{}\n")
        (repo / "one.py").write_text(SCRIPT)
        env = _tree_env(src)
        env["WAC_CONFIG_DIR"] = str(repo / ".cfg")
        env["XDG_CACHE_HOME"] = str(repo / ".cache")
        cmd = [sys.executable, "-m", "wac.cli", "script", "preview", "one.py", "-d",
               json.dumps({"shape": shape, "n": n})]
        warm = [*cmd[:-1], json.dumps({"shape": "seq", "n": 1})]
        subprocess.run(warm, cwd=repo, env=env, capture_output=True, check=True)  # creates the store
        for _ in range(runs):
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                    text=True)
            peak, done = [0], threading.Event()

            def sample(pid: int = proc.pid, peak: list[int] = peak, done: threading.Event = done) -> None:
                while not done.is_set() and Path("/proc/self/stat").exists():
                    peak[0] = max(peak[0], sum(_pss_kib(p) for p in _tree(pid)))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            _out, err = proc.communicate()
            walls.append(time.perf_counter() - t0)
            done.set()
            sampler.join()
            peaks.append(peak[0] / 1024)
            if proc.returncode != 0:
                raise SystemExit(f"preview {shape} {n} on {src} failed:\n{err[-2000:]}")
    return statistics.median(walls), max(peaks)


def import_time(src: Path, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", "import time; t=time.perf_counter(); import wac; print(time.perf_counter()-t)"],
            capture_output=True, text=True, env=_tree_env(src), check=True,
        )
        times.append(float(out.stdout))
    return statistics.median(times)


def idle_cpu(src: Path, seconds: float = 15.0) -> float:
    """Share of one core an idle ``wac worker`` process uses (user + system time over ``seconds``)."""
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("{}\n")
        env = _tree_env(src)
        env["WAC_CONFIG_DIR"] = str(repo / ".cfg")
        env["XDG_CACHE_HOME"] = str(repo / ".cache")
        proc = subprocess.Popen([sys.executable, "-m", "wac.cli", "worker"], cwd=repo, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            time.sleep(3.0)  # started, store created, zygote up

            def cpu() -> float:
                fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
                return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

            c0, t0 = cpu(), time.monotonic()
            time.sleep(seconds)
            return (cpu() - c0) / (time.monotonic() - t0)
        finally:
            proc.terminate()
            proc.wait(10)


LABELS = {"seq": "sequential tasks", "par10": "parallel, concurrency 10", "par": "parallel, unlimited",
          "steps": "inline step()"}


def _fmt(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds:.2f} s"


def runs_for(n: int, runs: int) -> int:
    """Runs of a size (the median is taken): a small run lasts milliseconds and its figure is
    mostly noise, so sizes under 300 get at least 15 runs (both engines, and DBOS alike)."""
    return max(runs, 15) if n < 300 else runs


def dbos(python: Path, sizes: str, ours: dict[int, float], runs: int) -> None:
    """DBOS's sequential child workflows at the same sizes, beside wac's engine time (``ours``)."""
    plan = ",".join(f"{n}x{runs_for(int(n), runs)}" for n in sizes.split(","))
    out = subprocess.run([str(python), str(Path(__file__).resolve().parent / "linear_dbos.py"), "--sizes", plan],
                         capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"dbos bench failed:\n{out.stderr[-2000:]}")
    print("DBOS child workflows on SQLite (same run, its own process, warm):")
    for line in out.stdout.strip().splitlines():
        got = json.loads(line)
        n = got["n"]
        wac = ours.get(n)
        ratio = f"   wac {wac / n * 1000:.1f} ms/child: {got['per_child_ms'] / (wac / n * 1000):.1f}x faster" \
            if wac else ""
        print(f"{'dbos sequential children':26} {n:>6} {_fmt(got['seconds']):>10}  "
              f"{got['per_child_ms']:.1f} ms/child{ratio}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2, metavar=("SHAPE", "N"))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--before", type=Path, help="a tree whose src/ is the code to compare against")
    parser.add_argument("--after", type=Path, help="a tree whose src/ is measured (default: this checkout)")
    parser.add_argument("--sizes", default="10,100,300,1000")
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--only", help="comma-separated shapes (seq,par10,par,steps)")
    parser.add_argument("--skip-process", action="store_true", help="no whole-process preview figures")
    parser.add_argument("--idle", action="store_true", help="only the idle worker's CPU share")
    parser.add_argument("--dbos", type=Path, help="a python with dbos installed (bench/.venv-dbos/bin/python): "
                        "its sequential child workflows on SQLite at the same sizes, in this run")
    opts = parser.parse_args()
    if opts.one:
        print(json.dumps(one(opts.one[0], int(opts.one[1]), opts.runs)))
        return
    trees = [("after", (opts.after or ROOT) / "src")]
    if opts.before is not None:
        trees.insert(0, ("before", opts.before / "src"))
    if opts.idle:
        for name, src in trees:
            print(f"idle worker ({name}): {idle_cpu(src) * 100:.2f}% of a core")
        return
    sizes = [int(s) for s in opts.sizes.split(",")]
    shapes = (opts.only or "seq,par10,par,steps").split(",")
    settings = {k: v for k, v in os.environ.items() if k.startswith("WAC_") and k not in ("WAC_CONFIG_DIR",)}
    print(f"linear bench: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, runs {opts.runs} "
          f"(at least 15 under 300 tasks; medians), "
          f"settings {settings or 'defaults'}; engine time = submit→result, 4 worker slots")
    header = f"{'shape':26} {'n':>6} " + " ".join(f"{name:>10}" for name, _ in trees)
    header += f" {'ratio':>7} {'marginal/task':>16}" if len(trees) == 2 else f" {'marginal/task':>16}"
    print(header)
    rows: dict[tuple[str, str], dict[int, float]] = {}
    for shape in shapes:
        for n in ([opts.steps] if shape == "steps" else sizes):
            figures = []
            for name, src in trees:
                value = measure(src, shape, n, runs_for(n, opts.runs))
                rows.setdefault((shape, name), {})[n] = value
                figures.append(value)
            prev = [k for k in rows[(shape, trees[-1][0])] if k < n]
            marg = ""
            if prev and shape != "steps":
                parts = []
                for name, _ in trees:
                    curve = rows[(shape, name)]
                    parts.append(f"{(curve[n] - curve[max(prev)]) / (n - max(prev)) * 1000:.1f}")
                marg = " → ".join(parts) + " ms"
            line = f"{LABELS[shape]:26} {n:>6} " + " ".join(f"{_fmt(v):>10}" for v in figures)
            if len(trees) == 2:
                line += f" {figures[0] / figures[1]:6.1f}x"
            print(line + f" {marg:>16}", flush=True)
    if opts.dbos is not None and "seq" in shapes:
        dbos(opts.dbos, opts.sizes, rows[("seq", trees[-1][0])], opts.runs)
    if not opts.skip_process:
        print("whole process `wac script preview` (wall, store already created):")
        for shape, n in [("seq", 1), ("seq", max(sizes)), ("par10", max(sizes)), ("par", max(sizes)),
                         ("steps", opts.steps)]:
            if shape not in shapes:
                continue
            measured = [preview(src, shape, n, opts.runs) for _name, src in trees]
            figures = [wall for wall, _pss in measured]
            line = f"{LABELS[shape]:26} {n:>6} " + " ".join(f"{_fmt(v):>10}" for v in figures)
            if len(trees) == 2:
                line += f" {figures[0] / figures[1]:6.1f}x"
            line += "   peak PSS " + " / ".join(f"{pss:.0f} MiB" for _wall, pss in measured)
            print(line, flush=True)
        figures = [import_time(src) for _name, src in trees]
        print(f"{'import wac':26} {'':>6} " + " ".join(f"{v * 1000:8.1f}ms" for v in figures))
        if Path("/proc/self/stat").exists():
            figures = [idle_cpu(src) for _name, src in trees]
            print(f"{'idle worker, % of a core':26} {'':>6} " + " ".join(f"{v * 100:9.2f}%" for v in figures))


if __name__ == "__main__":
    main()
