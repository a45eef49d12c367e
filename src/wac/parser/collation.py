"""Key order of the wmill CLI's YAML writer, applied to schema dicts.

The CLI sorts every mapping it writes with JavaScript ``localeCompare`` on keys renamed by
``prioritizeName`` (``type`` -> ``ab`` ...), so ``properties`` of a schema read ``type,
description, default, ...``. The collation itself is :mod:`wac.project.collation`'s (ICU root
collation, checked against ``localeCompare``); this module only applies it at every depth.
"""

from __future__ import annotations

from typing import Any

from wac.project.collation import yaml_key as sort_key


def sort_mappings(value: Any) -> Any:
    """Return ``value`` with the keys of every dict, at every depth, in the CLI's order."""
    if isinstance(value, dict):
        return {k: sort_mappings(value[k]) for k in sorted(value, key=sort_key)}
    if isinstance(value, list):
        return [sort_mappings(v) for v in value]
    return value
