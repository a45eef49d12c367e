"""A worker process for the race tests: ``python race_worker.py URL PARENT_ID NAME``.

Prints ``READY``, then claims anything runnable and completes children with
``{"i": i, "by": NAME}`` until the parent has been claimed a second time. If it claims the parent it prints ``PARENT <attempt>`` and keeps the claim (so a
second re-queue of the parent would show up as a second claim). Prints ``DONE <n>`` at the end.
"""

from __future__ import annotations

import sys
import time

from wac.engine.store import ANY_TAG, open_store


def main() -> None:
    url, parent_id, name = sys.argv[1:4]
    store = open_store(url)
    print("READY", flush=True)
    done = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        c = store.claim(name, ANY_TAG, 60)
        if c is None:
            parent = store.get_job(parent_id)
            if parent.rounds >= 2 or parent.status in ("succeeded", "failed", "cancelled"):
                break
            store.wait_for_work(ANY_TAG, 0.05)
            continue
        if c.job.id == parent_id:
            print(f"PARENT {c.token.attempt}", flush=True)
            continue
        store.complete(c.token, {"i": c.job.args["i"], "by": name})
        done += 1
    print(f"DONE {done}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
