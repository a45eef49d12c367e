"""The PostgreSQL dialect's migrations: numbered SQL files applied under ``pg_advisory_lock``."""

from __future__ import annotations

from importlib import resources
from typing import TYPE_CHECKING

from wac.engine.store._pg_conn import _LOCK_SPACE, _first_line, _psycopg, host_of
from wac.errors import StoreError

if TYPE_CHECKING:
    from wac.engine.store._pg_conn import PgPool


def _migration_files() -> list[tuple[int, str, str]]:
    out = []
    folder = resources.files("wac.engine.store").joinpath("pg_migrations")
    for item in folder.iterdir():
        name = item.name
        if name.endswith(".sql") and name[:4].isdigit():
            out.append((int(name[:4]), name, item.read_text(encoding="utf-8")))
    return sorted(out)


def migrate(pool: PgPool) -> int:
    """Apply every PostgreSQL migration newer than the store's, under ``pg_advisory_lock``.

    A database with tables but no ``wac_schema`` table is not wac's and is refused; a store of a
    newer schema is refused too. Neither is altered. Returns the schema version.
    """
    files = _migration_files()
    latest = files[-1][0] if files else 0
    pool._ensure()
    conn = pool.connect_raw(autocommit=True)
    where = host_of(pool.url)
    try:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_SPACE - 1,))
        try:
            has_version = conn.execute("SELECT to_regclass('wac_schema') IS NOT NULL").fetchone()[0]
            if has_version:
                row = conn.execute("SELECT max(version) FROM wac_schema").fetchone()
                current = int(row[0] or 0)
            else:
                others = conn.execute(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()[0]
                if others:
                    raise StoreError(
                        f"the database at {where} is not a wac store (it has other tables)",
                        hint="point the workspace at an empty database of its own (createdb wac)",
                    )
                current = 0
            if current > latest:
                raise StoreError(
                    f"the store at {where} has schema version {current}, newer than this wac ({latest})",
                    hint="upgrade wac on this machine; nothing was changed",
                )
            for version, _name, sql in files:
                if version <= current:
                    continue
                with conn.transaction():
                    if version == 1:
                        conn.execute("CREATE TABLE wac_schema (version bigint PRIMARY KEY,"
                                     " applied_at timestamptz NOT NULL DEFAULT now())")
                    conn.execute(sql)
                    conn.execute("INSERT INTO wac_schema (version) VALUES (%s)", (version,))
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_SPACE - 1,))
    except _psycopg().Error as exc:
        raise StoreError(f"migrating the store at {where} failed: {_first_line(exc)}") from exc
    finally:
        conn.close()
    return latest
