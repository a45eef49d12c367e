"""Job arguments from ``-d``: inline JSON or ``@file.json``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from wac.errors import ArgsError


def parse_data(data: str | None) -> dict[str, Any]:
    """The job's arguments: ``-d '{"x": 1}'`` or ``-d @args.json``; nothing means ``{}``."""
    if data is None or data == "":
        return {}
    source = "-d"
    text = data
    if data.startswith("@"):
        path = Path(data[1:])
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ArgsError(f"no such file: {path}", hint="-d @FILE reads the arguments from a JSON file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ArgsError(f"cannot read {path}: {exc}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArgsError(f"{source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    if not isinstance(value, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")
        raise ArgsError(f"{source} must be a JSON object of arguments, got {kind}")
    return value
