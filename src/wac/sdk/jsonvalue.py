"""The one encoder every task, step and workflow value goes through.

A value crosses JSON whenever it is checkpointed, so the round that computes it must hand back the
same JSON round trip a replay reads: tuples become lists, ``datetime``/``date``/``time`` become ISO
8601 strings, ``UUID``/``Decimal``/``Path``/``Enum`` become ``str()``. Anything else is refused
with :class:`NotJsonSerializableError`, naming the task or step, instead of being silently turned
into ``"<Foo object at 0x…>"`` as ``json.dumps(default=str)`` (what ``wmill`` uses) would.
"""

from __future__ import annotations

from wac.errors import WacError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


class NotJsonSerializableError(WacError, TypeError):
    """A value is not JSON-serialisable."""

    hint = (
        "return plain JSON values (dict, list, str, int, float, bool, None); "
        "datetime, UUID, Decimal, Path and Enum are converted to strings, other objects must be "
        "converted by your code"
    )


class _Unsupported(Exception):
    def __init__(self, type_name: str) -> None:
        super().__init__(type_name)
        self.type_name = type_name


def _default(obj: Any) -> Any:
    import datetime
    import decimal
    import enum
    import pathlib
    import uuid

    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, (uuid.UUID, decimal.Decimal, pathlib.PurePath, enum.Enum)):
        return str(obj)
    raise _Unsupported(type(obj).__name__)


def encode(value: Any, subject: str, verb: str = "returned a value that is") -> str:
    """``value`` as JSON text, or :class:`NotJsonSerializableError` naming ``subject``."""
    import json

    try:
        return json.dumps(value, default=_default)
    except _Unsupported as exc:
        detail = f"object of type {exc.type_name}"
    except (TypeError, ValueError, RecursionError) as exc:
        detail = str(exc) or type(exc).__name__
    raise NotJsonSerializableError(f"{subject} {verb} not JSON-serialisable: {detail}")


def to_json(value: Any, subject: str, verb: str = "returned a value that is") -> Any:
    """The JSON round trip of ``value``: exactly what a replay of its checkpoint reads."""
    if value is None or type(value) in (str, int, float, bool):
        return value
    import json

    return json.loads(encode(value, subject, verb))
