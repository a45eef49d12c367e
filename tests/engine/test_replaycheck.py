"""The engine side of live-run checks: snapshots, versions of runs, the migration fence."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import wac
from tests.engine.enginerun import bundle_of, workers, workspace
from wac.engine.deployed import deployed_bundle
from wac.engine.replaycheck import check, migrate, versions_by_bundle
from wac.engine.store._sqlite_evolve import migrate_run, run_snapshot, run_snapshots
from wac.engine.store.base import JobSpec
from wac.engine.worker import WorkerConfig
from wac.errors import ConflictError

pytestmark = pytest.mark.slow

GATE = """
    from wac import task, wait_for_approval, workflow

    @task
    def a() -> str:
        return "a"

    @workflow
    async def main():
        x = await a()
        await wait_for_approval(timeout=600)
        return x + "{tail}"
"""


def wait_for(ws: Any, job_id: str, status: str) -> None:
    deadline = time.monotonic() + 60
    while ws.get_job(job_id).status != status:
        assert time.monotonic() < deadline, ws.get_job(job_id).status
        time.sleep(0.05)


def test_a_run_without_a_recorded_version_is_matched_to_its_version_by_bundle(
    repo: Path, write: Callable[[str, str], Path],
) -> None:
    write("f/demo/gate.py", GATE.format(tail="1"))
    v1 = wac("script", "push", "f/demo/gate.py", "--json", cwd=repo).json()["hash"]
    with workspace(repo) as ws:
        bundle, _ = deployed_bundle(ws.store, "f/demo/gate")
        # submitted straight to the store: no run_lineage row
        job_id = ws.store.submit(JobSpec(bundle.hash, bundle.entry, {}, "f/demo/gate"))
        with workers(ws, WorkerConfig(slots=1)):
            wait_for(ws, job_id, "suspended")
        snaps = run_snapshots(ws.store, "f/demo/gate", live=True)
        assert [s.job.id for s in snaps] == [job_id] and snaps[0].script_hash is None
        assert versions_by_bundle(ws.store, "f/demo/gate", snaps) == {bundle.hash: v1}
        (verdict,) = check(ws.store, ws.state_dir, bundle, snaps, versions_by_bundle(ws.store, "f/demo/gate"))
        assert verdict.compatible and verdict.version == v1 and verdict.where == "suspended on approval 'approval'"
        assert run_snapshots(ws.store, "f/demo/gate", live=False, limit=5) == []
        write("f/demo/gate.py", "import no_such_module_here\n" + textwrap.dedent(GATE.format(tail="1")))
        _path, broken = bundle_of(repo, "f/demo/gate.py")
        (verdict,) = check(ws.store, ws.state_dir, broken, snaps)
        assert not verdict.compatible and verdict.stop == "cannot load"
        assert verdict.message is not None and "No module named 'no_such_module_here'" in verdict.message


def test_a_migration_is_refused_when_the_run_moved_on_since_it_was_checked(
    repo: Path, write: Callable[[str, str], Path],
) -> None:
    write("f/demo/gate.py", GATE.format(tail="1"))
    wac("script", "push", "f/demo/gate.py", cwd=repo)
    with workspace(repo) as ws:
        job_id = ws.run_script("f/demo/gate", {})
        with workers(ws, WorkerConfig(slots=1)):
            wait_for(ws, job_id, "suspended")
    write("f/demo/gate.py", GATE.format(tail="2"))
    wac("script", "push", "f/demo/gate.py", cwd=repo)
    with workspace(repo) as ws:
        new, record = deployed_bundle(ws.store, "f/demo/gate")
        stale = run_snapshot(ws.store, job_id)
        ws.resume(job_id, None, None, True, None, "test")  # the run moves on: the approval is done
        with pytest.raises(ConflictError, match="moved on since it was checked"):
            migrate_run(ws.store, stale, new.hash, new.entry, record.hash, None)
        assert ws.get_job(job_id).bundle_hash == stale.job.bundle_hash
        fresh = run_snapshot(ws.store, job_id)
        checks = check(ws.store, ws.state_dir, new, [fresh])
        (moved,) = migrate(ws.store, [fresh], checks, new, record.hash)
        assert moved.moved and ws.get_job(job_id).bundle_hash == new.hash
        with workers(ws, WorkerConfig(slots=1)):
            wait_for(ws, job_id, "succeeded")
        assert ws.get_job(job_id).result == "a2"
