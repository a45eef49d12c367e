"""A worker cut off past its lease (its whole process tree stopped with SIGSTOP, as a frozen or
partitioned machine would be): another worker takes its claim over and finishes the run; when
the first one comes back (SIGCONT) its round is killed before it runs one more line of user code
and nothing it tries to commit lands (fencing). On PostgreSQL, and on SQLite for comparison."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import alive, wac
from tests.e2e.postgres_machines import (
    machine_env,
    pg_url_or_skip,
    process_tree,
    start_worker,
    stop_workers,
    wait_until,
    worker_log,
)
from wac.engine.store import Store, open_store

Write = Callable[[str, str], Path]
pytestmark = pytest.mark.slow

TICKS = """
    import os
    import time
    from wmill import step, workflow

    def tick(k: int) -> str:
        time.sleep(0.3)
        with open({marks!r}, "a") as f:  # user code that runs after the sleep
            f.write(f"{{os.getpid()}} {{k}}\\n")
        return f"{{os.getpid()}}:{{k}}"

    @workflow
    async def main(n: int = 14):
        out = []
        for k in range(n):
            out.append(await step(f"tick_{{k}}", lambda k=k: tick(k)))
        return out
"""


def _lines(marks: Path) -> list[tuple[int, int]]:
    if not marks.exists():
        return []
    return [(int(p), int(k)) for p, k in (ln.split() for ln in marks.read_text().splitlines() if ln.strip())]


def _signal_tree(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _state(store: Store, job_id: str) -> tuple[Any, ...]:
    job = store.get_job(job_id)
    steps = [(s.key, s.done, s.failed, s.value, s.finished_at) for s in store.get_steps(job_id)]
    logs = [(line.seq, line.text) for line in store.read_logs(job_id)]
    return (job.status, job.result, job.error, job.attempt, job.worker_id, job.finished_at, steps, logs)


def _sqlite_write_lock_free(db: Path) -> bool:
    conn = sqlite3.connect(db, timeout=0.3, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["postgres", "sqlite"])
def test_a_worker_stopped_past_its_lease_is_taken_over_and_fenced_when_it_comes_back(
    tmp_path: Path, repo: Path, write: Write, kind: str, request: pytest.FixtureRequest,
) -> None:
    marks = tmp_path / "marks.txt"
    if kind == "postgres":
        url = pg_url_or_skip()
        wac("workspace", "add", "prod", url, "--switch", cwd=repo)
    write("f/demo/ticks.py", TICKS.format(marks=str(marks)))
    wac("script", "push", "f/demo/ticks.py", cwd=repo)
    if kind == "sqlite":
        url = f"sqlite://{repo / '.wac' / 'wac.db'}"
    job_id = wac("script", "run", "f/demo/ticks", "--no-wait", cwd=repo).stdout.strip()

    def env(name: str) -> dict[str, str]:
        e = machine_env(tmp_path, name, copy_workspaces=kind == "postgres")
        if kind == "sqlite":  # one host: the workers share the repo's store file
            e["WAC_CONFIG_DIR"] = os.environ["WAC_CONFIG_DIR"]
        return e

    def start(name: str) -> Any:
        e = env(name)
        if kind == "sqlite":
            (Path(e["HOME"]) / "wd").rmdir()
            (Path(e["HOME"]) / "wd").symlink_to(repo)
        return start_worker(tmp_path, name, "-c", "1", "--lease", "2", env=e)

    a = start("a")
    workers = [a]
    store = open_store(url, migrate=False)
    request.addfinalizer(store.close)  # also when the test fails
    try:
        wait_until("a's round to run two ticks", lambda: len(_lines(marks)) >= 2, 120,
                   lambda: worker_log(tmp_path, "a"))
        p1 = _lines(marks)[0][0]
        # Freeze the whole "machine": the worker, its zygote and its round.
        for _attempt in range(50):
            tree = process_tree(a.pid)
            assert p1 in tree
            _signal_tree(tree, signal.SIGSTOP)
            # SQLite has one writer: a process frozen inside a write would block every other one
            # (one host, see docs/concepts/store.md); freeze it between writes. PostgreSQL ends a
            # transaction left idle by a frozen client itself (idle_in_transaction_session_timeout).
            if kind == "postgres" or _sqlite_write_lock_free(repo / ".wac" / "wac.db"):
                break
            _signal_tree(tree, signal.SIGCONT)
            time.sleep(0.05)
        frozen_at = len(_lines(marks))
        before = [line for line in _lines(marks) if line[0] == p1]

        b = start("b")
        workers.append(b)
        wait_until("b to finish the run", lambda: store.get_job(job_id).status == "succeeded", 180,
                   lambda: worker_log(tmp_path, "a", "b"))
        done = _state(store, job_id)
        assert len(_lines(marks)) >= frozen_at

        _signal_tree(tree, signal.SIGCONT)  # the machine comes back
        wait_until("a's stale round to be killed", lambda: not alive(p1), 60, lambda: worker_log(tmp_path, "a", "b"))
        time.sleep(1.5)  # let a's worker go on: heartbeat, apply what it still holds, claim again
        assert a.poll() is None, worker_log(tmp_path, "a")  # the worker itself lives on

        # Not one more line of user code ran in the stale round, and nothing it did landed.
        assert [line for line in _lines(marks) if line[0] == p1] == before
        assert _state(store, job_id) == done
    finally:
        stop_workers(workers)
    status, result, _error, attempt, worker_id, *_ = done
    assert status == "succeeded" and attempt >= 2
    assert str(b.pid) in worker_id and str(a.pid) not in worker_id
    # Ticks a committed before it froze were replayed, not run again; b ran the rest.
    pids = [int(v.split(":")[0]) for v in result]
    assert [int(v.split(":")[1]) for v in result] == list(range(14))
    assert pids[0] == p1 and pids[-1] != p1
    assert all(p == p1 for p in pids[: pids.index(pids[-1])])
