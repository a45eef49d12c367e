"""The one lexical check of a relative file path that came from outside (a workspace, an archive)."""

from __future__ import annotations

import re
import unicodedata

_DRIVE = re.compile(r"^[A-Za-z]:")
# characters no file name of a Windmill repo holds on every OS git checks it out on
_RESERVED = frozenset('<>:"|?*')


def unsafe_character(name: str) -> str | None:
    """The first character of ``name`` no Windmill path may hold, described; None when clean.

    Control characters (C0, DEL, C1: a newline or an escape sequence would forge printed plans),
    invisible format characters (bidirectional overrides, zero-width), line/paragraph separators,
    and ``< > : " | ? *``.
    """
    for ch in name:
        category = unicodedata.category(ch)
        if category == "Cc":
            return f"contains a control character ({ascii(ch)[1:-1]})"
        if category in ("Cf", "Zl", "Zp"):
            return f"contains an invisible or separator character (U+{ord(ch):04X})"
        if ch in _RESERVED:
            return f"contains a reserved character ({ch})"
    return None


def escaped(name: object) -> str:
    """``name`` printable without letting it act on a terminal (control characters escaped)."""
    text = str(name)
    if unsafe_character(text) is None:
        return text
    return "".join(ascii(ch)[1:-1] if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
                   for ch in text)


def relative_path_problem(name: object) -> str | None:
    """Why ``name`` cannot be used as a relative ``/``-separated file path, or None when it can.

    Refused: empty, NUL, control and invisible characters, ``< > : " | ? *``, backslashes,
    absolute paths (``/x``, ``C:x``), ``..`` components and empty or ``.`` components.
    """
    if not isinstance(name, str) or not name:
        return "is empty"
    if "\x00" in name:
        return "contains a NUL character"
    unsafe = unsafe_character(name)
    if unsafe is not None:
        return unsafe
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
