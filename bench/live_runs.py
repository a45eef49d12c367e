"""Many live runs on one worker (issue 17): parked parents sharing round processes or not.

    .venv/bin/python bench/live_runs.py [--runs 100] [--tasks 50] [--slots 4] [--repeat 1]

Submits ``--runs`` runs at once, each awaiting ``--tasks`` ``@task`` calls one after the other, to
one worker on a fresh SQLite store, and prints the engine time (submit → every result) with what
the worker's cache of parked parents did: parents resumed alive, let go because their shared
process ran another round for too long (``busy``), rounds handed to a shared process instead of a
fork, parents evicted. It runs once with ``WAC_STICKY_SHARE=1`` (each parked parent in a process
of its own: the baseline) and once with the default, each in a process of its own, one after the
other in the same window, both with ``WAC_STICKY_MAX`` = the number of runs (every parent can stay
parked). Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))  # scratch and linear_bench beside this file

from linear_bench import SCRIPT  # noqa: E402
from scratch import scratch_script  # noqa: E402


def one(runs: int, tasks: int, slots: int) -> None:
    """In the measuring process: one scenario, its figures as a JSON line."""
    from wac.engine.store.base import JobSpec
    from wac.engine.worker import Worker, WorkerConfig

    with scratch_script(SCRIPT, "live") as (ws, bundle):
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=slots))
        worker.start()
        try:
            t0 = time.perf_counter()
            args = {"shape": "seq", "n": tasks}  # linear_bench's script: n @task calls one after the other
            ids = [ws.store.submit(JobSpec(bundle.hash, bundle.entry, args, "f/live")) for _ in range(runs)]
            for job_id in ids:
                job = ws.store.wait_for_result(job_id, 1800)
                if job.status != "succeeded" or job.result != sum(i + 1 for i in range(tasks)):
                    raise SystemExit(f"failed: {job.status} {job.error}")
            seconds = time.perf_counter() - t0
            p = worker.parked
            print(json.dumps({"seconds": seconds, "rounds": worker.rounds_run, "resumed": p.resumed,
                              "busy": p.busy, "shared": p.shared, "evicted": p.evicted}), flush=True)
        finally:
            worker.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--slots", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1, help="measure each setting this many times, alternating")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    opts = parser.parse_args()
    if opts.one:
        one(opts.runs, opts.tasks, opts.slots)
        return
    print(f"live runs bench: {opts.runs} runs of {opts.tasks} sequential tasks, one worker with {opts.slots} slots, "
          f"load {os.getloadavg()[0]:.1f}")
    for _ in range(opts.repeat):
        for share in ("1", "16"):
            env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "WAC_STICKY_SHARE": share,
                   "WAC_STICKY_MAX": str(opts.runs)}
            out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", "--runs", str(opts.runs),
                                  "--tasks", str(opts.tasks), "--slots", str(opts.slots)],
                                 capture_output=True, text=True, env=env, check=False)
            if out.returncode != 0:
                raise SystemExit(f"WAC_STICKY_SHARE={share} failed:\n{out.stderr[-2000:]}")
            got = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"WAC_STICKY_SHARE={share:2}  {got['seconds']:6.2f} s  rounds {got['rounds']}  resumed {got['resumed']}"
                  f"  busy {got['busy']}  shared {got['shared']}  evicted {got['evicted']}", flush=True)


if __name__ == "__main__":
    main()
