"""Check job arguments against a script's schema: one readable message per bad field."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Mapping
from typing import Any

_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (dict, "object"))


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    for python_type, name in _JSON_TYPES:
        if isinstance(value, python_type):
            return name
    return type(value).__name__


def _shown(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):  # circular structures
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    kind = _kind(value)
    return kind if value is None else f"{kind} {_shown(value)}"


def validate_args(schema: Mapping[str, Any], args: Mapping[str, Any]) -> list[str]:
    """Messages for every argument that does not fit ``schema``; empty when all is well.

    Missing required arguments and values of the wrong JSON type are reported, naming the
    field; arguments the schema does not know are allowed (wmill passes them through).
    """
    if not isinstance(schema, Mapping):
        return []
    properties = schema.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = schema.get("required")
    required = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    errors: list[str] = []
    for name in required:
        if name not in args:
            errors.append(f"missing required '{name}'")
    for name, value in args.items():
        prop = properties.get(name)
        if not isinstance(prop, Mapping):
            continue
        if value is None and name not in required:
            continue
        problem = _problem(prop, value)
        if problem is not None:
            errors.append(f"'{name}': {problem}")
    return errors


def _problem(prop: Mapping[str, Any], value: Any) -> str | None:
    expected = prop.get("type")
    raw_format = prop.get("format")
    fmt = raw_format if isinstance(raw_format, str) else ""
    if expected == "integer":
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and math.isfinite(value) and value.is_integer())
        return None if ok else f"expected integer, got {_got(value)}"
    if expected == "number":
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"expected number, got {_got(value)}"
    if expected == "boolean":
        return None if isinstance(value, bool) else f"expected boolean, got {_got(value)}"
    if expected == "string":
        return _string_problem(prop, value, fmt)
    if expected == "array":
        return _array_problem(prop, value)
    if expected == "object":
        if fmt.startswith(("resource-", "dynselect-", "dynmultiselect-")):
            # resources are passed by reference ("$res:f/x/db") or inline as an object
            ok = isinstance(value, (dict, str))
            return None if ok else f"expected object or resource path, got {_got(value)}"
        if not isinstance(value, dict):
            return f"expected object, got {_got(value)}"
        return _nested_problem(prop, value)
    return None  # unknown type: anything goes


def _string_problem(prop: Mapping[str, Any], value: Any, fmt: str) -> str | None:
    if not isinstance(value, str):
        return f"expected string, got {_got(value)}"
    enum = prop.get("enum")
    if isinstance(enum, list) and enum and value not in enum:
        choices = ", ".join(_shown(e) for e in enum)
        return f"expected one of {choices}, got {_shown(value)}"
    if fmt == "date-time" and not _is_datetime(value):
        return f"expected an ISO 8601 date-time, got {_shown(value)}"
    if fmt == "date" and not _is_date(value):
        return f"expected an ISO 8601 date (YYYY-MM-DD), got {_shown(value)}"
    if prop.get("contentEncoding") == "base64":
        try:
            base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return f"expected base64-encoded bytes, got {_shown(value)}"
    return None


def _is_datetime(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _array_problem(prop: Mapping[str, Any], value: Any) -> str | None:
    if not isinstance(value, list):
        return f"expected array, got {_got(value)}"
    items = prop.get("items")
    if not isinstance(items, Mapping):
        return None
    item_prop: Mapping[str, Any] = items
    if items.get("type") == "resource":
        item_prop = {"type": "object", "format": f"resource-{items.get('resourceType')}"}
    for index, item in enumerate(value):
        problem = _problem(item_prop, item)
        if problem is not None:
            return f"item {index}: {problem}"
    return None


def _nested_problem(prop: Mapping[str, Any], value: Mapping[str, Any]) -> str | None:
    properties = prop.get("properties")
    if not isinstance(properties, Mapping):
        return None
    for key, item in value.items():
        sub = properties.get(key)
        if isinstance(sub, Mapping) and item is not None:
            problem = _problem(sub, item)
            if problem is not None:
                return f"field '{key}': {problem}"
    return None
