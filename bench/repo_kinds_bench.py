"""Benchmark a whole repo: 1,000 scripts and 300 flows (issue 18), through the real CLI.

Prints the median wall time (of --runs runs) of:

* ``wac generate-metadata rehash`` (scripts, flows and their inline scripts hashed)
* ``wac sync push --yes`` with nothing to push (a no-op push: plan of scripts and items)
* and, when a ``windmill-cli`` is installed (``--wmill /path/to/node_modules/.bin/wmill``),
  ``wmill generate-metadata rehash`` on the same tree, checking wmill-lock.yaml is byte-identical.

Usage: .venv/bin/python bench/repo_kinds_bench.py [--scripts 1000] [--flows 300] [--runs 3] [--wmill PATH]
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from metadata_bench import make_repo  # noqa: E402

WAC = [sys.executable, "-m", "wac.cli"]
FLOW_YAML = """summary: Flow {i}
value:
  modules:
    - id: a
      value:
        type: rawscript
        content: '!inline fetch.inline_script.py'
        input_transforms: {{}}
        lock: '!inline fetch.inline_script.lock'
        language: python3
    - id: b
      value:
        type: rawscript
        content: '!inline shape.inline_script.ts'
        input_transforms: {{}}
        language: bun
schema:
  type: object
  properties: {{}}
"""


def make_flows(root: Path, n: int) -> None:
    with (root / "wmill.yaml").open("a") as fh:
        fh.write("nonDottedPaths: true\n")  # wmill refuses __flow folders without it
    for i in range(n):
        folder = root / "f" / f"flows{i % 10}" / f"flow{i}__flow"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "flow.yaml").write_text(FLOW_YAML.format(i=i))
        (folder / "fetch.inline_script.py").write_text(f"def main(x: int = {i}):\n    return x\n")
        (folder / "fetch.inline_script.lock").write_text("# py: 3.12\n")
        (folder / "shape.inline_script.ts").write_text(f"export async function main() {{ return {i} }}\n")


def timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scripts", type=int, default=1000)
    parser.add_argument("--flows", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--wmill", default=None, help="a wmill executable (npm windmill-cli@1.819.0)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wac-kinds-bench-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        make_repo(repo, args.scripts)
        make_flows(repo, args.flows)
        env = {**os.environ, "NO_COLOR": "1", "WAC_CONFIG_DIR": str(Path(tmp) / "cfg"),
               "XDG_CACHE_HOME": str(Path(tmp) / "cache")}
        print(f"repo: {args.scripts} scripts, {args.flows} flows (2 inline scripts each); median of {args.runs} runs, "
              f"{os.cpu_count()} cores")
        timed([*WAC, "generate-metadata", "rehash"], repo, env)  # creates the scripts' metadata once
        rehash = statistics.median(timed([*WAC, "generate-metadata", "rehash"], repo, env) for _ in range(args.runs))
        print(f"wac generate-metadata rehash        {rehash:6.2f} s")
        first = timed([*WAC, "sync", "push", "--yes"], repo, env)
        print(f"wac sync push --yes (first, all)    {first:6.2f} s")
        noop = statistics.median(timed([*WAC, "sync", "push", "--yes"], repo, env) for _ in range(args.runs))
        print(f"wac sync push --yes (nothing new)   {noop:6.2f} s")
        if args.wmill:
            wtree = Path(tmp) / "wmill"
            shutil.copytree(repo, wtree, ignore=shutil.ignore_patterns(".wac"))
            wenv = {**os.environ, "HOME": tmp}
            w = statistics.median(timed([args.wmill, "generate-metadata", "rehash"], wtree, wenv)
                                  for _ in range(args.runs))
            same = (wtree / "wmill-lock.yaml").read_bytes() == (repo / "wmill-lock.yaml").read_bytes()
            print(f"wmill generate-metadata rehash      {w:6.2f} s   wmill-lock.yaml "
                  f"{'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
