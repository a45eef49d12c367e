"""The compatibility check of many live runs of one script (issue 14): prints figures, never asserts.

    .venv/bin/python bench/replaycheck_bench.py [--runs 1000] [--repeat 3]

Set-up: a temporary repo with one deployed workflow (three tasks in parallel, a step, a task, an
approval); ONE run is taken to its approval by real workers, then its job and step rows are
copied to make ``--runs`` live runs parked on the approval (the check reads them like any run).
An edited version (a task added after the approval) is then checked against all of them.

Figures (best of --repeat):
  read snapshots      the live runs and their steps, from the store (one read transaction)
  check (1 process)   materialize the bundle + one replay process dry-replaying every run
  script check CLI    the whole `wac script check PATH --runs 0` command, as a user runs it
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
sys.path.insert(0, str(SRC))

WF = """
    import asyncio
    from wac import step, task, wait_for_approval, workflow

    @task
    def fetch(i: int) -> int:
        return i * 2

    @task
    def total(xs: list) -> int:
        return sum(xs)

    @workflow
    async def main(n: int = 3):
        xs = await asyncio.gather(*[fetch(i) for i in range(n)])
        started = await step("started", lambda: "2026-01-01")
        t = await total(xs)
        await wait_for_approval(timeout=86400)
        {tail}
        return [started, t]
"""


def _wac(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-c", "from wac.cli.app import main; main()", *args], cwd=repo,
                          env=env, capture_output=True, text=True, check=False)


def _clone(store: object, job_id: str, copies: int) -> None:
    """Copy a parked run's job and step rows ``copies`` times (new ids), in one transaction."""
    import sqlite3

    def txn(c: sqlite3.Connection) -> None:
        cols = [r[1] for r in c.execute("PRAGMA table_info(jobs)") if r[1] != "seq"]
        rest = [x for x in cols if x not in ("id", "root_id", "idempotency_key", "secret")]
        base = int(job_id, 16)
        for i in range(1, copies + 1):
            new = f"{base + (i << 20):014x}"
            c.execute(f"INSERT INTO jobs (id, root_id, secret, {', '.join(rest)}) SELECT ?, ?, secret || ?,"
                      f" {', '.join(rest)} FROM jobs WHERE id = ?", (new, new, str(i), job_id))
            c.execute("INSERT INTO steps (job_id, key, seq, kind, done, failed, value, child_job_id, started_at,"
                      " finished_at) SELECT ?, key, seq, kind, done, failed, value, child_job_id, started_at,"
                      " finished_at FROM steps WHERE job_id = ?", (new, job_id))

    store._pool.write(txn)  # type: ignore[attr-defined]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()

    from wac.engine.bundle import build_bundle
    from wac.engine.local_backend import open_local
    from wac.engine.replaycheck import check
    from wac.engine.store._sqlite_evolve import run_snapshots
    from wac.engine.worker import WorkerConfig
    from wac.project import resolve_script

    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        (repo / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\n")
        script = repo / "f" / "bench" / "wf.py"
        script.parent.mkdir(parents=True)
        script.write_text(textwrap.dedent(WF.format(tail="pass")).lstrip())
        _wac(repo, "script", "push", "f/bench/wf.py").check_returncode()
        ws = open_local(repo)
        job_id = ws.run_script("f/bench/wf", {"n": 3})
        worker = ws.start_workers(WorkerConfig(slots=2))
        deadline = time.monotonic() + 60
        while ws.get_job(job_id).status != "suspended" and time.monotonic() < deadline:
            time.sleep(0.02)
        worker.stop()
        _clone(ws.store, job_id, opts.runs - 1)
        script.write_text(textwrap.dedent(WF.format(tail="t = await total([t, 1])")).lstrip())
        ref = resolve_script(repo, script)
        bundle = build_bundle(ref.repo_root, ref.main_file, ref.module_dir, {})

        reads, checks, clis = [], [], []
        for _ in range(opts.repeat):
            t0 = time.perf_counter()
            snaps = run_snapshots(ws.store, "f/bench/wf", live=True)
            t1 = time.perf_counter()
            verdicts = check(ws.store, ws.state_dir, bundle, snaps)
            t2 = time.perf_counter()
            reads.append(t1 - t0)
            checks.append(t2 - t1)
            assert len(verdicts) == opts.runs and all(v.compatible for v in verdicts), verdicts[:1]
            t3 = time.perf_counter()
            out = _wac(repo, "script", "check", "f/bench/wf.py", "--runs", "0")
            clis.append(time.perf_counter() - t3)
            assert out.returncode == 0, out.stderr
        ws.close()
    print(f"live runs checked       {opts.runs}")
    print(f"read snapshots          {min(reads) * 1000:8.1f} ms")
    print(f"check (1 process)       {min(checks) * 1000:8.1f} ms  ({min(checks) / opts.runs * 1e6:.0f} µs per run)")
    print(f"script check CLI        {min(clis) * 1000:8.1f} ms  (target ≤ 2000 ms)")


if __name__ == "__main__":
    main()
