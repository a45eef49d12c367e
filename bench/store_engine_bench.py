"""The engine on SQLite and on PostgreSQL, the same scenarios in one run (issue 16's speed table).

    .venv/bin/python bench/store_engine_bench.py [--runs 3] [--queue 100] [--only sqlite|postgresql]

Real workers (zygote, round processes) on a fresh store of each kind:

  per step                 (1,000 sequential step() - 1 step) / 999, one in-process worker (4 slots)
  per sequential task      (100 sequential child tasks - 1) / 99, same worker
  fan-out 100 @ 10         one run of 100 tasks through parallel(concurrency=10), same worker
  fan-out 100 / 4 workers  one run of 100 parallel tasks, 4 worker processes (4 slots each)
  throughput N workers     child tasks/s: QUEUE runs x 20 tasks submitted first, then N worker
                           processes (4 slots each) started together; until every run is done

On PostgreSQL also throughput with 4 workers without NOTIFY at commit (waits fall back to the
1 s safety poll) and without the store's write lock (UNSAFE, measurement only): what each costs.
PostgreSQL is a throwaway local server as the tests start it (tests/pg_server.py: TCP on
127.0.0.1, fsync off), or WAC_TEST_POSTGRES_URL. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

from engine_bench import SCRIPT  # noqa: E402  (the same workflow, beside this file)

from tests import pg_server  # noqa: E402
from wac.engine.bundle import build_bundle  # noqa: E402
from wac.engine.store import JobSpec, Store, open_store  # noqa: E402
from wac.engine.worker import Worker, WorkerConfig  # noqa: E402

_WORKER = """
import sys, tempfile
from pathlib import Path
from wac.engine.store import _pg_conn, open_store
from wac.engine.worker import Worker, WorkerConfig
url, slots, flags = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
_pg_conn.PgPool.notify_on_write = "nonotify" not in flags
_pg_conn.PgPool.write_lock = "nolock" not in flags
store = open_store(url, migrate=False)
store.now()
w = Worker(store, Path(tempfile.mkdtemp(prefix="wac-bench-w-")), WorkerConfig(slots=slots))
w.zygotes.start()
print("READY", flush=True)
sys.stdin.readline()
w.start()
sys.stdin.readline()
w.stop()
store.close()
"""


class Site:
    """A fresh store of one kind with the bench script's bundle in it."""

    def __init__(self, kind: str, server: pg_server.PgServer | None, tmp: Path) -> None:
        self.kind, self.server, self.tmp = kind, server, tmp
        self.n = 0

    def fresh(self) -> tuple[str, Store, str, str]:
        self.n += 1
        if self.kind == "sqlite":
            url = f"sqlite://{self.tmp / f'wac{self.n}.db'}"
        else:
            assert self.server is not None
            url = self.server.fresh_url()
        store = open_store(url)
        repo = self.tmp / "repo"
        if not repo.exists():
            (repo / "f").mkdir(parents=True)
            (repo / "wmill.yaml").write_text("{}\n")
            (repo / "f" / "bench.py").write_text(SCRIPT)
        bundle = build_bundle(repo, repo / "f" / "bench.py", repo / "f" / "bench__mod")
        store.put_bundle(bundle.hash, bundle.files)
        return url, store, bundle.hash, bundle.entry


def _run(store: Store, bundle: str, entry: str, scenario: str, n: int, tag: str | None = None) -> float:
    t0 = time.perf_counter()
    job_id = store.submit(JobSpec(bundle, entry, {"scenario": scenario, "n": n}, "f/bench"))
    job = store.wait_for_result(job_id, 900)
    if job.status != "succeeded":
        raise SystemExit(f"{scenario} failed: {job.error}")
    return time.perf_counter() - t0


def in_process(site: Site, runs: int) -> dict[str, float]:
    url, store, bundle, entry = site.fresh()
    worker = Worker(store, site.tmp / f"state{site.n}", WorkerConfig(slots=4))
    worker.start()
    try:
        _run(store, bundle, entry, "tasks_seq", 1)  # warm-up

        def med(scenario: str, n: int) -> float:
            return statistics.median(_run(store, bundle, entry, scenario, n) for _ in range(runs))

        one_step, steps = med("steps_seq", 1), med("steps_seq", 1000)
        one_task, tasks = med("tasks_seq", 1), med("tasks_seq", 100)
        return {"per step": (steps - one_step) / 999, "per sequential task": (tasks - one_task) / 99,
                "fan-out 100 @ 10": med("tasks_par10", 100)}
    finally:
        worker.stop()
        store.close()


def _workers(url: str, count: int, flags: str = "") -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    procs = [subprocess.Popen([sys.executable, "-c", _WORKER, url, "4", flags or "-"], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
             for _ in range(count)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "READY"
    return procs


def _signal(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("\n")
        p.stdin.flush()


def _stop(procs: list[subprocess.Popen[str]]) -> None:
    for p in procs:
        try:
            _signal([p])
        except BrokenPipeError:
            pass
    for p in procs:
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()


def fan_out_4(site: Site, runs: int) -> float:
    url, store, bundle, entry = site.fresh()
    procs = _workers(url, 4)
    _signal(procs)
    try:
        _run(store, bundle, entry, "tasks_seq", 1)  # warm-up
        return statistics.median(_run(store, bundle, entry, "tasks_par", 100) for _ in range(runs))
    finally:
        _stop(procs)
        store.close()


def throughput(site: Site, workers: int, queue: int, fan: int = 20, flags: str = "") -> float:
    """Child tasks per second: ``queue`` runs of ``fan`` tasks submitted first, then the workers."""
    url, store, bundle, entry = site.fresh()
    ids = [store.submit(JobSpec(bundle, entry, {"scenario": "tasks_par", "n": fan}, "f/bench")) for _ in range(queue)]
    procs = _workers(url, workers, flags)
    try:
        t0 = time.perf_counter()
        _signal(procs)
        for job_id in ids:
            job = store.wait_for_result(job_id, 1800)
            if job.status != "succeeded":
                raise SystemExit(f"throughput run failed: {job.error}")
        return queue * fan / (time.perf_counter() - t0)
    finally:
        _stop(procs)
        store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per timed scenario (median)")
    ap.add_argument("--queue", type=int, default=100, help="runs of 20 tasks in the throughput queue")
    ap.add_argument("--only", choices=["sqlite", "postgresql"])
    ap.add_argument("--skip-knobs", action="store_true", help="no NOTIFY/lock cost figures")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the throwaway server on a kill too
    kinds = [args.only] if args.only else ["sqlite", "postgresql"]
    server = pg_server.server() if "postgresql" in kinds else None
    if "postgresql" in kinds and server is None:
        sys.exit("no PostgreSQL here: install Debian's postgresql or set WAC_TEST_POSTGRES_URL")
    print(f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}, median of {args.runs} runs,"
          f" throughput queue {args.queue} x 20 tasks", flush=True)
    table: dict[str, dict[str, str]] = {}
    try:
        _measure(args, kinds, server, table)
    finally:
        if server is not None:
            server.stop()
    rows = list(dict.fromkeys(r for col in table.values() for r in col))
    print("\n| | " + " | ".join(table) + " |\n|---|" + "---|" * len(table))
    for r in rows:
        print(f"| {r} | " + " | ".join(table[k].get(r, "") for k in table) + " |")


def _measure(args: argparse.Namespace, kinds: list[str], server: pg_server.PgServer | None,
             table: dict[str, dict[str, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="wac-bench-") as tmp:
        for kind in kinds:
            site = Site(kind, server, Path(tmp) / kind)
            site.tmp.mkdir()
            col = table.setdefault(kind, {})
            for name, secs in in_process(site, args.runs).items():
                col[name] = f"{secs * 1e3:.2f} ms" if name != "fan-out 100 @ 10" else f"{secs * 1e3:.0f} ms"
                print(f"{kind:10} {name:34} {col[name]}", flush=True)
            col["fan-out 100 / 4 workers"] = f"{fan_out_4(site, args.runs) * 1e3:.0f} ms"
            print(f"{kind:10} {'fan-out 100 / 4 workers':34} {col['fan-out 100 / 4 workers']}", flush=True)
            for n in (1, 2, 4):
                name = f"throughput, {n} worker{'s' if n > 1 else ''} (tasks/s)"
                col[name] = f"{throughput(site, n, args.queue):.0f}"
                print(f"{kind:10} {name:34} {col[name]}", flush=True)
            if kind == "postgresql" and not args.skip_knobs:
                for flags, name in (("nonotify", "4 workers, no NOTIFY (tasks/s)"),
                                    ("nolock", "4 workers, no write lock, UNSAFE (tasks/s)")):
                    col[name] = f"{throughput(site, 4, args.queue, flags=flags):.0f}"
                    print(f"{kind:10} {name:34} {col[name]}", flush=True)


if __name__ == "__main__":
    main()
