"""What a parked sticky parent gives back before it waits (issue 17, engine/rounds/footprint.py):
its garbage, its store connection's SQLite page cache, the C heap's free pages."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import platform
from pathlib import Path

import pytest

from tests.engine.enginerun import submit, workers, workspace
from wac.engine.rounds import footprint
from wac.engine.store import open_store
from wac.engine.store.base import JobSpec
from wac.engine.worker import WorkerConfig

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _sqlite_memory_used() -> int:
    """Bytes SQLite holds in this process (0 when the library does not count them)."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return 0
    try:
        used = ctypes.CDLL(name).sqlite3_memory_used
    except (OSError, AttributeError):
        return 0
    used.restype = ctypes.c_int64
    return int(used())


def _store_with_a_warm_cache(tmp_path: Path):
    store = open_store(f"sqlite:///{tmp_path / 'wac.db'}")
    store.put_bundle("b" * 64, {"main.py": "x = 1\n" * 2000})
    for i in range(300):  # rows enough that reading them fills the page cache
        store.submit(JobSpec("b" * 64, "main.py", {"i": i, "pad": "p" * 2000}, "f/x"))
    conn = store._pool.get()
    assert conn.execute("SELECT count(*), sum(length(args)) FROM jobs").fetchone()[0] == 300
    return store


def test_release_empties_the_page_cache_of_this_threads_store_connection(tmp_path):
    store = _store_with_a_warm_cache(tmp_path)
    try:
        before = _sqlite_memory_used()
        done = footprint.release([store])
        after = _sqlite_memory_used()
        assert done["shrunk"] == 1 and footprint.LAST == done
        if before:  # SQLite counts its memory here: the cache it held is gone
            assert after < before - 100_000, (before, after)
        # the connection stays open and usable: the cache fills again on the next read
        assert store._pool.get().execute("SELECT count(*) FROM jobs").fetchone()[0] == 300
    finally:
        store.close()


def test_release_trims_the_c_heap_where_the_c_library_can(tmp_path):
    done = footprint.release([])
    assert done["shrunk"] == 0
    assert done["trimmed"] == (1 if GLIBC else 0)


def test_release_leaves_a_connection_of_another_process_alone(tmp_path):
    store = _store_with_a_warm_cache(tmp_path)
    try:
        store._pool._local.pid = -1  # as if this connection had been opened before a fork
        assert footprint.release([store])["shrunk"] == 0
    finally:
        store._pool._local.pid = None
        store.close()


PARENT = """
    import json, os, time
    from wac import step, task, workflow
    from wac.engine.rounds import footprint

    DIR = {folder!r}

    @task
    def gate(i: int) -> int:
        while not os.path.exists(os.path.join(DIR, "go")):
            time.sleep(0.01)
        return i

    @workflow
    async def main():
        a = await step("s1", lambda: 1)  # committed from this process: its store connection is open
        footprint.LAST.clear()
        b = await gate(a)  # parks here, then goes on in the same process
        with open(os.path.join(DIR, "released"), "w") as f:
            json.dump(footprint.LAST, f)
        return a + b
"""


@pytest.mark.slow
def test_a_parked_parent_releases_its_store_cache_and_heap_before_it_waits(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_STICKY_PARENTS", "1")
    folder = repo / "notes"
    folder.mkdir()
    (folder / "go").touch()
    write("f/x/parent.py", PARENT.format(folder=str(folder)))
    with workspace(repo) as ws:
        job_id = submit(ws, "f/x/parent.py")
        with workers(ws, WorkerConfig(slots=2)) as (worker,):
            job = ws.store.wait_for_result(job_id, 120)
            resumed = worker.parked.resumed
    assert (job.status, job.result) == ("succeeded", 2), job.error
    assert resumed == 1  # the body went on in the parked process
    released = json.loads((folder / "released").read_text())
    assert released["shrunk"] == 1  # the connection that committed s1
    assert released["trimmed"] == (1 if GLIBC else 0)
