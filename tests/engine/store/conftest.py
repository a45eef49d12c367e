"""Fixtures of the Store contract suite.

Every test talks to the ``Store`` protocol only. ``store_factory`` is parametrised over the
backends (SQLite now; PostgreSQL later joins ``FACTORIES`` and runs the same suite).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wac.engine.store import (
    ANY_TAG,
    ChildSpec,
    Claim,
    JobSpec,
    Store,
    TaskOptions,
    _sqlite_conn,
)
from wac.engine.store.sqlite import SqliteStore

BUNDLE = "b" * 64


class FakeClock:
    """A store clock (G4) that only moves when a test says so."""

    def __init__(self, t: float = 1_800_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@dataclass
class Backend:
    """Opens stores of one kind on one database; ``url`` is what another process opens."""

    name: str
    url: str
    open: Callable[[Callable[[], float] | None], Store]


def _sqlite(tmp_path: Path) -> Backend:
    path = tmp_path / "db" / "wac.db"
    path.parent.mkdir()
    return Backend("sqlite", f"sqlite://{path}", lambda clock: SqliteStore(str(path), clock=clock))


def _postgres(tmp_path: Path) -> Backend:
    from tests import pg_server
    from wac.engine.store.postgres import PostgresStore

    server = pg_server.server()
    if server is None:
        if os.environ.get("WAC_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL binaries are missing in CI (.ci/run installs them)")
        pytest.skip("no PostgreSQL here (install Debian's postgresql or set WAC_TEST_POSTGRES_URL)")
    url = server.fresh_url()
    return Backend("postgres", url, lambda clock: PostgresStore(url, clock=clock))


FACTORIES: dict[str, Callable[[Path], Backend]] = {"sqlite": _sqlite, "postgres": _postgres}


@pytest.fixture(params=sorted(FACTORIES))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    factory: Callable[[Path], Backend] = FACTORIES[request.param]
    return factory(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(backend: Backend, clock: FakeClock) -> Iterator[Store]:
    """A migrated store on a fake clock, with one code bundle (``BUNDLE``) in it."""
    s = backend.open(clock)
    s.migrate()
    s.put_bundle(BUNDLE, {"main.py": "async def main(): ...\n"})
    yield s
    s.close()


@pytest.fixture
def real_store(backend: Backend) -> Iterator[Store]:
    """A migrated store on the real clock (for tests that measure waits)."""
    s = backend.open(None)
    s.migrate()
    s.put_bundle(BUNDLE, {"main.py": "async def main(): ...\n"})
    yield s
    s.close()


def spec(path: str = "f/demo/wf", args: dict | None = None, **options: object) -> JobSpec:
    return JobSpec(BUNDLE, "main.py", args or {}, path, TaskOptions(**options))  # type: ignore[arg-type]


def task(key: str, args: dict | None = None, name: str | None = None, **options: object) -> ChildSpec:
    """A @task child whose step key is ``key``."""
    return ChildSpec(
        key=key, name=name or key.split("_")[0], entry="main.py", args=args or {},
        executing_key=key, options=TaskOptions(**options),  # type: ignore[arg-type]
    )


def claim_job(store: Store, job_id: str, worker: str = "w1", lease: float = 30.0) -> Claim:
    """Claim until ``job_id`` comes up (it must be the first runnable job)."""
    got = store.claim(worker, ANY_TAG, lease)
    assert got is not None, f"nothing to claim, expected {job_id}"
    assert got.job.id == job_id, f"claimed {got.job.id} ({got.job.name}), expected {job_id}"
    return got


def start_parent(store: Store, n: int, max_in_flight: int | None = None, **options: object) -> tuple[str, list[str]]:
    """Submit a workflow, claim it and dispatch ``n`` task children ``t_1 … t_n``."""
    job_id = store.submit(spec(**options))
    c = claim_job(store, job_id)
    ids = store.dispatch(c.token, [task(f"t_{i + 1}", {"i": i}) for i in range(n)], max_in_flight)
    return job_id, ids


class PositionRefusingRow(sqlite3.Row):
    """A SQLite row that refuses ``row[0]``, as the PostgreSQL dialect's rows do: the contract
    suite proves on both stores that the store reads every row by column name."""

    def __getitem__(self, key: object) -> object:
        if not isinstance(key, str):
            raise TypeError("read a store row by column name, not by position")
        return super().__getitem__(key)


@pytest.fixture(autouse=True)
def _rows_by_name_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite_conn, "ROW_FACTORY", PositionRefusingRow)
