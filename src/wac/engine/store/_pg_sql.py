"""The PostgreSQL dialect's SQL and rows: the store's SQL (written in SQLite's spelling of the
subset both share) translated once per statement text, and result rows read by column name."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, ClassVar

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
_JSON_NUM = re.compile(r"json_extract\((\w+), '\$\.(\w+)'\)")
_SQLITE_NOW = "(julianday('now') - 2440587.5) * 86400.0"


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """The store's SQL (SQLite spelling of the shared subset) in PostgreSQL's spelling."""
    out = sql.replace("%", "%%")
    out = out.replace(_SQLITE_NOW, "extract(epoch from clock_timestamp())::float8")
    out = _JSON_NUM.sub(r"(\1::jsonb->>'\2')::float8", out)
    out = out.replace("max(j.scheduled_at, ", "greatest(j.scheduled_at, ")
    out = re.sub(r"\bwindow\b", '"window"', out)
    out = _NAMED.sub(r"%(\1)s", out)
    return out.replace("?", "%s")


class PgRow(tuple[Any, ...]):
    """A PostgreSQL result row, read by column name like ``sqlite3.Row`` (``row["status"]``),
    iterable, with ``keys()``. A position (``row[0]``) is refused: the store reads rows by name
    only (:mod:`._sqlite_rows`). One subclass per column list (:func:`_row_class`) holds the
    name → index map, so a row costs what a tuple costs."""

    __slots__ = ()
    _index: ClassVar[dict[str, int]] = {}
    _names: ClassVar[tuple[str, ...]] = ()

    def __getitem__(self, key: Any) -> Any:
        if key.__class__ is str:
            try:
                return tuple.__getitem__(self, self._index[key])
            except KeyError:
                raise KeyError(f"no column {key!r} in this row ({', '.join(self._names)})") from None
        raise TypeError(f"read a store row by column name ({', '.join(self._names)}), not by position")

    def keys(self) -> list[str]:
        return list(self._names)


@lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[PgRow]:
    return type("PgRow", (PgRow,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)},
                                    "_names": names})


def named_row(cursor: Any) -> Any:
    """psycopg row factory: rows of :class:`PgRow` for the cursor's column names."""
    desc = cursor.description
    if desc is None:
        return tuple
    return _row_class(tuple(c.name for c in desc))


class PgConn:
    """A psycopg connection with the ``execute`` the store's SQL is written for."""

    __slots__ = ("raw",)

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Any = ()) -> Any:
        cur = self.raw.cursor(row_factory=named_row)
        cur.execute(translate(sql), params if params else None)
        return cur

    def executemany(self, sql: str, rows: Any) -> Any:
        cur = self.raw.cursor()
        cur.executemany(translate(sql), list(rows))
        return cur
