"""Contract: many processes and threads on one store lose nothing; wake-ups cross processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.engine.store.conftest import BUNDLE, claim_job, spec, start_parent, task
from wac.engine.store import ANY_TAG, Store

WORKER = Path(__file__).with_name("race_worker.py")
ROOT = Path(__file__).resolve().parents[3]


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WORKER), *args], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )


@pytest.mark.slow  # other processes
def test_eight_processes_racing_to_complete_100_children_lose_nothing(real_store: Store, backend) -> None:
    parent = real_store.submit(spec())
    token = claim_job(real_store, parent).token
    procs = [_spawn(backend.url, parent, f"p{n}") for n in range(8)]
    for p in procs:  # all racers up before the children exist, so they really race
        assert p.stdout is not None and p.stdout.readline().strip() == "READY"
    ids = real_store.dispatch(token, [task(f"t_{i + 1}", {"i": i}) for i in range(100)])
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=90)
        assert p.returncode == 0, err
        outs.append(out)
    text = "".join(outs)
    done = [int(line.split()[1]) for line in text.splitlines() if line.startswith("DONE")]
    assert sum(done) == 100
    assert sum(1 for n in done if n) >= 2  # more than one process did complete children
    assert text.count("PARENT") == 1  # re-queued exactly once, claimed exactly once
    job = real_store.get_job(parent)
    assert (job.status, job.pending, job.rounds) == ("running", 0, 2)
    steps = real_store.get_steps(parent)
    assert len(steps) == 100 and all(s.done and not s.failed for s in steps)
    assert [s.value["i"] for s in steps] == list(range(100))
    assert {s.child_job_id for s in steps} == set(ids)
    assert all(real_store.get_job(i).status == "succeeded" for i in ids)


def test_threads_racing_completions_and_heartbeats_lose_nothing(real_store: Store) -> None:
    parent, ids = start_parent(real_store, 60, max_in_flight=7)
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            while True:
                c = real_store.claim(name, ANY_TAG, 30)
                if c is None:
                    if real_store.get_job(parent).status != "waiting":
                        return
                    real_store.wait_for_work(ANY_TAG, 0.02)
                    continue
                if c.job.id == parent:
                    return
                real_store.heartbeat([c.token], 30)
                real_store.complete(c.token, c.job.args["i"])
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"t{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert [s.value for s in real_store.get_steps(parent)] == list(range(60))
    assert real_store.get_job(parent).pending == 0


def test_wait_for_work_wakes_at_once_when_another_thread_submits(real_store: Store) -> None:
    assert real_store.claim("w", ANY_TAG, 10) is None
    timer = threading.Timer(0.1, lambda: real_store.submit(spec()))
    timer.start()
    t0 = time.monotonic()
    real_store.wait_for_work(ANY_TAG, 5)
    elapsed = time.monotonic() - t0
    timer.join()
    assert 0.05 < elapsed < 1.0
    assert real_store.claim("w", ANY_TAG, 10) is not None


@pytest.mark.slow  # other processes
def test_wait_for_work_wakes_when_another_process_commits(real_store: Store, backend) -> None:
    code = (
        "import sys, time; from wac.engine.store import open_store, JobSpec;"
        "s = open_store(sys.argv[1]); time.sleep(0.3);"
        f"s.submit(JobSpec({BUNDLE!r}, 'main.py', {{}}, 'f/x')); print(time.time())"
    )
    assert real_store.claim("w", ANY_TAG, 10) is None
    proc = subprocess.Popen([sys.executable, "-c", code, backend.url], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        t0 = time.monotonic()
        real_store.wait_for_work(ANY_TAG, 10)
        woke_at = time.time()
        assert time.monotonic() - t0 < 5
        out, _ = proc.communicate(timeout=30)
    finally:
        proc.kill() if proc.poll() is None else None
    assert woke_at - float(out) < 0.5  # woke right after the other process committed
    assert real_store.claim("w", ANY_TAG, 10) is not None


def test_a_commit_between_a_fruitless_claim_and_the_wait_is_not_missed(real_store: Store) -> None:
    assert real_store.claim("w", ANY_TAG, 10) is None
    t = threading.Thread(target=lambda: real_store.submit(spec()))
    t.start()
    t.join()
    t0 = time.monotonic()
    real_store.wait_for_work(ANY_TAG, 5)
    assert time.monotonic() - t0 < 0.5


def test_wait_for_work_returns_when_a_sleep_comes_due(real_store: Store) -> None:
    job_id = real_store.submit(spec())
    c = claim_job(real_store, job_id)
    real_store.sleep(c.token, "sleep", real_store.now() + 0.3)
    assert real_store.claim("w", ANY_TAG, 10) is None
    t0 = time.monotonic()
    real_store.wait_for_work(ANY_TAG, 5)
    elapsed = time.monotonic() - t0
    assert 0.2 < elapsed < 2.5  # woken by the due sleep, well before the 5 s timeout (loose: CI may be loaded)
    assert real_store.claim("w", ANY_TAG, 10) is not None


def test_wait_for_work_times_out_when_nothing_happens(real_store: Store) -> None:
    t0 = time.monotonic()
    real_store.wait_for_work(ANY_TAG, 0.1)
    assert 0.09 < time.monotonic() - t0 < 0.6


def test_wait_for_result_returns_the_finished_job(real_store: Store) -> None:
    job_id = real_store.submit(spec())
    c = claim_job(real_store, job_id)
    timer = threading.Timer(0.1, lambda: real_store.complete(c.token, 42))
    timer.start()
    job = real_store.wait_for_result(job_id, 5)
    timer.join()
    assert (job.status, job.result) == ("succeeded", 42)
    unfinished = real_store.submit(spec())
    assert real_store.wait_for_result(unfinished, 0.05).status == "queued"


_HAMMER = """
import sys
from wac.engine.store import ANY_TAG, JobSpec, open_store
store = open_store(sys.argv[1])
store.put_bundle("hb", {"main.py": ""})
ok = 0
for i in range(int(sys.argv[2])):
    store.submit(JobSpec("hb", "main.py", {"i": i}, "f/hammer"))
    c = store.claim(sys.argv[3], ANY_TAG, 30)
    if c is not None:
        store.checkpoint(c.token, "s", i, requeue=False)
        store.complete(c.token, i)
        ok += 1
    store.reap()
print(ok)
"""


@pytest.mark.slow  # other processes
def test_processes_opening_a_new_store_and_hammering_it_never_see_database_locked(tmp_path: Path) -> None:
    url = f"sqlite://{tmp_path / 'fresh' / 'wac.db'}"
    procs = [
        subprocess.Popen([sys.executable, "-c", _HAMMER, url, "150", f"h{n}"], cwd=ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for n in range(5)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for p, (_out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0 and "locked" not in err, err
    from wac.engine.store import open_store

    store = open_store(url)
    try:
        jobs = store.list_jobs(limit=1000)
        assert len(jobs) == 750
        assert sum(int(out) for out, _ in results) == sum(j.status == "succeeded" for j in jobs)
    finally:
        store.close()
