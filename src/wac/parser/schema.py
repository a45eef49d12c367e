"""Argument list -> the ``schema:`` block of ``.script.yaml`` (spec §2).

Follows the wmill CLI's ``inferSchema`` / ``argSigToJsonSchemaType``: each property is rebuilt
from the parser's typ on top of the old property of the same name (user-edited fields such as
``description``, ``pattern``, ``min`` survive), ``default`` and ``required`` come from the
signature, and every mapping is returned in the CLI's key order.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from wac.parser.collation import sort_mappings
from wac.parser.signature import Arg
from wac.parser.types import Typ

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"

_PRESERVED = (
    "description", "pattern", "min", "max", "currency", "currencyLocale", "multiselect",
    "customErrorMessage", "required", "showExpr", "password", "order", "dateFormat", "title",
    "placeholder",
)
# ITEMS_PRESERVED_FIELDS of the CLI: what an object list keeps of the old ``items``
_KEPT_ITEM_FIELDS = ("properties", "required", "additionalProperties", "enum", "resourceType",
                     "contentEncoding", "description")
_UNSET = object()  # JavaScript `undefined`: the key is dropped when assigned


def empty_schema() -> dict[str, Any]:
    """The schema wmill writes for a script without arguments (or one it cannot parse)."""
    return {"$schema": SCHEMA_URL, "type": "object", "properties": {}, "required": []}


def build_schema(args: Iterable[Arg], old: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The schema for ``args``; with ``old``, regenerated over an existing schema.

    ``old`` is not modified. Other top-level keys of ``old`` (e.g. ``order``) are kept,
    properties of arguments that no longer exist are dropped.
    """
    schema: dict[str, Any] = copy.deepcopy(dict(old)) if old else empty_schema()
    old_props = schema.get("properties")
    old_props = old_props if isinstance(old_props, dict) else {}
    properties: dict[str, Any] = {}
    required: list[str] = []
    for arg in args:
        prop = old_props.get(arg.name)
        prop = dict(prop) if isinstance(prop, dict) else {"description": "", "type": ""}
        apply_typ(arg.typ, prop)
        if arg.otyp and "[" in arg.otyp and "|" in arg.otyp:
            prop["originalType"] = arg.otyp
        prop["default"] = js_numbers(arg.default)
        properties[arg.name] = prop
        if not arg.has_default and arg.name not in required:
            required.append(arg.name)
    schema["properties"] = properties
    schema["required"] = required
    result: dict[str, Any] = sort_mappings(schema)
    return result


def js_numbers(value: Any) -> Any:
    """``value`` with integral floats as ints, as the CLI (JavaScript numbers) writes them.

    ``1.0`` becomes ``1`` and ``[0.0, 1.0]`` ``[0, 1]``; floats from 1e21 up stay floats
    because JavaScript prints them in exponent form (``1.2345678901234568e+29``).
    """
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [js_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: js_numbers(v) for k, v in value.items()}
    return value


def _object_properties(props: Iterable[tuple[str, Typ]], old: Any) -> dict[str, Any]:
    old = old if isinstance(old, dict) else {}
    out: dict[str, Any] = {}
    for key, typ in props:
        prop = old.get(key)
        prop = prop if isinstance(prop, dict) else {"description": "", "type": ""}
        apply_typ(typ, prop)
        out[key] = prop
    return out


def _new_fields(typ: Typ, old: Mapping[str, Any]) -> dict[str, Any]:
    """The fields a typ sets on a property (``_UNSET`` values delete the key)."""
    if typ == "int":
        return {"type": "integer"}
    if typ == "float":
        return {"type": "number"}
    if typ == "bool":
        return {"type": "boolean"}
    if typ == "bytes":
        return {"type": "string", "contentEncoding": "base64", "originalType": "bytes"}
    if typ == "datetime":
        return {"type": "string", "format": "date-time"}
    if typ == "date":
        return {"type": "string", "format": "date"}
    if typ == "sql":
        return {"type": "string", "format": "sql"}
    if not isinstance(typ, tuple):  # unknown: `oldS.type ?? "object"`
        return {"type": old["type"] if old.get("type") is not None else "object"}
    kind = typ[0]
    if kind == "str":
        if typ[1]:
            return {"type": "string", "originalType": "enum", "enum": list(typ[1])}
        if old.get("originalType") == "string" and old.get("enum"):
            return {"type": "string", "originalType": "string", "enum": old["enum"]}
        return {"type": "string", "originalType": "string", "enum": _UNSET}
    if kind == "resource":
        return {"type": "object", "format": f"resource-{typ[1]}"}
    if kind in ("dynselect", "dynmultiselect"):
        return {"type": "object", "format": f"{kind}-{typ[1]}"}
    if kind == "object":
        new: dict[str, Any] = {"type": "object"}
        if typ[1]:
            new["format"] = f"resource-{typ[1]}"
        if typ[2] is not None:
            new["properties"] = _object_properties(typ[2], old.get("properties"))
        return new
    return _list_fields(typ[1], old)


def _list_fields(item: Typ, old: Mapping[str, Any]) -> dict[str, Any]:
    new: dict[str, Any] = {"type": "array"}
    raw_items = old.get("items")
    old_items: dict[str, Any] = raw_items if isinstance(raw_items, dict) else {}
    if item in ("int", "float"):
        new.update(items={"type": "number"}, originalType="number[]")
    elif item == "bytes":
        new.update(items={"type": "string", "contentEncoding": "base64"}, originalType="bytes[]")
    elif isinstance(item, tuple) and item[0] == "str":
        if item[1]:
            new.update(items={"type": "string", "enum": list(item[1])}, originalType="enum[]")
        else:
            items: dict[str, Any] = {"type": "string"}
            if "enum" in old_items:  # `enum: oldS.items?.enum`: a null enum stays null
                items["enum"] = old_items["enum"]
            new.update(items=items, originalType="string[]")
    elif isinstance(item, tuple) and item[0] == "resource":
        new.update(items={"type": "resource", "resourceType": item[1]}, originalType="resource[]")
    elif isinstance(item, tuple) and item[0] == "object":
        if item[1]:
            new["format"] = f"resource-{item[1]}"
        if item[2]:
            items = {"type": "object", "properties": _object_properties(item[2], None)}
        else:
            items = _kept_items(old_items)
        new.update(items=items, originalType="record[]")
    else:
        new.update(items=_kept_items(old_items), originalType="object[]")
    return new


def _kept_items(old_items: Mapping[str, Any]) -> dict[str, Any]:
    """``{type: oldS.items?.type || "object"}`` plus the old items' preserved fields."""
    items: dict[str, Any] = {"type": old_items.get("type") or "object"}
    items.update({k: old_items[k] for k in _KEPT_ITEM_FIELDS if old_items.get(k, _UNSET) is not _UNSET})
    return items


def apply_typ(typ: Typ, prop: dict[str, Any]) -> None:
    """Rebuild ``prop`` in place for ``typ``, keeping what the CLI keeps of the old property."""
    new = _new_fields(typ, prop)
    for field in _PRESERVED:
        if field in prop:
            new[field] = prop[field]
    # the CLI's if/else chain, in its order (JavaScript `==`: null and undefined alike)
    if prop.get("type") != new.get("type"):
        for key in new:
            if key != "description":
                prop.pop(key, None)
    elif prop.get("format") in ("date", "date-time") and new.get("format") == "string":
        new["format"] = prop["format"]
    elif new.get("format") == "date-time" and prop.get("format") == "date":
        new["format"] = "date"
    elif new.get("format") in ("date", "date-time"):
        new["format"] = prop.get("format", _UNSET)
    elif _items_type(prop) != _items_type(new):
        prop.pop("items", None)
    elif prop.get("type") == "string" and prop.get("format") is not None:
        new["format"] = prop["format"]
    new_format = new.get("format")
    if (prop.get("type") != new.get("type") or new.get("type") != "string") and (
        new_format is None or new_format is _UNSET
    ):
        prop.pop("format", None)
    for key, value in new.items():
        if value is _UNSET:
            prop.pop(key, None)
        else:
            prop[key] = value


def _items_type(prop: Mapping[str, Any]) -> Any:
    items = prop.get("items")
    return items.get("type") if isinstance(items, dict) else None
