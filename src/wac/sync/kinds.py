"""The sync registry: every workspace item kind other than scripts, and how it is found on disk.

A kind plugs in with one :func:`register` call from its own module (listed in ``_BUILTIN``):

- ``name``: the kind as stored (``flow``, ``schedule``, ``http_trigger``...), ``label`` as printed;
- ``find(walk)``: the kind's items among the repo's files (``walk`` is one shared listing of every
  file under ``f/ u/ g/``), each a :class:`LocalItem` (Windmill path + its files);
- ``owns(path, rel)``: whether a file a workspace sends for the item at ``path`` may be written at
  ``rel`` (a pull checks every name against it before writing anything);
- ``skip_key`` / ``include_key``: the ``wmill.yaml`` option that leaves it out (``skipFlows``) or
  that it needs (``includeSchedules``, default false as in wmill);
- ``note``: what wac does not do with it yet (printed by the commands that list it).

How it is stored (``stored``): ``"item"`` (the default) keeps it as a versioned item of the
workspace (:mod:`wac.engine.items`), its files kept exactly as pushed, so a pull reproduces them
byte for byte; how it is pulled: those files, written back at their repo-relative paths.
``"own"`` is for a kind whose module has its own store tables and Backend calls (variables,
resources, resource types: ``wac.sync.objects``): the registry still finds and names it, the
generic item push/pull leave it to that module.

Example, a kind stored as one file per item::

    register_file_kind("variable", "variable", ".variable.yaml", skip_key="skipVariables", stored="own")
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.project.config import RepoConfig

ROOTS = ("f", "u", "g")


@dataclass(frozen=True)
class LocalItem:
    """One item as the repo holds it: its Windmill path and its files (repo-relative)."""

    kind: str
    path: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Walk:
    """Every file under ``f/ u/ g/`` (repo-relative, sorted), listed once for all kinds."""

    root: Path
    files: tuple[str, ...]
    config: RepoConfig = field(default_factory=RepoConfig)


@dataclass(frozen=True)
class Kind:
    """One item kind of the registry (see the module docstring)."""

    name: str
    label: str
    find: Callable[[Walk], list[LocalItem]]
    owns: Callable[[str, str], bool]
    skip_key: str | None = None
    include_key: str | None = None
    note: str | None = None
    stored: str = "item"  # "item": generic versioned item; "own": the kind's module syncs it

    def enabled(self, config: RepoConfig) -> bool:
        """False when wmill.yaml leaves this kind out of sync."""
        raw: dict[str, Any] = config.raw or {}
        if self.skip_key and raw.get(self.skip_key) is True:
            return False
        return not (self.include_key and raw.get(self.include_key) is not True)


KINDS: dict[str, Kind] = {}
_BUILTIN = ("wac.sync.kinds_folders", "wac.sync.kinds_files")


def register(kind: Kind) -> Kind:
    """Add ``kind`` to the registry (a kind module calls this at import)."""
    KINDS[kind.name] = kind
    return kind


def all_kinds() -> dict[str, Kind]:
    """The registry, with the built-in kinds loaded."""
    import importlib

    for module in _BUILTIN:
        importlib.import_module(module)
    return KINDS


def walk(root: Path, config: RepoConfig) -> Walk:
    """List the repo's files once (hidden folders, ``node_modules`` and ``.wac`` left out)."""
    out: list[str] = []
    for top in ROOTS:
        base = root / top
        if not base.is_dir():
            continue
        for folder, dirs, files in os.walk(base):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "node_modules")
            rel_dir = Path(folder).relative_to(root).as_posix()
            out += [f"{rel_dir}/{name}" for name in files]
    return Walk(root=root, files=tuple(sorted(out)), config=config)


def local_items(root: Path, config: RepoConfig) -> tuple[list[LocalItem], list[str]]:
    """Every item of an enabled kind the repo holds, and the notes of the kinds left out."""
    listing = walk(root, config)
    items: list[LocalItem] = []
    left_out: list[str] = []
    for kind in all_kinds().values():
        if kind.stored != "item":
            continue
        found = kind.find(listing)
        if not kind.enabled(config):
            if found:
                key = kind.skip_key or kind.include_key
                left_out.append(f"{len(found)} {kind.label}(s) left out by wmill.yaml ({key})")
            continue
        items += found
    return items, left_out
