"""wac server: how fast the runs pages answer, and how soon an open run page sees a change.

    .venv/bin/python bench/server_bench.py [--runs 100000] [--tasks 1000] [--repeat 20]

Builds a store with ``--runs`` root jobs (raw inserts, for speed) and one run with ``--tasks``
task children, starts the real ``wac server`` on it (127.0.0.1, free port), and prints the median
and p90 wall time of: the runs list (first page, a page deep in the keyset, a status filter, a
script filter), the run page of the big run (HTML with its graph) and its graph JSON; then the
time from a job's state change (a commit by another process) to the event reaching an open
event stream. Targets: runs list <= 100 ms with 100,000 jobs, run page of 1,000 tasks <= 100 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
sys.path.insert(0, str(SRC))

from wac.engine.store import open_store  # noqa: E402

COLS = ("seq, id, root_id, parent_id, parent_key, status, bundle_hash, entry, script_path, name, args, options,"
        " tag, created_at, started_at, finished_at, scheduled_at, result, secret")


def _build(db: Path, runs: int, tasks: int) -> tuple[str, list[str]]:
    store = open_store(f"sqlite:///{db}")
    store.close()
    now = time.time()
    statuses = ("succeeded", "failed", "cancelled", "succeeded", "succeeded")
    rows = []
    for i in range(1, runs + 1):
        jid = f"{i:014x}"
        st = statuses[i % len(statuses)]
        rows.append((i, jid, jid, None, None, st, "b", "main.py", f"f/bench/s{i % 20}", "s", "{}", "{}",
                     "default", now - (runs - i), now - (runs - i), now - (runs - i) + 1.5, 0, "null", ""))
    big = f"{runs + 1:014x}"
    seq = runs + 1
    rows.append((seq, big, big, None, None, "running", "b", "main.py", "f/bench/big", "big", '{"n": 1}', "{}",
                 "default", now, now, None, 0, None, ""))
    steps = []
    for t in range(tasks):
        seq += 1
        cid = f"{seq:014x}"
        key = "work" if t == 0 else f"work_{t + 1}"
        rows.append((seq, cid, big, big, key, "succeeded", "b", "main.py", "f/bench/big", "work", json.dumps({"x": t}),
                     "{}", "default", now, now, now + 0.01, 0, json.dumps(t * t), ""))
        steps.append((big, key, t + 1, "task", 1, json.dumps(t * t), cid, now, now + 0.01))
    waiting = []
    for _ in range(30):  # runs waiting for an approval: the live-update probes
        seq += 1
        wid = f"{seq:014x}"
        rows.append((seq, wid, wid, None, None, "suspended", "b", "main.py", "f/bench/wait", "wait", "{}", "{}",
                     "default", now, now, None, 0, None, ""))
        steps.append((wid, "approval", 1, "approval", 0, None, None, now, None))
        waiting.append(wid)
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT OR IGNORE INTO bundles VALUES ('b', '{}', 0)")
        conn.executemany(f"INSERT INTO jobs ({COLS}) VALUES ({','.join('?' * 19)})", rows)
        conn.executemany("INSERT INTO steps (job_id, key, seq, kind, done, value, child_job_id, started_at, finished_at)"
                         " VALUES (?,?,?,?,?,?,?,?,?)", steps)
        conn.executemany("UPDATE jobs SET suspended_key = 'approval' WHERE id = ?", [(w,) for w in waiting])
        conn.execute("ANALYZE")
    return big, waiting


def _stats(samples: list[float]) -> str:
    s = sorted(samples)
    return f"median {statistics.median(s) * 1000:7.1f} ms   p90 {s[int(len(s) * 0.9) - 1] * 1000:7.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=20)
    opts = ap.parse_args()
    import httpx

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("defaultTs: bun\n")
        (repo / ".wac").mkdir()
        db = repo / ".wac" / "wac.db"
        t0 = time.perf_counter()
        big, waiting = _build(db, opts.runs, opts.tasks)
        print(f"store: {opts.runs:,} runs + one run of {opts.tasks:,} tasks, built in {time.perf_counter() - t0:.1f} s")
        env = {**os.environ, "PYTHONPATH": str(SRC), "WAC_CONFIG_DIR": str(repo / "cfg")}
        token = secrets.token_urlsafe(24)
        (repo / "tok").write_text(token)
        proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "server", "--port", "0",
                                 "--token-file", str(repo / "tok")], cwd=repo, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True)
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().split()[1]
            http = httpx.Client(base_url=url, headers={"authorization": f"Bearer {token}"}, timeout=60)
            deep = http.get("/runs", params={"format": "json"}).json()
            for _ in range(40):  # walk up to 2,000 runs deep for a keyset page
                if not deep["older"]:
                    break
                older = deep["older"]
                deep = http.get(older + "&format=json").json()
            deep["older"] = deep["older"] or older
            cases = {
                "runs list, first page": "/runs",
                "runs list, 2,000 runs deep": deep["older"],
                "runs list, status=failed": "/runs?status=failed",
                "runs list, script filter": "/runs?script=f/bench/s7",
                f"run page, {opts.tasks:,} tasks (HTML)": f"/runs/{big}",
                f"run graph, {opts.tasks:,} tasks (JSON)": f"/runs/{big}/graph",
            }
            for name, path in cases.items():
                http.get(path).raise_for_status()
                samples = []
                for _ in range(opts.repeat):
                    t = time.perf_counter()
                    r = http.get(path)
                    samples.append(time.perf_counter() - t)
                    r.raise_for_status()
                print(f"{name:34} {_stats(samples)}   ({len(r.content):,} bytes)")
            lat = []
            store = open_store(f"sqlite:///{db}")
            for wid in waiting[: min(len(waiting), opts.repeat)]:
                seen = threading.Event()
                changed_at: list[float] = []
                arrived: list[float] = []

                def listen(wid: str = wid, seen: threading.Event = seen, arrived: list[float] = arrived) -> None:
                    with http.stream("GET", f"/runs/{wid}/events") as events:
                        first = True
                        for line in events.iter_lines():
                            if not line.startswith("data: "):
                                continue
                            if first:
                                first = False
                                seen.set()
                                continue
                            if json.loads(line[6:])["jobs"][wid]["status"] == "queued":
                                arrived.append(time.perf_counter())
                                return

                th = threading.Thread(target=listen, daemon=True)
                th.start()
                seen.wait(30)
                changed_at.append(time.perf_counter())
                store.resume(wid, "approval", None, False, None, "bench")
                th.join(30)
                if arrived:
                    lat.append(arrived[0] - changed_at[0])
            store.close()
            print(f"{'state change -> open page event':34} {_stats(lat)}   ({len(lat)} changes)")
        finally:
            proc.terminate()
            proc.wait(timeout=20)


if __name__ == "__main__":
    main()
