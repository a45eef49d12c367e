"""Parked parents sharing one round process (issue 17, engine/rounds/sharing.py): several parents
wait in one process, each round with its own log, environment and module; a parent let go, or
whose process is busy or killed, finishes by replay with every step body once."""

from __future__ import annotations

import os
import signal
import socket
from pathlib import Path

import pytest

from tests.clirun import alive
from tests.engine.enginerun import submit, wait_for, workers, workspace
from wac.engine.rounds.host import Channel
from wac.engine.rounds.spec import RoundSpec
from wac.engine.rounds.zygote_client import RoundProcess, new_round_id
from wac.engine.worker import WorkerConfig

SHARED = """
    import os, sys, time
    from wac import step, task, workflow

    DIR = {folder!r}
    SEEN = []  # a module global: each run has its own module

    def note(name, text):
        with open(os.path.join(DIR, name), "a") as f:
            f.write(text + "\\n")

    def wait_for(name):
        while not os.path.exists(os.path.join(DIR, name)):
            time.sleep(0.01)

    @task(tag="gate")
    def gate(i: int) -> int:
        wait_for(f"go-{{i}}")
        return i * 2

    def hold(i):
        note("held", str(i))
        wait_for(f"release-{{i}}")
        return i

    @workflow
    async def main(i: int, holds: bool = False):
        SEEN.append(i)
        os.environ["MINE"] = str(i)
        note("body", f"{{i}} {{os.getpid()}}")
        print(f"before {{i}}")
        a = await step("s", lambda: (note("s", str(i)), i)[1])
        b = await gate(a)
        if holds:
            await step("hold", lambda: hold(i))
        print(f"after {{i}}")
        note("after", f"{{i}} {{os.getpid()}} {{os.environ['WM_JOB_ID']}} {{os.environ['MINE']}} {{len(SEEN)}}")
        return b
"""


def _rows(folder: Path, name: str) -> list[list[str]]:
    path = folder / name
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _parked_pids(worker) -> set[int]:
    return {entry[0].pid for entry in list(worker.parked._procs.values())}


@pytest.fixture
def folder(repo: Path) -> Path:
    path = repo / "notes"
    path.mkdir()
    return path


def test_channel_reads_lines_and_log_descriptors_in_the_order_sent():
    ours, theirs = socket.socketpair()
    chan = Channel(theirs)
    r, w = os.pipe()
    try:
        ours.sendall(b'{"op": "drop", "job": "a"}\n')
        socket.send_fds(ours, [b"L"], [w])
        ours.sendall(b'{"job_id": "b"}\n{"op": "resume", "token": ["c", 1, "w"]}\n')
        assert chan.next() == ("msg", {"op": "drop", "job": "a"})
        kind, fd = chan.next()
        assert kind == "log"
        os.write(fd, b"x")
        os.close(fd)
        assert os.read(r, 1) == b"x"  # the descriptor sent with the byte L
        assert chan.recv() == {"job_id": "b"}
        assert chan.recv()["op"] == "resume"
        ours.close()
        with pytest.raises(ConnectionError):
            chan.next()
    finally:
        os.close(r)
        os.close(w)
        theirs.close()


def _spec(job_id: str) -> RoundSpec:
    return RoundSpec(job_id=job_id, bundle_dir="/b", entry="x.py", mod_dir="x__mod", args={}, checkpoint={},
                     store_url="", token=None, workspace="local", cwd="/", env={}, script_path="f/x", root_id=job_id)


def test_a_round_let_go_and_a_new_round_of_the_same_job_in_one_process_are_told_apart():
    """The worker's bookkeeping of a shared process (zygote_client.Link), over a socketpair: the
    parked round of job J is let go while a new round of J runs in the same process; the drop
    names the old round only, and closing the old handle leaves the process to the new one."""
    ours, theirs = socket.socketpair()
    peer = Channel(theirs)
    logs = [open(os.devnull, "w+b") for _ in range(2)]
    try:
        first = RoundProcess(-1, ours, logs[0], "J")
        link = first.link
        theirs.sendall(b'{"op": "parked"}\n')
        assert first.recv(5) == {"op": "parked"} and link.active is None
        link.sharing = link.keep = True
        spec = _spec("J")
        spec.round_id = new_round_id("J")
        assert link.try_activate(spec.round_id)
        assert not link.try_activate(new_round_id("K"))  # one round at a time
        second = link.share(spec)
        first.release("evicted")
        first.release("evicted")  # once
        first.close()
        assert link.live == {second.round_id} and not link.dead and link.dropped == 1
        kind, fd = peer.next()
        os.close(fd)
        assert kind == "log" and peer.recv()["round_id"] == second.round_id
        assert peer.recv() == {"op": "drop", "round": first.round_id} != second.round_id
        theirs.sendall(b'{"op": "outcome"}\n')
        assert second.recv(5) == {"op": "outcome"}
        second.close()
        assert not link.closed and link.idle_since > 0  # kept for the next round of its code
        assert link.close_if_idle() and link.closed and link.dead
        assert not link.try_activate(new_round_id("L"))
    finally:
        theirs.close()
        for log in logs:
            log.close()


@pytest.mark.slow
def test_a_parent_that_removed_its_working_folder_parks_and_finishes(repo, write, folder):
    write("f/x/gone.py", """
    import os, tempfile
    from wac import task, workflow

    @task
    def double(i: int) -> int:
        return i * 2

    @workflow
    async def main():
        here = tempfile.mkdtemp()
        os.chdir(here)
        os.rmdir(here)
        a = await double(1)
        b = await double(a)
        return b
    """)
    with workspace(repo) as ws:
        with workers(ws, WorkerConfig(slots=2)) as (worker,):
            job = ws.store.wait_for_result(submit(ws, "f/x/gone.py"), 120)
            resumed = worker.parked.resumed
    assert (job.status, job.result) == ("succeeded", 4), job.error
    assert resumed == 2


@pytest.mark.slow
def test_parents_parked_in_one_process_each_go_on_with_their_own_log_environment_and_module(repo, write, folder):
    write("f/x/shared.py", SHARED.format(folder=str(folder)))
    n = 5
    with workspace(repo) as ws:
        ids = {}
        with workers(ws, WorkerConfig(slots=1)) as (worker,):
            for i in range(n):
                ids[i] = submit(ws, "f/x/shared.py", {"i": i})
            wait_for(lambda: len(worker.parked) == n)
            assert len(_parked_pids(worker)) == 1  # one process holds all five
            assert worker.parked.shared == n - 1
            with workers(ws, WorkerConfig(slots=2, tags=frozenset({"gate"}))):
                for i in range(n):
                    (folder / f"go-{i}").touch()
                jobs = {i: ws.store.wait_for_result(ids[i], 120) for i in range(n)}
            resumed = worker.parked.resumed
        logs = {i: "".join(line.text for line in ws.store.read_logs(ids[i])) for i in range(n)}
    for i, job in jobs.items():
        assert (job.status, job.result) == ("succeeded", i * 2), job.error
    assert resumed == n  # none replayed
    body = {int(i): pid for i, pid in _rows(folder, "body")}
    assert sorted(body) == list(range(n)) and len(set(body.values())) == 1
    after = {int(row[0]): row[1:] for row in _rows(folder, "after")}
    for i in range(n):
        # resumed in the process it parked in, with its own WM_JOB_ID, os.environ and module globals
        assert after[i] == [body[i], ids[i], str(i), "1"]
        assert f"before {i}" in logs[i] and f"after {i}" in logs[i]
        assert not any(f"before {j}" in logs[i] or f"after {j}" in logs[i] for j in range(n) if j != i)
    assert sorted(int(row[0]) for row in _rows(folder, "s")) == list(range(n))  # each step body once


@pytest.mark.slow
def test_a_parent_whose_shared_process_runs_another_round_finishes_by_replay(repo, write, folder):
    write("f/x/shared.py", SHARED.format(folder=str(folder)))
    with workspace(repo) as ws:
        with workers(ws, WorkerConfig(slots=2)) as (worker,):
            a = submit(ws, "f/x/shared.py", {"i": 1})
            wait_for(lambda: len(worker.parked) == 1)
            b = submit(ws, "f/x/shared.py", {"i": 2, "holds": True})
            wait_for(lambda: len(worker.parked) == 2)
            assert len(_parked_pids(worker)) == 1
            with workers(ws, WorkerConfig(slots=2, tags=frozenset({"gate"}))):
                (folder / "go-2").touch()
                wait_for(lambda: _rows(folder, "held"))  # b runs its step in the shared process
                (folder / "go-1").touch()  # a is claimed while b runs: it replays elsewhere
                job_a = ws.store.wait_for_result(a, 120)
                (folder / "release-2").touch()
                job_b = ws.store.wait_for_result(b, 120)
            busy = worker.parked.busy
    assert (job_a.status, job_a.result) == ("succeeded", 2), job_a.error
    assert (job_b.status, job_b.result) == ("succeeded", 4), job_b.error
    assert busy == 1
    body = _rows(folder, "body")
    assert [row[0] for row in body].count("1") == 2  # started, then one replay in another process
    assert len({row[1] for row in body if row[0] == "1"}) == 2
    assert sorted(row[0] for row in _rows(folder, "s")) == ["1", "2"]  # each step body once
    after = {row[0]: row for row in _rows(folder, "after")}
    assert after["1"][3:] == ["1", "1"] and after["2"][3:] == ["2", "1"]


@pytest.mark.slow
def test_parents_let_go_or_killed_in_a_shared_process_finish_by_replay(repo, write, folder):
    write("f/x/shared.py", SHARED.format(folder=str(folder)))
    n = 4
    with workspace(repo) as ws:
        with workers(ws, WorkerConfig(slots=1, sticky_max=3)) as (worker,):
            ids = [submit(ws, "f/x/shared.py", {"i": i}) for i in range(n)]
            wait_for(lambda: len(worker.parked) == 3 and worker.parked.evicted == 1)  # the first let go
            (pid,) = _parked_pids(worker)
            os.kill(pid, signal.SIGKILL)  # the process with the three others
            with workers(ws, WorkerConfig(slots=2, tags=frozenset({"gate"}))):
                for i in range(n):
                    (folder / f"go-{i}").touch()
                jobs = [ws.store.wait_for_result(job_id, 120) for job_id in ids]
            resumed = worker.parked.resumed
    for i, job in enumerate(jobs):
        assert (job.status, job.result) == ("succeeded", i * 2), job.error
    assert resumed == 0
    starts = [row[0] for row in _rows(folder, "body")]
    assert sorted(starts) == sorted([str(i) for i in range(n)] * 2)  # each started, then replayed once
    assert sorted(row[0] for row in _rows(folder, "s")) == [str(i) for i in range(n)]  # each step body once


@pytest.mark.slow
def test_a_shared_process_is_kept_for_the_next_run_of_its_code_until_idle(repo, write, folder):
    write("f/x/shared.py", SHARED.format(folder=str(folder)))
    with workspace(repo) as ws:
        with workers(ws, WorkerConfig(slots=1, sticky_idle_s=1.0), WorkerConfig(slots=1, tags=frozenset({"gate"}))) \
                as (worker, _gate):
            for i in range(2):
                (folder / f"go-{i}").touch()
            first = ws.store.wait_for_result(submit(ws, "f/x/shared.py", {"i": 0}), 120)
            second = ws.store.wait_for_result(submit(ws, "f/x/shared.py", {"i": 1}), 120)
            pids = {int(pid) for _i, pid in _rows(folder, "body")}
            assert len(pids) == 1  # the second run's rounds ran in the first one's process
            (pid,) = pids
            assert alive(pid)
            wait_for(lambda: not alive(pid), 30)  # let go once idle for sticky_idle_s
    assert (first.status, first.result, second.status, second.result) == ("succeeded", 0, "succeeded", 2)
    after = {row[0]: row[3:] for row in _rows(folder, "after")}
    assert after == {"0": ["0", "1"], "1": ["1", "1"]}  # its own environment and module each



@pytest.mark.slow
def test_a_claim_the_heartbeat_finds_released_by_a_reported_round_kills_nothing(repo, write, monkeypatch):
    """A round's outcome commit releases its claim; a heartbeat that judges the claim lost from
    then on (before the worker is done with the round) must not kill the process, which may now
    hold parked parents. Here the heartbeat's kill runs inside every outcome's application."""
    import wac.engine.worker as worker_mod

    write("f/x/seq.py", """
    from wac import task, workflow

    @task
    def double(i: int) -> int:
        return i * 2

    @workflow
    async def main():
        total = 0
        for i in range(4):
            total += await double(i)
        return total
    """)
    running: list = []
    judged: list[str] = []
    real = worker_mod.apply_outcome

    def apply_then_heartbeat(store, config, job, token, *rest, **kw):
        applied = real(store, config, job, token, *rest, **kw)
        (worker,) = running
        with worker._live_lock:
            entry = worker._live.get(job.id)
        if entry is not None and entry[1] is not None:  # a heartbeat now would judge the claim lost
            judged.append(job.id)
            worker._kill_live(job.id, entry[0], entry[1], "lost")
        return applied

    monkeypatch.setattr(worker_mod, "apply_outcome", apply_then_heartbeat)
    with workspace(repo) as ws:
        with workers(ws, WorkerConfig(slots=2)) as started:
            running[:] = started
            job = ws.store.wait_for_result(submit(ws, "f/x/seq.py"), 120)
            resumed = started[0].parked.resumed
    assert (job.status, job.result) == ("succeeded", 12), job.error
    assert judged == [] and resumed == 4
