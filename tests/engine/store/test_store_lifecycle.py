"""Contract: migrate, open_store, bundles, submit and reads of single jobs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.engine.store.conftest import BUNDLE, FakeClock, spec
from wac.engine.store import JobSpec, Store, open_store
from wac.errors import JobNotFoundError, StoreError


def test_migrate_is_idempotent_and_records_the_schema_version(store: Store, backend) -> None:
    store.migrate()
    store.migrate()
    if backend.name == "sqlite":
        path = backend.url[len("sqlite://"):]
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_creates_parent_directories_and_a_working_store(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "wac.db"
    s = open_store(f"sqlite://{path}")
    try:
        s.put_bundle(BUNDLE, {"main.py": "x"})
        job_id = s.submit(spec())
        assert s.get_job(job_id).status == "queued"
        assert path.exists()
    finally:
        s.close()


def test_open_store_accepts_four_slashes_as_the_same_file(tmp_path: Path) -> None:
    path = tmp_path / "wac.db"
    a, b = open_store(f"sqlite://{path}"), open_store(f"sqlite:///{path}")
    try:
        a.put_bundle(BUNDLE, {"main.py": "x"})
        assert b.get_bundle(BUNDLE) == {"main.py": "x"}
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("sqlite://relative/wac.db", "absolute"),
        ("mysql://x", "unknown store URL"),
    ],
)
def test_open_store_rejects_unsupported_urls_with_a_hint(url: str, words: str) -> None:
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert words in info.value.message
    assert info.value.hint


def test_bundles_round_trip_and_a_missing_bundle_is_a_store_error(store: Store) -> None:
    store.put_bundle("h1", {"main.py": "print('é')", "x__mod/y.py": ""})
    store.put_bundle("h1", {"main.py": "ignored: content-addressed"})
    assert store.get_bundle("h1") == {"main.py": "print('é')", "x__mod/y.py": ""}
    with pytest.raises(StoreError):
        store.get_bundle("nope")


def test_submit_creates_a_queued_root_job_with_everything_it_was_given(store: Store, clock: FakeClock) -> None:
    job_id = store.submit(spec("f/demo/my_wf", {"n": 3, "s": "ü"}, priority=2, tag="gpu"))
    job = store.get_job(job_id)
    assert (job.status, job.root_id, job.parent_id, job.name) == ("queued", job_id, None, "my_wf")
    assert job.args == {"n": 3, "s": "ü"}
    assert (job.options.priority, job.options.tag) == (2, "gpu")
    assert (job.attempt, job.rounds, job.pending) == (0, 0, 0)
    assert job.created_at == job.scheduled_at == clock.t
    assert job.started_at is None and job.finished_at is None


def test_job_ids_are_short_unique_and_sort_in_creation_order(store: Store) -> None:
    ids = [store.submit(spec()) for _ in range(50)]
    assert len(set(ids)) == 50
    assert ids == sorted(ids)
    assert all(8 <= len(i) <= 16 and int(i, 16) >= 0 for i in ids)


def test_a_duplicate_idempotency_key_returns_the_existing_job(store: Store) -> None:
    first = store.submit(JobSpec(BUNDLE, "main.py", {}, "f/x", idempotency_key="k1"))
    again = store.submit(JobSpec(BUNDLE, "main.py", {"other": 1}, "f/x", idempotency_key="k1"))
    other = store.submit(JobSpec(BUNDLE, "main.py", {}, "f/x", idempotency_key="k2"))
    assert first == again != other
    assert len(store.list_jobs()) == 2


def test_submit_of_an_unknown_bundle_is_refused_with_a_hint(store: Store) -> None:
    with pytest.raises(StoreError) as info:
        store.submit(JobSpec("0" * 64, "main.py", {}, "f/x"))
    assert "put_bundle" in (info.value.hint or "")
    assert store.list_jobs() == []


def test_arguments_that_are_not_json_are_refused_before_anything_is_written(store: Store) -> None:
    with pytest.raises(StoreError) as info:
        store.submit(spec(args={"x": object()}))
    assert "JSON" in info.value.message
    assert store.list_jobs() == []


def test_reads_of_an_unknown_job_raise_job_not_found(store: Store) -> None:
    for read in (store.get_job, store.timeline):
        with pytest.raises(JobNotFoundError):
            read("feedbeef")
    with pytest.raises(JobNotFoundError):
        store.cancel("feedbeef", "x")
    with pytest.raises(JobNotFoundError):
        store.append_log("feedbeef", "x")


def test_list_jobs_filters_roots_and_status_newest_first(store: Store) -> None:
    from tests.engine.store.conftest import start_parent

    parent, _ = start_parent(store, 2)
    other = store.submit(spec())
    assert [j.id for j in store.list_jobs()] == [other, parent]
    assert len(store.list_jobs(root_only=False)) == 4
    assert [j.id for j in store.list_jobs(status="waiting")] == [parent]
    assert [j.id for j in store.list_jobs(limit=1)] == [other]


def test_logs_append_in_order_and_read_after_a_sequence_number(store: Store) -> None:
    job_id = store.submit(spec())
    store.append_log(job_id, "one\n")
    store.append_log(job_id, "two\n")
    lines = store.read_logs(job_id)
    assert [(ln.seq, ln.text) for ln in lines] == [(1, "one\n"), (2, "two\n")]
    assert [ln.text for ln in store.read_logs(job_id, after_seq=1)] == ["two\n"]


def test_a_store_newer_than_this_wac_is_refused_with_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "wac.db"
    open_store(f"sqlite://{path}").close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 999")
    with pytest.raises(StoreError) as info:
        open_store(f"sqlite://{path}")
    assert "999" in info.value.message and info.value.hint == "upgrade wac"


def test_a_forked_process_gets_its_own_connection_to_the_same_store(store: Store) -> None:
    import os

    job_id = store.submit(spec())  # the parent's thread has a connection now
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store.submit(spec("f/from/child"))
            code = 0 if store.get_job(job_id).status == "queued" else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert {j.script_path for j in store.list_jobs()} == {"f/demo/wf", "f/from/child"}


def test_the_store_implements_every_operation_of_the_protocol(store: Store) -> None:
    import inspect

    from wac.engine.store.base import Store as Protocol

    wanted = {n for n, v in vars(Protocol).items() if callable(v) and not n.startswith("_")}
    assert {"claim", "dispatch", "complete", "fail", "cancel", "reap", "timeline"} <= wanted
    for name in sorted(wanted):
        impl = getattr(store, name, None)
        assert callable(impl), f"{type(store).__name__} lacks {name}()"
        want = list(inspect.signature(getattr(Protocol, name)).parameters)[1:]
        assert list(inspect.signature(impl).parameters) == want, name
