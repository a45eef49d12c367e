"""File kinds of the sync registry: schedules, triggers and folders (one YAML file each).

``f/x/nightly.schedule.yaml`` is the schedule ``f/x/nightly``; ``f/x/hook.http_trigger.yaml`` the
HTTP trigger ``f/x/hook`` (one kind per trigger type, as wmill names them); ``f/x/folder.meta.yaml``
the folder ``f/x``. wmill syncs schedules and triggers only with ``includeSchedules`` /
``includeTriggers``; wac follows it.
"""

from __future__ import annotations

from collections.abc import Callable

from wac.sync.kinds import Kind, LocalItem, Walk, register

TRIGGER_TYPES = ("http", "websocket", "kafka", "nats", "postgres", "mqtt", "amqp", "sqs", "gcp", "azure", "email")
FOLDER_META = "folder.meta.yaml"


def _suffix_finder(kind: str, suffix: str) -> Callable[[Walk], list[LocalItem]]:
    def find(listing: Walk) -> list[LocalItem]:
        out = []
        for rel in listing.files:
            name = rel.rpartition("/")[2]
            if name.endswith(suffix) and len(name) > len(suffix) and listing.config.accepts(rel):
                out.append(LocalItem(kind=kind, path=rel[: -len(suffix)], files=(rel,)))
        return out

    return find


def _suffix_owner(suffix: str) -> Callable[[str, str], bool]:
    return lambda path, rel: rel == path + suffix


def register_file_kind(name: str, label: str, suffix: str, **options: str) -> Kind:
    """Register a kind stored as one file ``<path><suffix>`` (client's variables, resources... too)."""
    return register(Kind(name, label, _suffix_finder(name, suffix), _suffix_owner(suffix), **options))


def _find_folders(listing: Walk) -> list[LocalItem]:
    out = []
    for rel in listing.files:
        folder, _, name = rel.rpartition("/")
        if name == FOLDER_META and folder.count("/") == 1 and listing.config.accepts(rel):
            out.append(LocalItem(kind="folder", path=folder, files=(rel,)))
    return out


SCHEDULE = register_file_kind(
    "schedule", "schedule", ".schedule.yaml", include_key="includeSchedules",
    note="stored and listed (wac schedule list); the embedded workers do not fire schedules yet")
TRIGGERS = [
    register_file_kind(f"{t}_trigger", f"{t} trigger", f".{t}_trigger.yaml", include_key="includeTriggers",
                       note="stored and synced; the embedded engine does not listen to triggers")
    for t in TRIGGER_TYPES
]
FOLDER = register(Kind("folder", "folder", _find_folders, lambda path, rel: rel == f"{path}/{FOLDER_META}",
                       skip_key="skipFolders", note="stored and synced; wac enforces no folder permissions"))
