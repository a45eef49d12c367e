"""Workers on many "machines" sharing one PostgreSQL workspace: the full-size fan-out run.

Each machine is a ``wac worker`` process with its own HOME, cache, config and working directory,
talking to the server over TCP; the only thing they share is the database.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import pg_server
from tests.clirun import wac
from tests.e2e.postgres_machines import (
    machine_env,
    pg_url_or_skip,
    start_worker,
    stop_workers,
    wait_until,
    worker_log,
)

Write = Callable[[str, str], Path]
pytestmark = pytest.mark.slow

RUNS, FAN_OUT, MACHINES = 200, 20, 4
FAN_SCRIPT = """
    import os
    from wmill import task, workflow

    MARKS = {marks!r}

    @task
    def square(run: int, i: int) -> int:
        # One file per task body execution: O_EXCL makes a second execution visible.
        name = os.path.join(MARKS, f"{{run}}-{{i}}")
        try:
            os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            os.close(os.open(f"{{name}}.again.{{os.getpid()}}", os.O_CREAT | os.O_WRONLY))
        return i * i

    @workflow
    async def main(run: int, n: int = {n}):
        import asyncio
        return sum(await asyncio.gather(*[square(run, i) for i in range(n)]))
"""


def test_200_runs_of_20_task_fan_outs_on_4_worker_machines_finish_each_task_exactly_once(
    tmp_path: Path, repo: Path, write: Write, request: pytest.FixtureRequest,
) -> None:
    """The issue's "machines" test: 4 worker processes, each with its own HOME, cache and working
    directory, over TCP; 200 runs × 20-task fan-outs submitted while they work. Every result is
    right, no run is lost or duplicated, and no task body runs twice."""
    import psycopg

    from wac.engine.deployed import deployed_bundle
    from wac.engine.store import JobSpec, open_store

    url = pg_url_or_skip()
    marks = tmp_path / "marks"
    marks.mkdir()
    wac("workspace", "add", "prod", url, "--switch", cwd=repo)
    write("f/demo/fan.py", FAN_SCRIPT.format(marks=str(marks), n=FAN_OUT))
    wac("script", "push", "f/demo/fan.py", cwd=repo)
    names = [f"m{k}" for k in range(MACHINES)]
    # A long lease: this test is about sharing work, not taking it over (the kill and cut-off
    # tests are); a worker starved of CPU for a few seconds on a loaded machine must not lose
    # its claims and have a task body run again.
    workers = [start_worker(tmp_path, n, "-c", "4", "--lease", "120", env=machine_env(tmp_path, n))
               for n in names]
    store = open_store(url)
    request.addfinalizer(store.close)  # also when the test fails
    bundle, _record = deployed_bundle(store, "f/demo/fan")
    ids: list[str] = []
    started = time.monotonic()

    def submit() -> None:  # in batches while the workers already work
        for batch in range(0, RUNS, 10):
            for run in range(batch, batch + 10):
                ids.append(store.submit(JobSpec(bundle.hash, bundle.entry, {"run": run}, "f/demo/fan")))
            time.sleep(0.2)

    submitter = threading.Thread(target=submit)
    submitter.start()

    def finished() -> int:
        with psycopg.connect(url) as conn:
            row = conn.execute("SELECT count(*) FROM jobs WHERE parent_id IS NULL"
                               " AND status IN ('succeeded', 'failed', 'cancelled')").fetchone()
        return int(row[0]) if row else 0

    try:
        submitter.join(120)
        wait_until(f"{RUNS} runs to finish", lambda: finished() >= RUNS, 900, lambda: worker_log(tmp_path, *names))
        elapsed = time.monotonic() - started
    finally:
        stop_workers(workers)
    logs = worker_log(tmp_path, *names)
    print(f"\n{RUNS} runs x {FAN_OUT} tasks on {MACHINES} worker machines: {elapsed:.1f} s"
          f" ({RUNS * FAN_OUT / elapsed:.0f} child tasks/s)")

    # Every run, once, with the right result.
    assert len(ids) == len(set(ids)) == RUNS
    runs = [store.get_job(i) for i in ids]
    assert [(j.status, j.result) for j in runs] == [("succeeded", sum(i * i for i in range(FAN_OUT)))] * RUNS, logs
    with psycopg.connect(url) as conn:
        roots = conn.execute("SELECT count(*) FROM jobs WHERE parent_id IS NULL").fetchone()
        children = conn.execute(
            "SELECT parent_id, count(*), count(DISTINCT parent_key), sum(CASE WHEN status = 'succeeded'"
            " THEN 1 ELSE 0 END), count(DISTINCT worker_id) FROM jobs WHERE parent_id IS NOT NULL"
            " GROUP BY parent_id").fetchall()
        ran_on = conn.execute("SELECT count(DISTINCT split_part(worker_id, ':', 2)) FROM jobs"
                              " WHERE parent_id IS NOT NULL").fetchone()
    assert roots == (RUNS,)
    assert len(children) == RUNS
    assert {(n, keys, ok) for _parent, n, keys, ok, _w in children} == {(FAN_OUT, FAN_OUT, FAN_OUT)}
    assert ran_on == (MACHINES,), "every machine took part"
    # Every task body ran exactly once: no mark was made twice, none is missing.
    made = sorted(p.name for p in marks.iterdir())
    assert [m for m in made if ".again." in m] == []
    assert len(made) == RUNS * FAN_OUT
    # Each machine read the code from the database into its own cache; the password stays hidden.
    for n in names:
        assert list((tmp_path / n / "cache").rglob("fan.py")), f"{n} materialized no bundle"
    assert pg_server.PASSWORD not in logs
