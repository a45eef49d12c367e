"""The store micro-benchmarks (bench/store_bench.py) on SQLite and on PostgreSQL, in one run.

    .venv/bin/python bench/store_pg_bench.py [--runs N]

PostgreSQL is a throwaway local server started like the tests do (tests/pg_server.py: Debian's
initdb/pg_ctl, fsync off, TCP on 127.0.0.1), or WAC_TEST_POSTGRES_URL. Prints, never asserts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import pg_server


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    server = pg_server.server()
    if server is None:
        sys.exit("no PostgreSQL here: install Debian's postgresql or set WAC_TEST_POSTGRES_URL")
    urls = {
        "sqlite": f"sqlite://{Path(tempfile.mkdtemp(prefix='wac-bench-')) / 'wac.db'}",
        "postgresql": server.fresh_url(),
    }
    for name, url in urls.items():
        print(f"== {name}", flush=True)
        out = subprocess.run([sys.executable, str(ROOT / "bench" / "store_bench.py"), "--url", url,
                              "--runs", str(args.runs)], capture_output=True, text=True, cwd=ROOT, check=False)
        print("\n".join(line for line in out.stdout.splitlines() if not line.startswith("store:")))
        if out.returncode:
            print(out.stderr[-2000:])
    server.stop()


if __name__ == "__main__":
    main()
