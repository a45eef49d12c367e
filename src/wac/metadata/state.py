"""A script's current metadata text and hash entries, computed without writing anything."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wac.project.discovery import ScriptRef
from wac.project.hashing import main_key, script_entries
from wac.project.scriptmeta import default_metadata, parse_metadata, render_metadata
from wac.project.textio import read_text


@dataclass
class ScriptState:
    """What is on disk for one script now (or what would be, for missing metadata)."""

    ref: ScriptRef
    main_text: str
    metadata_path: Path
    metadata_text: str
    metadata_exists: bool
    entries: dict[str, str]
    _metadata: dict[str, Any] | None = None

    @property
    def metadata(self) -> dict[str, Any]:
        """The parsed metadata (parsed on first use: hashing needs only the text).

        Raises:
            ScriptMetadataError: the file is not a YAML/JSON mapping; the message names it.
        """
        if self._metadata is None:
            self._metadata = parse_metadata(self.metadata_text, self.metadata_path)
        return self._metadata

    @metadata.setter
    def metadata(self, value: dict[str, Any]) -> None:
        self._metadata = value

    @property
    def key(self) -> str:
        """The key that decides staleness (``R`` or ``R+__script_hash``)."""
        return main_key(self.ref.remote_path, self.ref.has_modules)


def load_state(ref: ScriptRef) -> ScriptState:
    """Read the script, its modules and metadata, and compute its wmill-lock.yaml entries."""
    main_text = read_text(ref.main_file)
    path = ref.metadata_file()
    meta: dict[str, Any] | None = None
    if path is not None:
        text = read_text(path)
    else:
        path = ref.default_metadata_file
        meta = default_metadata(ref.default_lock_ref)
        text = render_metadata(meta)
    exists = meta is None
    entries = script_entries(ref.remote_path, main_text, text, ref.modules)
    return ScriptState(
        ref=ref,
        main_text=main_text,
        metadata_path=path,
        metadata_text=text,
        metadata_exists=exists,
        entries=entries,
        _metadata=meta,
    )
