"""Parser throughput: parse_script over 1,000 generated scripts, per detail level.

    .venv/bin/python bench/bench_parser.py [--n 1000] [--repeat 3]

Prints the median wall time per level, single process and with a 2-process pool (what
generate-metadata can use). Target: --schema-only over 1,000 scripts in <= 8 s in total.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from wac.parser import parse_script  # noqa: E402

PLAIN = '''import os
import requests
from typing import Optional, Literal
from f.shared.utils import helper

def fetch(url: str) -> dict:
    r = requests.get(url, timeout=10)
    r.raise_for_status()
    return r.json()

def main(url: str, retries: int = {i}, mode: Literal["a", "b"] = "a",
         token: Optional[str] = None, tags: list[str] = [], db: postgresql = None):
    """Fetch a URL.

    Args:
        url: the url
        retries: how many times
    """
    out = []
    for _ in range(retries):
        out.append(fetch(url))
    return {{"n": len(out), "mode": mode, "tags": tags}}
'''

WORKFLOW = '''import asyncio
import json
from wac import workflow, task, step, sleep, parallel, task_script

@task(timeout=30, tag="io")
async def fetch(url: str) -> dict:
    return {{"url": url}}

@task(retry={{"attempts": 3, "delay": 1}})
async def transform(data: dict, factor: int = 2) -> dict:
    return {{k: v for k, v in data.items()}}

@task
def store(rows: list[dict]) -> int:
    return sum(len(json.dumps(r)) for r in rows)

extract = task_script("./extract.py", timeout=60)

@workflow
async def main(urls: list[str], factor: int = {i}, label: str = "run"):
    started = await step("started", lambda: 1)
    pages = await parallel(urls, fetch, concurrency=4)
    out = [await transform(p, factor=factor) for p in pages]
    await sleep(5)
    n = await store(out)
    return {{"n": n, "label": label, "started": started, "x": await extract(n=n)}}
'''

MODELS = '''from enum import Enum
from dataclasses import dataclass
import pandas as pd

class Color(str, Enum):
    RED = "red"
    GREEN = "green"

@dataclass
class Point:
    x: int
    y: int = {i}
    label: str = "origin"

def main(p: Point, color: Color = Color.RED, scale: float = 1.5):
    return pd.DataFrame([p.x, p.y])
'''


def corpus(n: int) -> list[str]:
    kinds = (PLAIN, WORKFLOW, MODELS)
    return [kinds[i % 3].format(i=i) for i in range(n)]


def run(sources: list[str], detail: str) -> int:
    count = 0
    for i, source in enumerate(sources):
        info = parse_script(source, f"f/bench/s{i}.py", remote_path=f"f/bench/s{i}",
                            detail=detail)
        count += info.schema is not None
    return count


def _chunk(args: tuple[list[str], str]) -> int:
    return run(*args)


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    opts = parser.parse_args()
    sources = corpus(opts.n)
    print(f"{opts.n} scripts (1/3 plain, 1/3 workflow, 1/3 enum+dataclass), "
          f"median of {opts.repeat}")
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_chunk, [(sources[:2], "schema")] * 2))  # warm the workers up
        for detail in ("schema", "metadata", "full"):
            single = timed(lambda d=detail: run(sources, d), opts.repeat)
            halves = [(sources[0::2], detail), (sources[1::2], detail)]
            pooled = timed(lambda h=halves: sum(pool.map(_chunk, h)), opts.repeat)
            print(f"  detail={detail:<9} 1 process {single:6.2f} s "
                  f"({single / opts.n * 1000:5.2f} ms/script)   2 processes {pooled:6.2f} s")


if __name__ == "__main__":
    main()
