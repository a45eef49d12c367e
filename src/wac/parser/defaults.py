"""Default expression -> JSON value, as wmill converts it (spec §1.6), and typ inference."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import libcst as cst

from wac.parser.types import STR, UNKNOWN, Typ, string_value

FUNCTION_CALL = "<function call>"
_NO_DEFAULT = object()
_U64_MAX = 2**64 - 1
_CONSTANTS: dict[str, Any] = {"None": None, "True": True, "False": False}


def convert_default(
    node: cst.BaseExpression | None, enums: Mapping[str, Mapping[str, str]]
) -> tuple[bool, Any]:
    """(has_default, value); ``enums`` maps enum class -> member name -> value."""
    if node is None:
        return False, None
    value = _convert(node, enums)
    if value is _NO_DEFAULT:
        return False, None
    return True, value


def _convert(node: cst.BaseExpression, enums: Mapping[str, Mapping[str, str]]) -> Any:
    if isinstance(node, cst.Name):
        return _CONSTANTS[node.value] if node.value in _CONSTANTS else _NO_DEFAULT
    if isinstance(node, cst.Integer):
        number = int(node.evaluated_value)
        return _json_float(number) if number > _U64_MAX else number
    if isinstance(node, cst.Float):
        return _json_float(node.evaluated_value)
    if isinstance(node, cst.Imaginary):
        return [0.0, complex(node.evaluated_value).imag]
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        text = string_value(node)
        if text is None:
            return _NO_DEFAULT
        return list(text) if isinstance(text, bytes) else text
    if isinstance(node, cst.Ellipsis):
        return "..."
    if isinstance(node, cst.List):
        items: list[Any] = []
        for element in node.elements:
            if isinstance(element, cst.StarredElement):
                items.append(None)
                continue
            item = _convert(element.value, enums)
            items.append(None if item is _NO_DEFAULT else item)
        return items
    if isinstance(node, cst.Dict):
        out: dict[str, Any] = {}
        for entry in node.elements:
            if not isinstance(entry, cst.DictElement):
                continue
            key = _convert(entry.key, enums)
            value = _convert(entry.value, enums)
            key = key if isinstance(key, str) else "no_key"
            out.pop(key, None)  # last duplicate wins
            out[key] = None if value is _NO_DEFAULT else value
        return out
    if isinstance(node, cst.Call):
        return FUNCTION_CALL
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name):
        members = enums.get(node.value.value)
        if members is not None and node.attr.value in members:
            return members[node.attr.value]
        return node.attr.value
    return _NO_DEFAULT


def _json_float(number: float | int) -> float | None:
    """JSON has no infinity: a literal too large for a double becomes null, as in wmill."""
    try:
        value = float(number)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def infer_typ(value: Any) -> Typ:
    """Typ wmill infers from a converted default value."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return STR
    if isinstance(value, list):
        if not value or value[0] is None:
            return ("list", STR)
        return ("list", infer_typ(value[0]))
    if isinstance(value, dict):
        return ("object", None, tuple((k, infer_typ(v)) for k, v in value.items()))
    return UNKNOWN
