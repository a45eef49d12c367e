"""Every implementation assigned to the protocol it implements, for mypy to check.

Nothing here runs: mypy reads it (``[tool.mypy] files`` lists this folder, and
``test_protocols.py`` runs mypy on it in the test suite), so a method renamed, retyped or dropped
on one side of a seam fails the checks instead of failing at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wac.engine.backend import Backend
    from wac.engine.items import ItemStore
    from wac.engine.local_backend import LocalBackend
    from wac.engine.remote.windmill import WindmillBackend
    from wac.engine.rounds.host import EngineHost
    from wac.engine.store._dialect import Dialect
    from wac.engine.store._pg_conn import PgPool
    from wac.engine.store._sqlite_conn import ConnectionPool
    from wac.engine.store.base import Store
    from wac.engine.store.postgres import PostgresStore
    from wac.engine.store.sqlite import SqliteStore
    from wac.sdk.dryrun import DryHost
    from wac.sdk.host import RoundHost


def backends(local: LocalBackend, windmill: WindmillBackend) -> list[Backend]:
    """The Backend seam: the embedded engine and a Windmill server."""
    return [local, windmill]


def stores(sqlite: SqliteStore, postgres: PostgresStore) -> list[Store]:
    """The Store seam: both databases."""
    return [sqlite, postgres]


def item_stores(sqlite: SqliteStore, postgres: PostgresStore) -> list[ItemStore]:
    """What LocalBackend needs of its store for flows, apps, schedules..."""
    return [sqlite, postgres]


def dialects(sqlite: ConnectionPool, postgres: PgPool) -> list[Dialect]:
    """The Dialect seam under the store: what differs between the two databases."""
    return [sqlite, postgres]


def round_hosts(engine: EngineHost, dry: DryHost) -> list[RoundHost]:
    """The SDK's host seam: the engine's round and a dry replay."""
    return [engine, dry]
