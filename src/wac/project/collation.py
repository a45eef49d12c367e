"""String ordering of the wmill CLI: JavaScript ``localeCompare`` (ICU root collation).

The real CLI sorts module names (inside ``__script_hash``) and the keys of every YAML mapping it
writes with ``localeCompare``. For printable ASCII, ICU's root collation orders characters as
``(space) _ - , ; : ! ? . ' " ( ) [ ] { } @ * / \\ & # % ` ^ + < = > | ~ $ 0-9 a-z`` at the primary
level (letters case-insensitive); accents are compared at the secondary level and case at the
tertiary level (lowercase first), each level over the whole string. This module implements that
three-level key in pure Python; characters outside that table are ordered after it by code point
(ICU would order scripts such as Greek or CJK differently, which never matters for the file names
and keys the CLI writes in practice).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_PUNCT_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_PRIMARY: dict[str, int] = {}
for _i, _c in enumerate(_PUNCT_ORDER):
    _PRIMARY[_c] = 10 + _i
for _i, _c in enumerate("0123456789"):
    _PRIMARY[_c] = 100 + _i
for _i, _c in enumerate("abcdefghijklmnopqrstuvwxyz"):
    _PRIMARY[_c] = 200 + _i
    _PRIMARY[_c.upper()] = 200 + _i
_OTHER_BASE = 1000

Key = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


@lru_cache(maxsize=65536)
def sort_key(text: str) -> Key:
    """A key such that ``sorted(xs, key=sort_key)`` equals JavaScript ``xs.sort(localeCompare)``."""
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for ch in text:
        if ch == "\u00df":  # sharp s expands to "ss", differing only at the tertiary level
            primary += [_PRIMARY["s"], _PRIMARY["s"]]
            secondary += [0, 0]
            tertiary += [2, 2]
            continue
        if ch in _PRIMARY:
            primary.append(_PRIMARY[ch])
            secondary.append(0)
            tertiary.append(1 if ch.isupper() else 0)
            continue
        decomposed = unicodedata.normalize("NFD", ch)
        base = decomposed[0]
        if unicodedata.category(base) in ("Cc", "Cf"):
            continue  # control and format characters are completely ignorable in ICU
        if base in _PRIMARY and len(decomposed) > 1:
            primary.append(_PRIMARY[base])
            secondary.append(sum(ord(m) for m in decomposed[1:]))
            tertiary.append(1 if base.isupper() else 0)
            continue
        if unicodedata.category(base) == "Mn" and primary:
            secondary[-1] += ord(base)
            continue
        lower = base.lower()
        primary.append(_OTHER_BASE + ord(lower))
        secondary.append(0)
        tertiary.append(0 if lower == base else 1)
    return (tuple(primary), tuple(secondary), tuple(tertiary))


def locale_sorted(items: list[str]) -> list[str]:
    """``items`` sorted as the CLI sorts them (stable for equal keys, like JS ``sort``)."""
    return sorted(items, key=sort_key)


# The CLI's ``prioritizeName``: a few well-known keys are renamed before comparing, so they come
# first in every mapping it writes (``summary, description, lock, ...``, ``type`` first in a property).
_PRIORITY = {
    "version": "aaa",
    "id": "aa",
    "type": "ab",
    "summary": "ad",
    "name": "ae",
    "display_name": "af",
    "description": "ag",
    "value": "ah",
    "content": "ai",
    "modules": "aj",
    "failure_module": "ak",
    "input_transforms": "al",
    "lock": "az",
    "locks": "azz",
}


def yaml_key(key: str) -> Key:
    """Sort key for a mapping key in a YAML file written by the CLI."""
    return sort_key(_PRIORITY.get(key, key))
