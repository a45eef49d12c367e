"""Memory of the engine's process tree (issue 17): the peak PSS summed over a worker process, its
zygotes and every round process, for a fan-out of n tasks and for n live sticky parents.

    .venv/bin/python bench/linear_memory.py [--before DIR] [--after DIR] [--fanout 1000] [--parents 100]

Each scenario runs in its own process (``PYTHONPATH`` = the tree's ``src``: this checkout, or
``--before DIR`` too, measured one after the other) with one worker of 4 slots on a fresh SQLite
store; this process samples ``/proc/*/smaps_rollup`` of that process and all its descendants every
50 ms and prints the largest sum (PSS counts a page shared by k processes as 1/k in each, so the
sum is what the tree really costs). Linux only. Nothing here asserts a size.

Scenarios: ``fanout`` — ``asyncio.gather`` of n ``@task`` calls; ``parents`` — n workflows each
awaiting one task (a 0.2 s sleep): once with ``WAC_STICKY_MAX`` = n, so n parents are parked at
once, and once with the default cap (16; the others are let go and replay).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import asyncio, time
    from wac import task, workflow

    @task
    def work(i: int) -> int:
        return i + 1

    @task
    def slow(i: int) -> int:
        time.sleep(0.2)
        return i

    @workflow
    async def main(shape: str, n: int):
        if shape == "fanout":
            return sum(await asyncio.gather(*[work(i) for i in range(n)]))
        return await slow(n)
""")


def scenario(shape: str, n: int) -> None:
    """In the measured process: run the scenario once, print its engine time."""
    from wac.engine.bundle import build_bundle
    from wac.engine.local_backend import open_local
    from wac.engine.store.base import JobSpec
    from wac.engine.worker import Worker, WorkerConfig

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("{}\n")
        (repo / "f").mkdir()
        (repo / "f" / "mem.py").write_text(SCRIPT)
        ws = open_local(repo)
        bundle = build_bundle(repo, repo / "f" / "mem.py", repo / "f" / "mem__mod")
        ws.store.put_bundle(bundle.hash, bundle.files)
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=4))
        worker.start()
        try:
            t0 = time.perf_counter()
            if shape == "fanout":
                ids = [ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"shape": shape, "n": n}, "f/mem"))]
            else:
                ids = [ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"shape": shape, "n": i}, "f/mem"))
                       for i in range(n)]
            for job_id in ids:
                job = ws.store.wait_for_result(job_id, 600)
                if job.status != "succeeded":
                    raise SystemExit(f"{shape}: {job.status} {job.error}")
            print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
        finally:
            worker.stop()
            ws.close()



def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(src: Path, shape: str, n: int, sticky_max: int | None = None) -> tuple[float, int, float]:
    """Peak PSS (MiB) of the tree, the most processes seen at once, and the engine time."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(src)
    if sticky_max is not None:
        env["WAC_STICKY_MAX"] = str(sticky_max)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--one", shape, str(n)],
                            stdout=subprocess.PIPE, text=True, env=env)
    peak, most = 0, 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, most
        while not done.is_set():
            pids = _tree(proc.pid)
            peak = max(peak, sum(_pss_kib(p) for p in pids))
            most = max(most, len(pids))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate(timeout=900)
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{shape} {n} on {src} failed")
    return peak / 1024, most, float(json.loads(out.strip().splitlines()[-1])["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2)
    parser.add_argument("--before", type=Path, help="a tree whose src/ is the code to compare against")
    parser.add_argument("--after", type=Path, help="a tree whose src/ is measured (default: this checkout)")
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--parents", type=int, default=100)
    opts = parser.parse_args()
    if opts.one:
        scenario(opts.one[0], int(opts.one[1]))
        return
    trees = [("after", (opts.after or ROOT) / "src")]
    if opts.before is not None:
        trees.insert(0, ("before", opts.before / "src"))
    print(f"memory bench: peak PSS of the process tree, one worker with 4 slots, load {os.getloadavg()[0]:.1f}")
    for shape, n, sticky_max in (("fanout", opts.fanout, None), ("parents", opts.parents, opts.parents),
                                 ("parents", opts.parents, None)):
        for name, src in trees:
            mib, most, seconds = measure(src, shape, n, sticky_max)
            kept = f"WAC_STICKY_MAX={sticky_max}" if sticky_max else "default settings"
            print(f"{shape:8} n={n:<5} {name:6} peak {mib:7.1f} MiB  processes {most:4}  ({seconds:.2f} s, {kept})",
                  flush=True)


if __name__ == "__main__":
    main()
