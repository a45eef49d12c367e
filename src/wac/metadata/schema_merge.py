"""Merge a freshly inferred schema over the existing ``.script.yaml`` schema.

What the user edited survives regeneration: property descriptions and UI fields (``pattern``,
``min``, ``title``, ``password``, ...), unknown keys, a string's ``format``, other top-level schema
keys such as ``order``. What the code decides is refreshed: ``type``, ``default``, ``items``,
``enum`` of a ``Literal``, ``required`` and the set and order of properties (removed parameters
disappear). See spec python-parser-and-sdk §2.1–2.2.
"""

from __future__ import annotations

import copy
from typing import Any

from wac.project.scriptmeta import default_schema

# Item fields of an array of objects that survive regeneration (user-described rows).
_KEPT_ITEM_KEYS = ("additionalProperties", "description", "properties", "required", "resourceType")


def merge_schema(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """The schema to write: ``new`` (from the parser) merged over ``old`` (from the file)."""
    if not isinstance(old, dict):
        return copy.deepcopy(new)
    merged = {k: copy.deepcopy(v) for k, v in old.items() if k not in ("properties", "required")}
    for key in ("$schema", "type"):
        if key in new:
            merged[key] = new[key]
    old_props = old.get("properties") if isinstance(old.get("properties"), dict) else {}
    props: dict[str, Any] = {}
    for name, prop in (new.get("properties") or {}).items():
        previous = old_props.get(name) if isinstance(old_props, dict) else None
        props[name] = merge_property(previous, prop)
    merged["properties"] = props
    merged["required"] = list(new.get("required") or [])
    return merged


def merge_property(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """One property: the old object with the parser's fields assigned onto it."""
    if not isinstance(old, dict):
        return copy.deepcopy(new)
    out = copy.deepcopy(old)
    new_type = new.get("type")
    if "description" not in out:
        out["description"] = new.get("description", "")
    for key, value in new.items():
        if key in ("description", "format", "enum", "items", "properties"):
            continue
        out[key] = copy.deepcopy(value)
    # enum: a Literal's members always win; a plain str keeps an old enum only if it was a str
    if "enum" in new:
        out["enum"] = copy.deepcopy(new["enum"])
    elif "enum" in out and new_type == "string" and new.get("originalType") == "string":
        if old.get("originalType") != "string":
            del out["enum"]
    # format: a string keeps a user-chosen format; otherwise the parser's, or none
    if new_type == "string" and "format" in old:
        out["format"] = old["format"]
    elif "format" in new:
        out["format"] = new["format"]
    else:
        out.pop("format", None)
    if "items" in new:
        out["items"] = _merge_items(old.get("items"), new["items"])
    if "properties" in new:
        old_nested: dict[str, Any] = old["properties"] if isinstance(old.get("properties"), dict) else {}
        out["properties"] = {
            name: merge_property(old_nested.get(name), prop)
            for name, prop in (new["properties"] or {}).items()
        }
    return out


def _merge_items(old: Any, new: Any) -> Any:
    if not isinstance(new, dict) or not isinstance(old, dict):
        return copy.deepcopy(new)
    out = copy.deepcopy(new)
    if new.get("type") == "object" and old.get("type") == "object":
        for key in _KEPT_ITEM_KEYS:
            if key in old and key not in out:
                out[key] = copy.deepcopy(old[key])
    return out


def update_metadata(
    meta: dict[str, Any], schema: dict[str, Any] | None, has_preprocessor: bool
) -> dict[str, Any]:
    """The metadata mapping after a schema regeneration (``schema=None``: parse failed)."""
    out = dict(meta)
    out["schema"] = default_schema() if schema is None else merge_schema(meta.get("schema"), schema)
    if has_preprocessor:
        out["has_preprocessor"] = True
    else:
        out.pop("has_preprocessor", None)
    out.pop("auto_kind", None)
    out.pop("no_main_func", None)
    return out
