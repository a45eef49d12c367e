"""The form of ``wait_for_approval(form=…)``: its fields, and checking a value against it.

``form`` is a JSON schema of an object (``{"type": "object", "properties": {…}, "required": […]}``,
Windmill's shape; ``{"schema": {…}}`` and a bare ``{name: {type…}}`` properties map are accepted
too). The subset checked — on the approval page and for ``wac job approve --value`` alike — is
what the page can render: property types (string, integer, number, boolean, array, object),
``enum``, ``required``, ``minimum``/``maximum``, ``minLength``/``maxLength``, ``pattern``.
Stdlib only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_TYPES = ("string", "integer", "number", "boolean", "array", "object")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    title: str
    description: str
    enum: list[Any] | None
    default: Any
    required: bool
    spec: dict[str, Any]


def schema_of(form: Any) -> dict[str, Any] | None:
    """The object schema inside what the store kept for an approval, or None without a form."""
    if isinstance(form, dict) and "form" in form and not isinstance(form.get("type"), str):
        form = form.get("form")
    if not isinstance(form, dict) or not form:
        return None
    if isinstance(form.get("schema"), dict):
        form = form["schema"]
    if isinstance(form.get("properties"), dict):
        return dict(form)
    if all(isinstance(v, dict) for v in form.values()):
        return {"type": "object", "properties": form, "required": []}
    return None


def fields(schema: dict[str, Any]) -> list[Field]:
    props: dict[str, Any] = schema.get("properties") or {}
    required = set(schema.get("required") or [])
    raw_order = schema.get("order")
    order: list[str] = [str(n) for n in raw_order] if isinstance(raw_order, list) else list(props)
    out = []
    for name in [n for n in order if n in props] + [n for n in props if n not in order]:
        spec = props[name] if isinstance(props[name], dict) else {}
        kind = str(spec["type"]) if spec.get("type") in _TYPES else "string"
        enum = spec.get("enum") if isinstance(spec.get("enum"), list) else None
        out.append(Field(name, kind, str(spec.get("title") or name), str(spec.get("description") or ""),
                         enum, spec.get("default"), name in required, spec))
    return out


def _type_ok(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "array":
        return isinstance(value, list)
    return isinstance(value, dict)


def problems(schema: dict[str, Any], value: Any) -> list[str]:
    """What is wrong with ``value`` for ``schema`` (empty when it fits)."""
    if not isinstance(value, dict):
        return [f"the value must be a JSON object with the form's fields, not {json.dumps(value)[:60]}"]
    out = []
    for f in fields(schema):
        if f.name not in value or value[f.name] is None:
            if f.required:
                out.append(f"{f.name}: required")
            continue
        v = value[f.name]
        if not _type_ok(f.type, v):
            out.append(f"{f.name}: must be {'an' if f.type[0] in 'aio' else 'a'} {f.type}")
            continue
        if f.enum is not None and v not in f.enum:
            out.append(f"{f.name}: must be one of {', '.join(json.dumps(e) for e in f.enum)}")
        spec = f.spec
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            if isinstance(spec.get("minimum"), (int, float)) and v < spec["minimum"]:
                out.append(f"{f.name}: must be at least {spec['minimum']}")
            if isinstance(spec.get("maximum"), (int, float)) and v > spec["maximum"]:
                out.append(f"{f.name}: must be at most {spec['maximum']}")
        if isinstance(v, str):
            if isinstance(spec.get("minLength"), int) and len(v) < spec["minLength"]:
                out.append(f"{f.name}: must have at least {spec['minLength']} characters")
            if isinstance(spec.get("maxLength"), int) and len(v) > spec["maxLength"]:
                out.append(f"{f.name}: must have at most {spec['maxLength']} characters")
            if isinstance(spec.get("pattern"), str):
                try:
                    if re.search(spec["pattern"], v) is None:
                        out.append(f"{f.name}: must match {spec['pattern']}")
                except re.error:
                    pass
    return out


def from_strings(schema: dict[str, Any], posted: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The value an HTML form posted (every input a string; unchecked boxes absent), typed by
    the schema, and the problems converting it."""
    value: dict[str, Any] = {}
    errs: list[str] = []
    for f in fields(schema):
        if f.type == "boolean":
            value[f.name] = posted.get(f.name) in ("on", "true", "1")
            continue
        raw = posted.get(f.name, "")
        if raw == "":
            continue
        if f.enum is not None:
            match = [e for e in f.enum if json.dumps(e) == raw or (isinstance(e, str) and e == raw)]
            if match:
                value[f.name] = match[0]
                continue
        try:
            if f.type == "integer":
                value[f.name] = int(raw)
            elif f.type == "number":
                value[f.name] = float(raw) if any(c in raw for c in ".eE") else int(raw)
            elif f.type in ("array", "object"):
                value[f.name] = json.loads(raw)
            else:
                value[f.name] = raw
        except ValueError:
            errs.append(f"{f.name}: must be {'an' if f.type[0] in 'aio' else 'a'} {f.type}")
    return value, errs


def defaults(schema: dict[str, Any] | None) -> dict[str, Any] | None:
    """The value the form's defaults make (None without a form): what ``--approve`` answers."""
    if schema is None:
        return None
    return {f.name: f.default for f in fields(schema) if f.default is not None}
