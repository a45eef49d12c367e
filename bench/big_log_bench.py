"""A task that prints a lot: wall time, peak memory and store growth of `wac script preview`.

    .venv/bin/python bench/big_log_bench.py [--mb 50]

Runs a workflow whose one task prints MB megabytes (80-character lines) through the real CLI
(stderr to a pipe that is read and counted, as a CI log would), then `wac job logs`. Prints the
wall time of each, the peak RSS of the biggest process involved (the CLI, its workers or a round),
how much the store grew and how much reached stderr / stdout.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"

WF = '''
import sys
from wac import task, workflow

@task
def chatty(mb: int) -> int:
    line = "x" * 79 + "\\n"
    for _ in range(mb * 1024 * 1024 // 80):
        sys.stdout.write(line)
    return mb

@workflow
async def main(mb: int = 1):
    return await chatty(mb)
'''


def _store_size(repo: Path) -> int:
    return sum(p.stat().st_size for p in (repo / ".wac").glob("wac.db*"))


def _run(repo: Path, *args: str) -> tuple[float, int, int]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", *args], cwd=repo,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"wac {' '.join(args)} exited {proc.returncode}: {err[-2000:].decode(errors='replace')}")
    return wall, len(out), len(err)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=50)
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp)
        os.environ["WAC_CONFIG_DIR"] = str(repo / "config")
        (repo / "wmill.yaml").write_text("includes:\n  - f/**\n")
        (repo / "f" / "b").mkdir(parents=True)
        (repo / "f" / "b" / "chatty.py").write_text(WF)
        _run(repo, "script", "preview", "f/b/chatty.py")  # warm the store and the zygote
        before = _store_size(repo)
        wall, out, err = _run(repo, "script", "preview", "f/b/chatty.py", "-d", f'{{"mb": {opts.mb}}}')
        grew = _store_size(repo) - before
        job = subprocess.run([sys.executable, "-c", "from wac.cli.app import main; main()", "job", "list", "--json"],
                             cwd=repo, env={**os.environ, "PYTHONPATH": str(SRC)}, capture_output=True, text=True)
        import json

        job_id = json.loads(job.stdout)[0]["id"]
        lwall, lout, _ = _run(repo, "job", "logs", job_id)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(f"task printed {opts.mb} MB")
        print(f"preview: {wall:.2f} s wall, {err / 1e3:.1f} KB on stderr, {out} B on stdout")
        print(f"store grew {grew / 1e6:.2f} MB")
        print(f"job logs: {lwall:.2f} s wall, {lout / 1e6:.2f} MB on stdout")
        print(f"peak RSS of the biggest process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
