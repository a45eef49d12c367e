"""Store micro-benchmarks: prints medians, never asserts.

    .venv/bin/python bench/store_bench.py [--url sqlite:///tmp/x/wac.db] [--runs N]

Figures:
  checkpoint fast path   one step() committed while the round keeps its claim (requeue=False)
  claim + complete       one child of 100 claimed and completed (result lands in the parent)
  dispatch 100           one dispatch of 100 children in one transaction
  fan-out 100 / 4 procs  100 children finished by 4 worker processes, parent re-queued once
  wake latency           commit in another process → wait_for_work returns
  sleep overshoot        how late an idle worker claims a job whose sleep ended
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wac.engine.store import ANY_TAG, ChildSpec, JobSpec, Store, open_store

BUNDLE = "bench"


def _children(n: int) -> list[ChildSpec]:
    return [ChildSpec(f"t_{i + 1}", "t", "main.py", {"i": i}, f"t_{i + 1}") for i in range(n)]


def _parent(store: Store) -> tuple[str, object]:
    job_id = store.submit(JobSpec(BUNDLE, "main.py", {}, "f/bench/wf"))
    claim = store.claim("bench", ANY_TAG, 600)
    assert claim is not None and claim.job.id == job_id
    return job_id, claim.token


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e3:.3f} ms" if seconds >= 1e-3 else f"{seconds * 1e6:.1f} µs"


def bench_checkpoint(store: Store, n: int) -> list[float]:
    _, token = _parent(store)
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        store.checkpoint(token, f"s_{i}", {"i": i}, requeue=False)  # type: ignore[arg-type]
        out.append(time.perf_counter() - t0)
    return out


def bench_claim_complete(store: Store, parents: int, n: int = 100) -> list[float]:
    """Claim + complete every child of ``parents`` workflows of ``n`` children each."""
    out = []
    for _ in range(parents):
        _, token = _parent(store)
        store.dispatch(token, _children(n))  # type: ignore[arg-type]
        for _ in range(n):
            t0 = time.perf_counter()
            c = store.claim("bench-w", ANY_TAG, 60)
            assert c is not None
            store.complete(c.token, {"ok": c.job.args["i"]})
            out.append(time.perf_counter() - t0)
        parent = store.claim("bench", ANY_TAG, 60)  # re-queued by the last child
        assert parent is not None and parent.job.parent_id is None
        store.complete(parent.token, None)
    return out


def bench_dispatch(store: Store, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        job_id, token = _parent(store)
        t0 = time.perf_counter()
        store.dispatch(token, _children(100))  # type: ignore[arg-type]
        out.append(time.perf_counter() - t0)
        store.cancel(job_id, "bench cleanup")
    return out


_FANOUT_WORKER = """
import sys
from wac.engine.store import ANY_TAG, open_store
store = open_store(sys.argv[1])
print("READY", flush=True)
sys.stdin.readline()
while True:
    c = store.claim("w", ANY_TAG, 60)
    if c is None:
        if sys.argv[2] == "stop":
            break
        store.wait_for_work(ANY_TAG, 0.05)
        continue
    if c.job.parent_id is None:
        print("PARENT", flush=True)
        break
    store.complete(c.token, c.job.args["i"])
"""


def bench_fanout(url: str, store: Store, runs: int, procs: int = 4) -> tuple[list[float], int]:
    out, lost = [], 0
    for _ in range(runs):
        job_id, token = _parent(store)
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", _FANOUT_WORKER, url, "go"], stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True,
            )
            for _ in range(procs)
        ]
        for w in workers:
            assert w.stdout is not None and w.stdout.readline().strip() == "READY"
        t0 = time.perf_counter()
        for w in workers:
            assert w.stdin is not None
            w.stdin.write("go\n")
            w.stdin.flush()
        store.dispatch(token, _children(100))  # type: ignore[arg-type]
        while store.get_job(job_id).rounds < 2:
            store.wait_for_change(job_id, 0.05)
        out.append(time.perf_counter() - t0)
        store.cancel(job_id, "bench cleanup")
        for w in workers:
            w.kill()
            w.communicate()
        steps = store.get_steps(job_id)
        lost += sum(1 for s in steps if not s.done)
    return out, lost


_WAKER = """
import sys, time
from wac.engine.store import JobSpec, open_store
store = open_store(sys.argv[1])
for _ in range(int(sys.argv[2])):
    sys.stdin.readline()
    time.sleep(0.02)
    print(time.perf_counter(), flush=True)
    store.submit(JobSpec("bench", "main.py", {}, "f/bench/wake"))
"""


def bench_wake(url: str, store: Store, runs: int) -> list[float]:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WAKER, url, str(runs)], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    out = []
    for _ in range(runs):
        while (c := store.claim("w", ANY_TAG, 60)) is not None:
            store.complete(c.token, None)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        store.wait_for_work(ANY_TAG, 5)
        woke = time.perf_counter()  # CLOCK_MONOTONIC is shared by processes on Linux
        sent = float(proc.stdout.readline())
        out.append(max(0.0, woke - sent))
    proc.communicate()
    return out


def bench_sleep_overshoot(store: Store, runs: int, seconds: float = 0.2) -> list[float]:
    """How late a slept job is claimed by an idle worker blocked in wait_for_work."""
    while (left := store.claim("w", ANY_TAG, 60)) is not None:  # what earlier benches left
        store.complete(left.token, None)
    out = []
    for _ in range(runs):
        _, token = _parent(store)
        until = store.now() + seconds
        store.sleep(token, "sleep", until)  # type: ignore[arg-type]
        while (c := store.claim("w", ANY_TAG, 60)) is None:
            store.wait_for_work(ANY_TAG, 5)
        out.append(store.now() - until)
        store.complete(c.token, None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="store URL (default: a fresh temp sqlite file)")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    url = args.url or f"sqlite://{Path(tempfile.mkdtemp(prefix='wac-bench-')) / 'wac.db'}"
    store = open_store(url)
    store.put_bundle(BUNDLE, {"main.py": "async def main(): ...\n"})
    print(f"store: {url}  python {sys.version.split()[0]}  cpus {os.cpu_count()}")

    def report(name: str, samples: list[float], extra: str = "") -> None:
        q = statistics.quantiles(samples, n=20) if len(samples) >= 2 else samples * 19
        print(f"{name:<26} median {_fmt(statistics.median(samples)):>10}   p95 {_fmt(q[18]):>10}"
              f"   n={len(samples)}{extra}")

    bench_checkpoint(store, 200)  # warm-up
    report("checkpoint fast path", bench_checkpoint(store, 2000))
    report("claim + complete child", bench_claim_complete(store, 5), "   (of 100 siblings)")
    report("dispatch 100 children", bench_dispatch(store, args.runs))
    fan, lost = bench_fanout(url, store, args.runs)
    report("fan-out 100 / 4 procs", fan, f"   results lost: {lost}")
    report("cross-process wake", bench_wake(url, store, args.runs))
    report("0.2 s sleep overshoot", bench_sleep_overshoot(store, args.runs))
    store.close()


if __name__ == "__main__":
    main()
