"""The engine's persistence: the :class:`Store` protocol and its backends.

``open_store(url)`` is the one way in::

    store = open_store("sqlite:////abs/path/.wac/wac.db")   # the embedded default
    job_id = store.submit(JobSpec(...))
"""

from __future__ import annotations

import os

from wac.engine.store._sqlite_reads import ANY_TAG
from wac.engine.store.base import (
    STATES,
    TERMINAL,
    ChildSpec,
    Claim,
    HeartbeatReport,
    Job,
    JobSpec,
    LogLine,
    Step,
    Store,
    TaskOptions,
    TimelineEntry,
    Token,
)
from wac.errors import StoreError

__all__ = [
    "ANY_TAG",
    "STATES",
    "TERMINAL",
    "ChildSpec",
    "Claim",
    "HeartbeatReport",
    "Job",
    "JobSpec",
    "LogLine",
    "Step",
    "Store",
    "TaskOptions",
    "TimelineEntry",
    "Token",
    "open_store",
]


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open (creating and migrating if needed) the store at ``url``.

    Args:
        url: ``sqlite:///abs/path/wac.db`` — the file and its parent directories are created;
            or ``postgresql://user@host:port/db`` — an empty database becomes a wac store.
        migrate: False skips the schema check, for a process that knows the store is current
            (a round process committing its steps); such a process never creates the file.

    Raises:
        StoreError: the URL is not supported or the store cannot be opened.
    """
    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):]
        if not path.startswith("/") or not path.strip("/"):
            raise StoreError(
                f"a sqlite store URL needs an absolute file path: {url!r}",
                hint="write it as sqlite:///abs/path/wac.db (three slashes, then the path)",
            )
        from wac.engine.store.sqlite import SqliteStore

        path = os.path.normpath("/" + path.lstrip("/"))
        parent = os.path.dirname(path)
        if migrate:
            try:
                os.makedirs(parent, exist_ok=True)
            except OSError as exc:
                raise StoreError(
                    f"cannot create the store directory {parent}: {exc.strerror}",
                    hint="make it writable, or set WAC_STATE_DIR to a writable folder for wac's state",
                ) from exc
        # A process that does not migrate (a round committing its steps) never creates the file:
        # a store deleted under it is an error, not a fresh empty store.
        store = SqliteStore(path, create=migrate)
        if migrate:
            store.migrate()
        return store
    if url.startswith(("postgresql://", "postgres://")):
        from wac.engine.store.postgres import PostgresStore

        pg = PostgresStore(url)
        if migrate:
            pg.migrate()
        return pg
    scheme = url.split("://", 1)[0] if "://" in url else url
    raise StoreError(
        f"unknown store URL scheme {scheme!r}",
        hint="use sqlite:///abs/path/wac.db or postgresql://user@host:port/db",
    )
