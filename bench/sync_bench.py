"""Benchmark the repo ⇄ workspace loop on the embedded workspace, through the real CLI.

On the generated repo of ``metadata_bench.make_repo`` (default 1,000 scripts, a third with
``__mod`` modules in both layouts, metadata generated first) it prints the median wall time (of
--runs runs) of:

* ``wac sync push --yes`` of every script into an empty workspace
* ``wac sync push --dry-run`` with nothing to push (the plan alone)
* ``wac sync pull --yes`` of every script into an empty clone (checked byte for byte)
* ``wac script run`` of a deployed one-task workflow vs ``wac script preview`` of the same file,
  whole processes, with the ratio (the baseline is preview, run in the same process)

Usage: .venv/bin/python bench/sync_bench.py [--scripts 1000] [--runs 3]
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from metadata_bench import make_repo  # noqa: E402

WAC = [sys.executable, "-m", "wac.cli"]
ONE_TASK = '''from wac import task, workflow


@task
def double(x: int) -> int:
    return 2 * x


@workflow
async def main(x: int = 21):
    return await double(x)
'''


def wac(*args: str, cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run([*WAC, *args], cwd=cwd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"wac {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return took


def same_tree(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b, ignore=[".wac", "wmill.yaml"])
    pending = [cmp]
    while pending:
        c = pending.pop()
        if c.left_only or c.right_only or filecmp.cmpfiles(c.left, c.right, c.common_files, shallow=False)[1]:
            return False
        pending.extend(c.subdirs.values())
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scripts", type=int, default=1000)
    ap.add_argument("--runs", type=int, default=3)
    opts = ap.parse_args()
    push, dry, pull, run, preview = [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        src = base / "src"
        src.mkdir()
        make_repo(src, opts.scripts)
        (src / "f" / "bench").mkdir(parents=True, exist_ok=True)
        (src / "f" / "bench" / "one.py").write_text(ONE_TASK)
        env = {**os.environ, "NO_COLOR": "1", "WAC_CONFIG_DIR": str(base / "cfg")}
        env.pop("WAC_WORKSPACE", None)
        wac("generate-metadata", "--schema-only", "--yes", cwd=src, env=env)
        for i in range(opts.runs):
            ws = f"ws{i}"
            wac("workspace", "add", ws, f"sqlite://{base / ws / 'wac.db'}", cwd=src, env=env)
            env_ws = {**env, "WAC_WORKSPACE": ws}
            push.append(wac("sync", "push", "--yes", cwd=src, env=env_ws))
            dry.append(wac("sync", "push", "--dry-run", cwd=src, env=env_ws))
            clone = base / f"clone{i}"
            clone.mkdir()
            shutil.copy(src / "wmill.yaml", clone / "wmill.yaml")
            pull.append(wac("sync", "pull", "--yes", cwd=clone, env=env_ws))
            if not same_tree(src, clone):
                raise SystemExit("the pulled clone differs from the pushed repo")
        env_ws = {**env, "WAC_WORKSPACE": "ws0"}
        wac("script", "run", "f/bench/one", cwd=src, env=env_ws)  # warm both stores and caches
        wac("script", "preview", "f/bench/one.py", cwd=src, env=env)
        for _ in range(max(5, opts.runs)):
            run.append(wac("script", "run", "f/bench/one", cwd=src, env=env_ws))
            preview.append(wac("script", "preview", "f/bench/one.py", cwd=src, env=env))
    med = statistics.median
    n = opts.scripts + 1
    print(f"scripts: {n} ({opts.scripts // 3} with __mod modules), median of {opts.runs} runs, {os.cpu_count()} cores")
    print(f"sync push --yes, empty workspace:     {med(push):.2f} s  ({med(push) / n * 1000:.2f} ms/script)")
    print(f"sync push --dry-run, nothing to push:  {med(dry):.2f} s")
    print(f"sync pull --yes, empty clone:          {med(pull):.2f} s  (byte-identical tree)")
    print(f"script run (deployed), one task:       {med(run):.3f} s")
    print(f"script preview (local), one task:      {med(preview):.3f} s  (baseline; run/preview = {med(run) / med(preview):.2f}x)")


if __name__ == "__main__":
    main()
