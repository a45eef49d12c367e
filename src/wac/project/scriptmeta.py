"""``.script.yaml`` / ``.script.json``: reading, the default document, ``!inline`` lock references."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from wac.errors import MetadataError
from wac.project.discovery import PathEscapeError, ScriptRef
from wac.project.textio import read_text
from wac.project.yamlio import dump_yaml, load_yaml

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"
INLINE_PREFIX = "!inline "


class ScriptMetadataError(MetadataError):
    """A .script.yaml could not be read."""

    hint = "fix the YAML by hand, or delete the file to have it recreated with defaults"


def default_schema() -> dict[str, Any]:
    """The empty schema of a script without parameters."""
    return {"$schema": SCHEMA_URL, "type": "object", "properties": {}, "required": []}


def default_metadata(lock_ref: str | None) -> dict[str, Any]:
    """The metadata the CLI creates for a script that has none (``lock_ref=None`` -> ``lock: ''``)."""
    return {
        "summary": "",
        "description": "",
        "lock": f"{INLINE_PREFIX}{lock_ref}" if lock_ref is not None else "",
        "kind": "script",
        "schema": default_schema(),
    }


def render_metadata(meta: dict[str, Any], as_json: bool = False) -> str:
    """The text of a metadata file: the CLI's YAML, or 2-space JSON for ``.script.json``."""
    if as_json:
        return json.dumps(meta, indent=2, ensure_ascii=False) + "\n"
    return dump_yaml(meta)


def parse_metadata(text: str, path: Path) -> dict[str, Any]:
    """Parse metadata text; anything but a mapping is a :class:`ScriptMetadataError` naming ``path``."""
    try:
        data = json.loads(text) if path.name.endswith(".json") else load_yaml(text)
    except Exception as exc:  # YAML/JSON syntax errors of every kind
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScriptMetadataError(f"cannot parse {path}: {first}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScriptMetadataError(f"{path} must be a mapping (summary, lock, schema, ...)")
    return data


def read_metadata(ref: ScriptRef) -> tuple[Path | None, str | None, dict[str, Any] | None]:
    """``(file, raw text, parsed)`` of the script's metadata, or ``(None, None, None)``."""
    path = ref.metadata_file()
    if path is None:
        return None, None, None
    text = read_text(path)
    return path, text, parse_metadata(text, path)


def inline_lock_path(repo_root: Path, lock_value: Any) -> Path | None:
    """The file an ``'!inline p'`` lock value points to (None for other values).

    Raises:
        PathEscapeError: when ``p`` leaves the repo.
    """
    if not isinstance(lock_value, str) or not lock_value.startswith(INLINE_PREFIX):
        return None
    rel = lock_value[len(INLINE_PREFIX) :].strip()
    target = Path(os.path.normpath(repo_root / rel))
    root = Path(os.path.normpath(repo_root))
    if os.path.isabs(rel) or os.path.commonpath([target, root]) != str(root):
        raise PathEscapeError(f"lock reference '{lock_value}' points outside the repo")
    return target


def resolve_lock_text(repo_root: Path, lock_value: Any) -> str:
    """The lock text a metadata ``lock:`` value stands for (``''`` when none or missing)."""
    if isinstance(lock_value, list):
        return "\n".join(str(x) for x in lock_value)
    path = inline_lock_path(repo_root, lock_value)
    if path is None:
        return lock_value if isinstance(lock_value, str) else ""
    try:
        return read_text(path)
    except MetadataError:
        return ""
