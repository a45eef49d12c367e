"""The repo's workspace-object files, in Windmill's formats.

==================  ==============================  ==========================================
kind                file                            document (keys in the order the wmill CLI writes)
==================  ==============================  ==========================================
variable            ``f/a/b.variable.yaml``         ``description``, ``value`` (a string), ``is_secret``
resource            ``f/a/b.resource.yaml``         ``description``, ``value``, ``resource_type``
resource_type       ``NAME.resource-type.yaml``     ``description``, ``schema`` (+ ``format_extension``…)
==================  ==============================  ==========================================

A file's whole document is kept as read; :func:`render` writes one the way the wmill CLI does
(``yaml.stringify`` with sorted keys), so a document read here and written back is the same bytes
when the file was the CLI's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.errors import ObjectError

SUFFIXES = {"variable": ".variable.yaml", "resource": ".resource.yaml", "resource_type": ".resource-type.yaml"}
KINDS = tuple(SUFFIXES)
LABELS = {"variable": "variable", "resource": "resource", "resource_type": "resource type"}


@dataclass(frozen=True)
class ObjectFile:
    """One object as its file holds it (plain text values: a secret variable's too)."""

    kind: str
    path: str  # remote path ("f/a/b"), a resource type's name
    value: Any  # variable: str; resource: any JSON; resource type: its schema
    description: str = ""
    is_secret: bool = False
    resource_type: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # other keys of the document, kept as read

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = dict(self.extra)
        doc["description"] = self.description
        if self.kind == "variable":
            doc["is_secret"] = self.is_secret
            doc["value"] = self.value
        elif self.kind == "resource":
            doc["resource_type"] = self.resource_type or ""
            doc["value"] = self.value
        else:
            doc["schema"] = self.value
        return doc


def kind_of(rel: str) -> str | None:
    """The object kind a repo-relative file name is, or None."""
    for kind, suffix in SUFFIXES.items():
        if rel.endswith(suffix) and len(rel) > len(suffix):
            return kind
    return None


def file_name(kind: str, path: str) -> str:
    return path + SUFFIXES[kind]


def remote_path(kind: str, rel: str) -> str:
    return rel[: -len(SUFFIXES[kind])]


def parse(kind: str, rel: str, text: str) -> ObjectFile:
    """Read one object file.

    Raises:
        ObjectError: not YAML, not a mapping, or a key of the wrong type (the message names the file).
    """
    from wac.project.yamlread import load_yaml

    try:
        doc = load_yaml(text)
    except ImportError as exc:  # in a script's environment whose Python cannot load wac's PyYAML
        from wac.owndeps import missing

        message, hint = missing("yaml", exc)
        raise ObjectError(f"{rel}: cannot be read: {message}; {hint}", hint=hint) from None  # a job error shows no hint
    except Exception as exc:  # yaml.YAMLError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ObjectError(f"{rel}: not valid YAML: {first}", hint="fix the file (or pull it again)") from None
    if not isinstance(doc, dict):
        raise ObjectError(f"{rel}: a {LABELS[kind]} file must be a mapping (description, value, …)",
                          hint=_example(kind))
    path = remote_path(kind, rel)
    description = doc.get("description") or ""
    if not isinstance(description, str):
        raise ObjectError(f"{rel}: 'description' must be a string", hint=_example(kind))
    known = {"description", "value", "is_secret", "resource_type", "schema"}
    extra = {k: v for k, v in doc.items() if k not in known}
    if kind == "variable":
        value, secret = doc.get("value", ""), doc.get("is_secret", False)
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise ObjectError(f"{rel}: a variable's 'value' must be a string", hint=_example(kind))
        if not isinstance(secret, bool):
            raise ObjectError(f"{rel}: 'is_secret' must be true or false", hint=_example(kind))
        return ObjectFile(kind, path, value, description, secret, None, extra)
    if kind == "resource":
        rtype = doc.get("resource_type")
        if not isinstance(rtype, str) or not rtype:
            raise ObjectError(f"{rel}: a resource needs a 'resource_type' (e.g. postgresql)", hint=_example(kind))
        if "value" not in doc:
            raise ObjectError(f"{rel}: a resource needs a 'value'", hint=_example(kind))
        return ObjectFile(kind, path, doc["value"], description, False, rtype, extra)
    schema = doc.get("schema")
    if not isinstance(schema, dict):
        raise ObjectError(f"{rel}: a resource type needs a 'schema' mapping (a JSON schema)", hint=_example(kind))
    return ObjectFile(kind, path, schema, description, False, None, extra)


def _example(kind: str) -> str:
    return {
        "variable": "e.g. description: ''\\nis_secret: false\\nvalue: hello",
        "resource": "e.g. description: ''\\nresource_type: postgresql\\nvalue:\\n  host: db",
        "resource_type": "e.g. description: ''\\nschema:\\n  type: object\\n  properties: {}",
    }[kind]


def render(obj: ObjectFile) -> str:
    """The file the wmill CLI writes for ``obj``."""
    from wac.project.yamlio import dump_yaml

    return dump_yaml(obj.document())


def read_repo_object(root: Path, kind: str, path: str) -> ObjectFile | None:
    """The object ``path`` as the repo at ``root`` holds it, or None when it has no such file."""
    rel = file_name(kind, path)
    target = root / rel
    try:
        raw = target.read_bytes()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    except OSError as exc:
        raise ObjectError(f"{rel}: cannot be read: {exc.strerror}") from exc
    return parse(kind, rel, raw.decode("utf-8-sig", errors="replace"))
