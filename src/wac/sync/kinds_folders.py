"""Folder kinds of the sync registry: flows, apps and raw apps (a folder and every file in it).

A flow is a folder holding ``flow.yaml`` (``x.flow/`` or ``x__flow/``, both layouts), an app one
holding ``app.yaml``, a raw app one holding ``raw_app.yaml``; the item carries every file of the
folder (definition, inline scripts, locks, frontend files), sub-folders included. Its Windmill
path is the folder without its suffix. A raw app carries the files wmill syncs of it
(``deploysWithRawApp``): not ``node_modules/``, ``dist/``, ``.claude/``, ``sql_to_apply/``, a top
``recordings/``, sub-folders of ``backend/``, ``package-lock.json``, ``DATATABLES.md``,
``AGENTS.md`` nor ``wmill.d.ts``, which wmill neither pushes nor pulls.
"""

from __future__ import annotations

from collections.abc import Callable

from wac.engine.remote.rawappfiles import deploys
from wac.sync.kinds import Kind, LocalItem, Walk, register

_SUFFIXES = {
    "flow": ("__flow", ".flow"),
    "app": ("__app", ".app"),
    "raw_app": ("__raw_app", ".raw_app"),
}
_DEFINITIONS = {"flow": ("flow.yaml", "flow.json"), "app": ("app.yaml", "app.json"), "raw_app": ("raw_app.yaml",)}


def _remote(folder: str, kind: str) -> str:
    for suffix in _SUFFIXES[kind]:
        if folder.endswith(suffix):
            return folder[: -len(suffix)]
    return folder


def _finder(kind: str) -> Callable[[Walk], list[LocalItem]]:
    names = _DEFINITIONS[kind]

    def find(listing: Walk) -> list[LocalItem]:
        folders = []
        for rel in listing.files:
            folder, _, name = rel.rpartition("/")
            if name in names and folder.endswith(_SUFFIXES[kind]) and listing.config.accepts(rel):
                folders.append(folder)
        items = []
        for folder in dict.fromkeys(folders):
            prefix = folder + "/"
            # wmill.yaml's includes/excludes apply to every file (`f/**` leaves out dot files, as in wmill)
            files = tuple(f for f in listing.files if f.startswith(prefix) and listing.config.accepts(f)
                          and (kind != "raw_app" or deploys(f[len(prefix):])))
            items.append(LocalItem(kind=kind, path=_remote(folder, kind), files=files))
        return items

    return find


def _owner(kind: str) -> Callable[[str, str], bool]:
    def owns(path: str, rel: str) -> bool:
        if kind == "raw_app" and not any(rel.startswith(f"{path}{s}/") and deploys(rel[len(path) + len(s) + 1:])
                                         for s in _SUFFIXES[kind]):
            return False
        return any(rel.startswith(f"{path}{suffix}/") and len(rel) > len(path) + len(suffix) + 1
                   for suffix in _SUFFIXES[kind])

    return owns


FLOW = register(Kind("flow", "flow", _finder("flow"), _owner("flow"), skip_key="skipFlows",
                     note="stored and synced; the embedded engine does not run flows yet"))
APP = register(Kind("app", "app", _finder("app"), _owner("app"), skip_key="skipApps",
                    note="stored and synced; wac serves no apps"))
RAW_APP = register(Kind("raw_app", "raw app", _finder("raw_app"), _owner("raw_app"), skip_key="skipApps",
                        note="stored and synced; wac serves no apps"))
