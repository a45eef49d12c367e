"""DBOS's figure for the linear bench (issue 17): a parent workflow calling n child workflows
one after the other, on a SQLite system database, in DBOS's own process (warm).

Runs in the bench's own environment, never the project's:

    python3 -m venv bench/.venv-dbos && bench/.venv-dbos/bin/pip install dbos
    bench/.venv-dbos/bin/python bench/linear_dbos.py [--sizes 10,100,300,1000]

Prints one JSON line per size: ``{"n", "seconds", "per_child_ms"}`` (wall time of the parent
workflow from start to result, the median of the size's runs; a warm-up run first). ``bench/linear_bench.py --dbos`` runs this
and prints the figures beside wac's. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,100,300,1000",
                        help="sizes, each N or NxRUNS (the median of RUNS runs; default 1)")
    opts = parser.parse_args()
    from dbos import DBOS, DBOSConfig

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "dbos.sqlite"
        config: DBOSConfig = {"name": "wac-linear-bench", "system_database_url": f"sqlite:///{db}",
                              "log_level": "ERROR", "console_log_level": "ERROR"}
        DBOS(config=config)

        @DBOS.workflow()
        def work(i: int) -> int:
            return i + 1

        @DBOS.workflow()
        def sequential(n: int) -> int:
            total = 0
            for i in range(n):
                total += work(i)  # a child workflow, recorded, run in this process
            return total

        DBOS.launch()
        logging.getLogger("dbos").setLevel(logging.ERROR)
        try:
            sequential(2)  # warm-up
            for size in opts.sizes.split(","):
                n, _, runs = size.partition("x")
                n_i, times = int(n), []
                for _ in range(int(runs or 1)):
                    t0 = time.perf_counter()
                    total = sequential(n_i)
                    times.append(time.perf_counter() - t0)
                    if total != sum(i + 1 for i in range(n_i)):
                        raise SystemExit(f"dbos: wrong total {total} for {n_i}")
                seconds = statistics.median(times)
                print(json.dumps({"n": n_i, "seconds": seconds, "per_child_ms": seconds / n_i * 1000}), flush=True)
        finally:
            DBOS.destroy()


if __name__ == "__main__":
    sys.exit(main())
