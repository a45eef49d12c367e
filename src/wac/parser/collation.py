"""Key order of the wmill CLI's YAML writer: ICU root collation after ``prioritizeName``.

The CLI sorts every mapping it writes with JavaScript ``localeCompare`` on keys renamed by
``prioritizeName`` (``type`` -> ``ab`` ...), so ``properties`` of a schema read ``type,
description, default, ...``. :func:`sort_key` reproduces that order without ICU: exact for
printable ASCII (the order the spec lists), an approximation for other scripts (accents are
secondary differences, other characters follow Latin in code-point order).
"""

from __future__ import annotations

import unicodedata
from typing import Any

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

# ICU root primary order of printable ASCII, letters folded to lower case.
_ASCII_ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"
_PRIMARY = {c: i + 1 for i, c in enumerate(_ASCII_ORDER)}
_AFTER_ASCII = len(_ASCII_ORDER) + 1

# letters ICU sorts as (variants of) other letters at the primary level
_EXPANSIONS = str.maketrans({"ß": "ss", "ø": "o\u0338", "Ø": "O\u0338"})

Key = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]


def _collation_key(text: str) -> Key:
    primary: list[int] = []
    secondary: list[int] = []
    tertiary: list[int] = []
    for ch in unicodedata.normalize("NFD", text).translate(_EXPANSIONS):
        if unicodedata.combining(ch):
            # an accent: a secondary difference attached to the previous base character
            if secondary:
                secondary[-1] = secondary[-1] * 1024 + ord(ch) % 1024
            continue
        low = ch.lower()
        weight = _PRIMARY.get(low)
        if weight is None:
            weight = _AFTER_ASCII + ord(low)
        primary.append(weight)
        secondary.append(0)
        tertiary.append(1 if ch != low else 0)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def sort_key(key: str) -> Key:
    """Sort key of a mapping key as the wmill CLI's YAML writer orders it."""
    return _collation_key(_PRIORITY.get(key, key))


def sort_mappings(value: Any) -> Any:
    """Return ``value`` with the keys of every dict, at every depth, in the CLI's order."""
    if isinstance(value, dict):
        return {k: sort_mappings(value[k]) for k in sorted(value, key=sort_key)}
    if isinstance(value, list):
        return [sort_mappings(v) for v in value]
    return value
