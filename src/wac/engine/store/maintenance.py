"""Keeping a SQLite store healthy: check it, back it up, recover it.

- :func:`check` runs ``PRAGMA integrity_check`` and returns the problems SQLite lists.
- :func:`backup` copies a live store with SQLite's online backup API (consistent even while
  workers write), through a temporary file renamed into place, and checks the copy.
- :func:`recover` replaces a damaged store: from a backup when one is given, else by salvaging
  every row SQLite can still read into a fresh store. The damaged file is kept beside it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from wac.errors import StoreCorruptError, StoreError


def _connect_ro(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError(f"no store at {path}", hint="run a preview or `wac worker` first, or pass --db PATH")
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=30000")
        return conn
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open the store at {path}: {exc}") from exc


def check(path: Path) -> list[str]:
    """The problems ``PRAGMA integrity_check`` finds in the store at ``path`` ([] when it is sound)."""
    conn = _connect_ro(path)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:  # too damaged to even walk
        return [str(exc)]
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows]
    return [] if problems == ["ok"] else problems


def backup(path: Path, dest: Path) -> Path:
    """Copy the store at ``path`` to ``dest`` with SQLite's backup API; returns ``dest``."""
    src = _connect_ro(path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        out = sqlite3.connect(tmp)
        try:
            src.backup(out)
        finally:
            out.close()
        problems = check(tmp)
        if problems:
            raise StoreCorruptError(f"the store {path} is damaged; its backup would be too: {problems[0]}")
        os.replace(tmp, dest)
    except sqlite3.DatabaseError as exc:
        raise StoreCorruptError(f"the store {path} is damaged and cannot be backed up ({exc})",
                                hint="recover it with: wac store recover") from exc
    except OSError as exc:
        raise StoreError(f"cannot write the backup {dest}: {exc.strerror or exc}") from exc
    finally:
        src.close()
        if tmp.exists():
            tmp.unlink()
    return dest


def _aside(path: Path) -> Path:
    """Move the damaged store (and its -wal/-shm) out of the way; returns where it went."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        src = Path(str(path) + suffix)
        if src.exists():
            os.replace(src, Path(str(moved) + suffix))
    return moved


def _salvage_table(old: sqlite3.Connection, new: sqlite3.Connection, table: str) -> tuple[int, int]:
    """Copy the rows of ``table`` SQLite can still read; returns (copied, unreadable stretches)."""
    cols = [r[1] for r in new.execute(f'PRAGMA table_info("{table}")')]
    have = {r[1] for r in old.execute(f'PRAGMA table_info("{table}")')}
    cols = [c for c in cols if c in have]
    if not cols:
        return 0, 0
    names = ", ".join(f'"{c}"' for c in cols)
    marks = ", ".join("?" for _ in cols)
    copied = gaps = 0
    last: int | None = None
    while True:  # in rowid order; a damaged stretch is skipped by jumping past it
        try:
            cur = old.execute(
                f'SELECT rowid, {names} FROM "{table}"' + (" WHERE rowid > ?" if last is not None else "")
                + " ORDER BY rowid", (last,) if last is not None else ())
            for row in cur:
                last = row[0]
                try:
                    new.execute(f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', row[1:])
                    copied += 1
                except sqlite3.Error:
                    gaps += 1
            return copied, gaps
        except sqlite3.DatabaseError:
            gaps += 1
            if last is None or gaps > 10_000:
                return copied, gaps
            last += 1


def recover(path: Path, source: Path | None = None) -> tuple[Path, dict[str, int]]:
    """Replace the store at ``path``; returns (where the damaged file went, rows kept per table).

    With ``source`` (a backup), the backup is checked and copied in. Without, a fresh store is
    made with the current schema and every readable row is copied into it.
    """
    from wac.engine.store import open_store

    tmp = path.with_name(f".{path.name}.recovering.{os.getpid()}")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    counts: dict[str, int] = {}
    if source is not None:
        problems = check(source)
        if problems:
            raise StoreCorruptError(f"the backup {source} is damaged too: {problems[0]}")
        backup(source, tmp)
    else:
        fresh = open_store(f"sqlite:///{tmp}")
        fresh.close()
        old = _connect_ro(path)
        new = sqlite3.connect(tmp, isolation_level=None)
        try:
            new.execute("PRAGMA foreign_keys=OFF")
            new.execute("BEGIN")
            tables = [r[0] for r in new.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
            for table in tables:
                try:
                    counts[table] = _salvage_table(old, new, table)[0]
                except sqlite3.DatabaseError:
                    counts[table] = 0
            new.execute("COMMIT")
        finally:
            old.close()
            new.close()
    moved = _aside(path)
    os.replace(tmp, path)
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    return moved, counts
