"""The Windmill API contract as a validator: every request the fake server receives and every answer
it gives is checked against the OpenAPI document merged from ``tests/data/windmill-api/``:

    openflow.openapi.yaml  <-  wac-operations.yaml  <-  openapi-corrections.yaml

Path templates are matched by our own matcher so that a ``{path}`` parameter may hold slashes (the
server routes it as a wildcard, contract §10 row 12); undeclared query parameters are violations
(openapi-core style validators ignore them); bodies are validated with jsonschema after turning
OpenAPI 3.0's ``nullable`` into JSON Schema.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

DATA = Path(__file__).resolve().parent.parent / "data" / "windmill-api"
_BASE = "urn:wac:windmill-openapi"
_METHODS = ("get", "post", "put", "delete", "patch")
WILDCARD_PARAMS = frozenset({"path"})  # Windmill paths with raw slashes


def _load(name: str) -> dict[str, Any]:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def merged_document() -> dict[str, Any]:
    """The merged OpenAPI document (see the module docstring for the order)."""
    doc = _load("openflow.openapi.yaml")
    ops = _load("wac-operations.yaml")
    fixes = _load("openapi-corrections.yaml")
    doc.setdefault("paths", {})
    doc["paths"].update(copy.deepcopy(ops["paths"]))
    for section, items in ops["components"].items():
        doc["components"].setdefault(section, {}).update(copy.deepcopy(items))
    for path, item in fixes.get("replace_operations", {}).items():
        for method, op in item.items():
            doc["paths"].setdefault(path, {})[method] = copy.deepcopy(op)
    for where, params in fixes.get("add_query_parameters", {}).items():
        method, path = where.split(" ", 1)
        doc["paths"][path][method.lower()].setdefault("parameters", []).extend(copy.deepcopy(params))
    doc["components"]["schemas"].update(copy.deepcopy(fixes.get("schemas", {})))
    return doc


def _to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema -> JSON Schema (draft 7): ``nullable``, and refs made absolute."""
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if isinstance(out.get("$ref"), str) and out["$ref"].startswith("#/"):
        out["$ref"] = _BASE + out["$ref"]
    if node.get("nullable") is True:
        if "$ref" in out or "type" not in out:
            return {"anyOf": [out, {"type": "null"}]}
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


_FORMATS = jsonschema.FormatChecker(formats=())


@_FORMATS.checks("uuid", raises=ValueError)
def _is_uuid(value: object) -> bool:
    return not isinstance(value, str) or str(uuid.UUID(value)) == value.lower()


@_FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if isinstance(value, str):
        if "T" not in value.upper():
            raise ValueError("no time part")
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


@lru_cache(maxsize=1)
def _registry() -> Registry:
    resource = Resource.from_contents(_to_json_schema(merged_document()), default_specification=DRAFT7)
    return Registry().with_resource(_BASE, resource)


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """Violations of an OpenAPI schema by ``value``, as short messages."""
    validator = jsonschema.Draft7Validator(_to_json_schema(schema), registry=_registry(), format_checker=_FORMATS)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message[:300]}" for e in validator.iter_errors(value)]


def _deref(node: dict[str, Any]) -> dict[str, Any]:
    doc = merged_document()
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    op: dict[str, Any] = field(hash=False, compare=False)
    pattern: re.Pattern[str] = field(hash=False, compare=False)

    @property
    def id(self) -> str:
        return str(self.op.get("operationId", f"{self.method} {self.template}"))

    def parameters(self, where: str) -> dict[str, dict[str, Any]]:
        found = {}
        for raw in self.op.get("parameters", []):
            param = _deref(raw)
            if param["in"] == where:
                found[param["name"]] = param
        return found


@lru_cache(maxsize=1)
def operations() -> list[Operation]:
    """Every operation, most specific template first (more literal characters wins)."""
    ops = []
    for template, item in merged_document()["paths"].items():
        for method, op in item.items():
            if method not in _METHODS:
                continue
            regex = ""
            for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", template):
                regex += re.escape(literal)
                if name:
                    regex += f"(?P<{name}>.+)" if name in WILDCARD_PARAMS else f"(?P<{name}>[^/]+)"
            ops.append(Operation(method.upper(), template, op, re.compile(f"^{regex}$")))
    return sorted(ops, key=lambda o: -len(re.sub(r"\{[^}]+\}", "", o.template)))


def match(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation serving ``METHOD /api/...`` and its path parameters."""
    if not path.startswith("/api/"):
        return None
    rest = path[len("/api"):]
    for op in operations():
        if op.method == method:
            m = op.pattern.match(rest)
            if m:
                return op, m.groupdict()
    return None


def _coerce(raw: str, schema: dict[str, Any]) -> Any:
    kind = _deref(schema).get("type")
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    if kind in ("integer", "number"):
        try:
            return int(raw) if kind == "integer" else float(raw)
        except ValueError:
            return raw
    return raw


def request_violations(method: str, path: str, query: dict[str, list[str]], content_type: str,
                       body: bytes) -> tuple[Operation | None, dict[str, str], list[str]]:
    """``(operation, path params, violations)`` of one request."""
    found = match(method, path)
    if found is None:
        return None, {}, [f"{method} {path}: no such operation in the spec"]
    op, params = found
    problems: list[str] = []
    where = f"{method} {op.template}"
    for name, value in params.items():
        declared = op.parameters("path").get(name)
        if declared is None:
            problems.append(f"{where}: path parameter {name} not declared")
            continue
        problems += [f"{where}: path {name}={value!r}: {e}" for e in schema_errors(declared.get("schema", {}), value)]
    declared_q = op.parameters("query")
    for name, values in query.items():
        if name not in declared_q:
            problems.append(f"{where}: undeclared query parameter {name!r}")
            continue
        for value in values:
            schema = declared_q[name].get("schema", {})
            problems += [f"{where}: query {name}={value!r}: {e}" for e in schema_errors(schema, _coerce(value, schema))]
    for name, param in declared_q.items():
        if param.get("required") and name not in query:
            problems.append(f"{where}: missing required query parameter {name!r}")
    spec_body = op.op.get("requestBody")
    if spec_body is None:
        if body:
            problems.append(f"{where}: a body was sent to an operation that takes none")
    elif not body:
        if spec_body.get("required"):
            problems.append(f"{where}: the required body is missing")
    else:
        media = content_type.split(";", 1)[0].strip()
        content = spec_body.get("content", {})
        if media not in content:
            problems.append(f"{where}: body content type {media!r} not in {sorted(content)}")
        elif media == "application/json":
            try:
                value = json.loads(body)
            except ValueError:
                problems.append(f"{where}: the body is not JSON")
            else:
                problems += [f"{where}: body {e}" for e in schema_errors(content[media].get("schema", {}), value)]
    return op, params, problems


def response_violations(op: Operation, status: int, content_type: str, body: bytes) -> list[str]:
    """Violations of the answer the fake gives: declared success statuses, content types and
    schemas; any error as text/plain (contract §1)."""
    where = f"{op.method} {op.template} -> {status}"
    media = content_type.split(";", 1)[0].strip()
    if status >= 300:
        return [] if media == "text/plain" else [f"{where}: an error answer must be text/plain, not {media!r}"]
    declared = op.op.get("responses", {}).get(str(status)) or op.op.get("responses", {}).get("default")
    if declared is None:
        return [f"{where}: status not declared (declared: {sorted(op.op.get('responses', {}))})"]
    content = declared.get("content")
    if not content:
        return [] if not body else [f"{where}: a body where none is declared"]
    if media not in content:
        return [f"{where}: content type {media!r} not in {sorted(content)}"]
    schema = content[media].get("schema", {})
    if media == "application/json":
        try:
            value = json.loads(body)
        except ValueError:
            return [f"{where}: the body is not JSON"]
        return [f"{where}: {e}" for e in schema_errors(schema, value)]
    if media == "text/plain":
        try:
            return [f"{where}: {e}" for e in schema_errors(schema, body.decode("utf-8"))]
        except UnicodeDecodeError:
            return [f"{where}: text body is not UTF-8"]
    return []
