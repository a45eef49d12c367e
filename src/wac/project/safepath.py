"""The one lexical check of a relative file path that came from outside (a workspace, an archive)."""

from __future__ import annotations

import re

_DRIVE = re.compile(r"^[A-Za-z]:")


def relative_path_problem(name: object) -> str | None:
    """Why ``name`` cannot be used as a relative ``/``-separated file path, or None when it can.

    Refused: empty, NUL, backslashes, absolute paths (``/x``, ``C:x``), ``..`` components and
    empty or ``.`` components.
    """
    if not isinstance(name, str) or not name:
        return "is empty"
    if "\x00" in name:
        return "contains a NUL character"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "is absolute"
    parts = name.split("/")
    if ".." in parts:
        return "contains '..'"
    if any(p in ("", ".") for p in parts):
        return "has an empty or '.' segment"
    return None
