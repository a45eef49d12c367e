"""Benchmark generate-metadata on a generated repo of 1,000 scripts (a third with __mod modules).

Prints the median wall time (of --runs runs, default 3) of the real CLI in a subprocess:

* ``wac generate-metadata rehash``                 target <= 1.5 s
* ``wac generate-metadata --dry-run`` (no change)  target <= 1.5 s
* ``wac generate-metadata --schema-only --yes`` with all 1,000 stale   target <= 8 s
* ``wmill generate-metadata rehash`` (npm windmill-cli) on the same tree, and the ratio;
  skipped when npm is unavailable. The CLI is installed under bench/out/npm (gitignored).

Usage: .venv/bin/python bench/metadata_bench.py [--scripts 1000] [--runs 3] [--no-wmill]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NPM_DIR = HERE / "out" / "npm"
WMILL_VERSION = "1.819.0"


def make_repo(root: Path, n: int) -> None:
    """``n`` scripts in 20 folders; every third has modules (alternating flat and folder layout)."""
    (root / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\n")
    for i in range(n):
        folder = root / "f" / f"team{i % 20}"
        body = (
            "import os\n"
            "from typing import Literal, Optional\n\n"
            f"def main(x: int, name: str = 'n{i}', mode: Literal['a', 'b'] = 'a', opt: Optional[float] = None,\n"
            "         tags: list[str] = [], flag: bool = False):\n"
            f"    return x + {i}\n"
        )
        if i % 3 == 0:
            if i % 2 == 0:
                main = folder / f"s{i}.py"
                mod = folder / f"s{i}__mod"
            else:
                mod = folder / f"s{i}__mod"
                main = mod / "script.py"
            mod.mkdir(parents=True, exist_ok=True)
            (mod / "extract.py").write_text(f"def main(url: str):\n    return {i}\n")
            (mod / "lib").mkdir(exist_ok=True)
            (mod / "lib" / "util.py").write_text(f"VALUE = {i}\n")
        else:
            main = folder / f"s{i}.py"
        main.parent.mkdir(parents=True, exist_ok=True)
        main.write_text(body)


def wac_cmd() -> list[str]:
    exe = ROOT / ".venv" / "bin" / "wac"
    if exe.exists():
        return [str(exe)]
    return [sys.executable, "-c", "from wac.cli.app import main; main()"]


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def median_of(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(fn() for _ in range(runs))


def find_wmill() -> list[str] | None:
    main = NPM_DIR / "node_modules" / "windmill-cli" / "esm" / "main.js"
    if not main.exists():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            return None
        NPM_DIR.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            [npm, "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(NPM_DIR),
             f"windmill-cli@{WMILL_VERSION}"],
            capture_output=True, text=True, check=False, timeout=600,
        )
        if proc.returncode != 0 or not main.exists():
            print(f"# npm install windmill-cli failed: {proc.stderr.strip()[:200]}")
            return None
    return [shutil.which("node") or "node", str(main)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripts", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-wmill", action="store_true")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "NO_COLOR": "1"}
    wac = wac_cmd()
    with tempfile.TemporaryDirectory(prefix="wac-bench-") as tmp:
        pristine = Path(tmp) / "pristine"
        pristine.mkdir()
        make_repo(pristine, args.scripts)
        repo = Path(tmp) / "repo"
        shutil.copytree(pristine, repo)
        print(f"repo: {args.scripts} scripts ({args.scripts // 3 + (args.scripts % 3 > 0)} with __mod modules), "
              f"median of {args.runs} runs, {os.cpu_count()} cores")

        timed([*wac, "generate-metadata", "rehash"], repo, env)  # creates the metadata files once
        rehash = median_of(args.runs, lambda: timed([*wac, "generate-metadata", "rehash"], repo, env))
        print(f"wac rehash                         {rehash:6.2f} s   (target <= 1.5 s)")

        dry = median_of(args.runs, lambda: timed([*wac, "generate-metadata", "--dry-run"], repo, env))
        print(f"wac --dry-run, nothing stale       {dry:6.2f} s   (target <= 1.5 s)")

        def schema_only() -> float:
            fresh = Path(tmp) / "schema"
            if fresh.exists():
                shutil.rmtree(fresh)
            shutil.copytree(pristine, fresh)
            return timed([*wac, "generate-metadata", "--schema-only", "--yes"], fresh, env)

        schema = median_of(args.runs, schema_only)
        print(f"wac --schema-only, all stale       {schema:6.2f} s   (target <= 8 s)")

        if args.no_wmill:
            return
        wmill = find_wmill()
        if wmill is None:
            print("wmill rehash                       skipped (npm/node or windmill-cli unavailable)")
            return
        wtree = Path(tmp) / "wmill"
        shutil.copytree(repo, wtree)
        wenv = {**os.environ, "HOME": tmp}
        timed([*wmill, "generate-metadata", "rehash"], wtree, wenv)
        w = median_of(args.runs, lambda: timed([*wmill, "generate-metadata", "rehash"], wtree, wenv))
        same = (wtree / "wmill-lock.yaml").read_bytes() == (repo / "wmill-lock.yaml").read_bytes()
        print(f"wmill rehash ({WMILL_VERSION})             {w:6.2f} s   wac is {w / rehash:.1f}x faster; "
              f"wmill-lock.yaml {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
