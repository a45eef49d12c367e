"""Sticky parents (issue 17): a parent's round process waits alive while its children run, and
goes on without replaying; evicted or killed, the run finishes by replay from the store."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import SRC
from tests.engine.enginerun import submit, wait_for, workers, workspace
from wac.engine.worker import WorkerConfig

pytestmark = pytest.mark.slow

GATED = """
    import os, time
    from wac import step, task, workflow

    DIR = {folder!r}

    def note(name):
        with open(os.path.join(DIR, name), "a") as f:
            f.write(os.environ.get("WAC_JOB_ID", "") + "\\n")

    @task
    def gate(i: int) -> int:
        note("gate-reached")
        while not os.path.exists(os.path.join(DIR, "go")):
            time.sleep(0.01)
        return i * 2

    @task
    def plain(i: int) -> int:
        return i + 1

    @workflow
    async def main():
        note("body")
        a = await step("s1", lambda: (note("s1"), 10)[1])
        b = await gate(a)
        c = await plain(b)
        d = await step("s2", lambda: (note("s2"), 1)[1])
        return a + b + c + d
"""
EXPECTED = 10 + 20 + 21 + 1


def _lines(folder: Path, name: str) -> list[str]:
    path = folder / name
    return path.read_text().split() if path.exists() else []


@pytest.mark.parametrize("sticky", ["1", "0"])
def test_a_sticky_parent_goes_on_after_its_children_without_replaying(repo, write, monkeypatch, sticky):
    monkeypatch.setenv("WAC_STICKY_PARENTS", sticky)
    folder = repo / "notes"
    folder.mkdir()
    (folder / "go").touch()
    write("f/x/gated.py", GATED.format(folder=str(folder)))
    with workspace(repo) as ws:
        job_id = submit(ws, "f/x/gated.py")
        with workers(ws, WorkerConfig(slots=2)) as (worker,):
            job = ws.store.wait_for_result(job_id, 120)
            resumed = worker.parked.resumed
        logs = "".join(line.text for line in ws.store.read_logs(job_id))
    assert (job.status, job.result) == ("succeeded", EXPECTED), job.error
    assert _lines(folder, "s1") == [job_id] and _lines(folder, "s2") == [job_id]
    body = [r for r in _lines(folder, "body") if r == job_id]
    if sticky == "1":
        assert body == [job_id]  # one process ran the whole body
        assert resumed == 2
    else:
        assert len(body) == 3  # a replay after each of the two tasks
        assert resumed == 0
    assert logs.count("--- WAC: gate ---") == 1 and logs.count("--- WAC: plain ---") == 1


def test_a_parent_evicted_while_its_child_runs_finishes_by_replay(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_STICKY_PARENTS", "1")
    folder = repo / "notes"
    folder.mkdir()
    write("f/x/gated.py", GATED.format(folder=str(folder)))
    with workspace(repo) as ws:
        job_id = submit(ws, "f/x/gated.py")
        with workers(ws, WorkerConfig(slots=2)) as (worker,):
            wait_for(lambda: _lines(folder, "gate-reached"))
            wait_for(lambda: len(worker.parked) == 1)
            worker.parked.clear()  # evicted: the parked process is killed
            assert len(worker.parked) == 0
            (folder / "go").touch()
            job = ws.store.wait_for_result(job_id, 120)
    assert (job.status, job.result) == ("succeeded", EXPECTED), job.error
    assert [r for r in _lines(folder, "body") if r == job_id] == [job_id, job_id]  # started, then one replay
    assert _lines(folder, "s1") == [job_id] and _lines(folder, "s2") == [job_id]  # each step body once


def _start_worker(repo: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1", "WAC_STICKY_PARENTS": "1"}
    return subprocess.Popen(
        [sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "--lease", "1", "-c", "2"],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def test_a_killed_sticky_parent_is_finished_by_another_worker_with_every_step_body_once(repo, write):
    folder = repo / "notes"
    folder.mkdir()
    write("f/x/gated.py", GATED.format(folder=str(folder)))
    with workspace(repo) as ws:
        job_id = submit(ws, "f/x/gated.py")
        first = _start_worker(repo)
        try:
            wait_for(lambda: _lines(folder, "gate-reached"))
            assert ws.store.get_job(job_id).status == "waiting"  # its process is parked in `first`
        finally:
            first.send_signal(signal.SIGKILL)  # the worker, its zygote, the parked parent, the child
            first.communicate(timeout=20)
        (folder / "go").touch()
        second = _start_worker(repo)
        try:
            job = ws.store.wait_for_result(job_id, 120)
        finally:
            second.send_signal(signal.SIGINT)
            second.communicate(timeout=20)
    assert (job.status, job.result) == ("succeeded", EXPECTED), job.error
    assert _lines(folder, "s1") == [job_id] and _lines(folder, "s2") == [job_id]
    assert len(_lines(folder, "gate-reached")) == 2  # the task ran again (at least once), its steps did not
