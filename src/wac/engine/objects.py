"""Workspace objects over a Store: variables (secrets sealed), resources with ``$var:``/``$res:``
references, resource types, per-script state. Used by the embedded Backend and, inside a round,
by the wmill client the engine serves.

The secret rule: a secret variable under ``u/NAME/`` is readable only by jobs of scripts under
``u/NAME/`` (Windmill's user space); a secret under ``f/`` or ``g/`` by every job of the
workspace. Commands (``wac variable get``) act for the user and read any secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from wac.engine import secrets
from wac.engine.store.base import ObjectRecord, Store
from wac.errors import ObjectError, ObjectNotFoundError, SecretAccessError, WacError
from wac.project.objectfiles import LABELS, ObjectFile

Overlay = Callable[[str, str], "ObjectFile | None"]  # (kind, path) -> the repo's file, read first
VAR, RES = "$var:", "$res:"
MAX_DEPTH = 32


def may_read_secret(secret_path: str, reader: str | None) -> bool:
    """The secret rule (module docstring). ``reader`` None: the user, at a command."""
    if reader is None or not secret_path.startswith("u/"):
        return True
    owner = "/".join(secret_path.split("/")[:2]) + "/"
    return reader.startswith(owner)


class Objects:
    """Objects of one workspace store, optionally read through a repo overlay (preview)."""

    def __init__(self, store: Store, overlay: Overlay | None = None, reader: str | None = None) -> None:
        self.store = store
        self.overlay = overlay
        self.reader = reader  # the script path of the job asking; None for the user at a command
        self.revealed: list[str] = []  # secret values handed out (the job log masks them)
        self._key: tuple[bytes | None] | None = None  # the workspace's own secret key, once read

    def _workspace_key(self) -> bytes | None:
        """The store's own secret key (PostgreSQL), None where secrets use the user's key file."""
        if self._key is None:
            self._key = (self.store.secret_key(),)
        return self._key[0]

    def _seal(self, text: str) -> str:
        return secrets.seal(text, self._workspace_key())

    def _unseal(self, sealed: str, what: str) -> str:
        return secrets.unseal(sealed, what, workspace_key=self._workspace_key())

    # ---- plain reads and writes
    def get(self, kind: str, path: str, *, reveal: bool = False) -> ObjectFile | None:
        """The object, repo file first. A secret's value is None unless ``reveal``."""
        if self.overlay is not None:
            found = self.overlay(kind, path)
            if found is not None:
                return found
        record = self.store.get_object(kind, path)
        return None if record is None else self._from_record(record, reveal)

    def list(self, kind: str, *, reveal: bool = False) -> list[ObjectFile]:
        return [self._from_record(r, reveal) for r in self.store.list_objects(kind)]

    def source(self, kind: str, path: str) -> str | None:
        """The file text a sync push stored with the object (unsealed), if still current."""
        record = self.store.get_object(kind, path)
        if record is None or record.source is None:
            return None
        return self._unseal(record.source, f"the file of {path}") if record.is_secret else record.source

    def put(self, obj: ObjectFile, source: str | None = None) -> None:
        if obj.kind == "resource":
            self.check_resource(obj)
        if obj.is_secret:
            value = self._seal(str(obj.value))
            sealed_source = None if source is None else self._seal(source)
        else:
            value, sealed_source = json.dumps(obj.value, ensure_ascii=False), source
        self.store.put_object(ObjectRecord(
            kind=obj.kind, path=obj.path, value=value, is_secret=obj.is_secret,
            resource_type=obj.resource_type, description=obj.description, source=sealed_source,
        ))

    def delete(self, kind: str, path: str) -> bool:
        return self.store.delete_object(kind, path)

    def _from_record(self, record: ObjectRecord, reveal: bool) -> ObjectFile:
        if record.is_secret:
            value: Any = self._unseal(record.value, f"the secret {record.path}") if reveal else None
        else:
            value = json.loads(record.value)
        return ObjectFile(record.kind, record.path, value, record.description, record.is_secret, record.resource_type)

    # ---- what the wmill client asks
    def variable(self, path: str) -> str:
        """The value of variable ``path`` (the secret rule applies).

        Raises:
            ObjectNotFoundError, SecretAccessError, SecretKeyError.
        """
        found = self.get("variable", path)
        if found is None:
            raise ObjectNotFoundError(f"variable {path} not found in the workspace")
        if found.is_secret:
            if not may_read_secret(path, self.reader):
                raise SecretAccessError(f"{self.reader} may not read the secret variable {path}")
            if found.value is None:
                found = self.get("variable", path, reveal=True)
                assert found is not None
            self.revealed.append(str(found.value))
        return str(found.value)

    def resource(self, path: str) -> Any:
        """The value of resource ``path`` with its ``$var:``/``$res:`` references resolved."""
        return self._resource(path, ())

    def _resource(self, path: str, chain: tuple[str, ...]) -> Any:
        found = self.get("resource", path)
        if found is None:
            raise ObjectNotFoundError(f"resource {path} not found in the workspace")
        return self._resolve(found.value, chain + (RES + path,))

    def resolve(self, value: Any) -> Any:
        """``value`` with every ``"$var:PATH"``/``"$res:PATH"`` string replaced by what it names
        (recursively through lists and objects; resources resolve their own references)."""
        return self._resolve(value, ())

    def _resolve(self, value: Any, chain: tuple[str, ...]) -> Any:
        if isinstance(value, str):
            if value.startswith((VAR, RES)):
                if value in chain:
                    cycle = " -> ".join(c for c in chain[chain.index(value):]) + f" -> {value}"
                    raise ObjectError(f"reference cycle: {cycle}",
                                      hint="a resource may not refer back to itself through $res:/$var:")
                if len(chain) > MAX_DEPTH:
                    raise ObjectError(f"references nested deeper than {MAX_DEPTH}: {' -> '.join(chain)}")
                if value.startswith(VAR):
                    return self.variable(value[len(VAR):])
                return self._resource(value[len(RES):], chain)
            return value
        if isinstance(value, list):
            return [self._resolve(v, chain) for v in value]
        if isinstance(value, dict):
            return {k: self._resolve(v, chain) for k, v in value.items()}
        return value

    def check_resource(self, obj: ObjectFile) -> None:
        """A resource's value against its type's schema (when the workspace knows the type), and
        its type against the existing resource at that path.

        Raises:
            ObjectError: the type changes, or the value misses a required key or has a wrong kind.
        """
        rtype = obj.resource_type or ""
        old = self.store.get_object("resource", obj.path)
        if old is not None and old.resource_type and rtype and old.resource_type != rtype:
            raise ObjectError(f"resource {obj.path} is a {old.resource_type}, not a {rtype}",
                              hint="delete it first, or keep its resource_type")
        if rtype == "any":
            return
        typ = self.get("resource_type", rtype)
        if typ is None or not isinstance(typ.value, dict):
            return
        problem = schema_problem(obj.value, typ.value)
        if problem:
            raise ObjectError(f"resource {obj.path} does not match its type {rtype}: {problem}",
                              hint=f"see the schema of {rtype}")


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "object": (dict,), "array": (list,),
}


def _type_ok(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False
    kinds = _JSON_TYPES.get(name)
    return kinds is None or isinstance(value, kinds)


def schema_problem(value: Any, schema: dict[str, Any]) -> str | None:
    """The first way ``value`` breaks ``schema`` (top-level type, required keys, property kinds);
    a ``$var:``/``$res:`` reference stands for any value."""
    top = schema.get("type", "object")
    if isinstance(top, str) and not _type_ok(value, top):
        return f"expected {'an' if top[0] in 'aeiou' else 'a'} {top}"
    if not isinstance(value, dict):
        return None
    for key in schema.get("required") or []:
        if key not in value:
            return f"'{key}' is required"
    props = schema.get("properties") or {}
    for key, sub in props.items():
        if key not in value or not isinstance(sub, dict):
            continue
        v = value[key]
        if isinstance(v, str) and v.startswith((VAR, RES)):
            continue
        t = sub.get("type")
        if isinstance(t, str) and v is not None and not _type_ok(v, t):
            return f"'{key}' must be {'an' if t[0] in 'aeiou' else 'a'} {t}"
    return None


_MASK_CACHE: dict[str, tuple[tuple[tuple[str, float], ...], list[str]]] = {}


def secret_values(store: Store) -> list[str]:
    """Every secret variable's value (cached while no secret changes), for masking logs."""
    records = [r for r in store.list_objects("variable") if r.is_secret]
    stamp = tuple((r.path, r.updated_at) for r in records)
    cached = _MASK_CACHE.get(store.url)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    values = []
    key = store.secret_key() if records else None
    for r in records:
        try:
            value = secrets.unseal(r.value, f"the secret {r.path}", workspace_key=key)
        except WacError:
            continue
        if len(value) >= 3:  # masking a one- or two-character value would garble every log
            values.append(value)
    _MASK_CACHE[store.url] = (stamp, values)
    return values


def label(kind: str) -> str:
    return LABELS[kind]
