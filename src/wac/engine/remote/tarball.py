"""The workspace export of ``GET workspaces/tarball`` (contract §7), read in memory.

The archive (zip, or tar when the server lacks zip support) holds per script ``{path}.{ext}`` and
``{path}.script.json``; a Python script is ``{path}.py``, its modules are inline in the JSON.
Nothing is extracted to disk: members are read into memory, links and folders ignored. Member
names that could escape a folder (absolute, ``..``, backslash, NUL) are refused outright, even
for kinds wac skips: a server sending them is not to be trusted with the rest.
"""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from typing import Any

from wac.engine.remote.scripts import check_script_path, unsafe_reason
from wac.errors import RejectedError, WorkspaceError

JsonValue = Any

QUERY = {  # what `wmill sync pull` asks for (contract §7 [C], FX-30/31)
    "archive_type": "zip", "plain_secret": "false", "skip_variables": "false", "skip_resources": "false",
    "skip_secrets": "true", "include_schedules": "false", "include_triggers": "false",
    "include_users": "false", "include_groups": "false", "include_settings": "false",
    "include_key": "false", "include_workspace_dependencies": "true", "skip_datatable_migrations": "false",
    "default_ts": "bun", "skip_resource_types": "false", "settings_version": "v2",
    "preserve_extra_perms": "true", "sync_behavior_version": "v1",
}
MAX_BYTES = 1 << 30  # uncompressed; a bigger export is refused rather than read into memory


def _check_member(name: str, origin: str) -> None:
    reason = unsafe_reason(name.rstrip("/"))
    if reason:
        raise RejectedError(f"{origin} holds the file {name!r}, which wac refuses: {reason}",
                            hint="the server's export is not safe to read; check the server")


def read_archive(data: bytes, origin: str) -> dict[str, bytes]:
    """``{member name: bytes}`` of the regular files of a zip or tar archive."""
    total = 0
    files: dict[str, bytes] = {}
    try:
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist():
                    _check_member(info.orig_filename, origin)
                    if info.is_dir():
                        continue
                    total += info.file_size
                    if total > MAX_BYTES:
                        raise RejectedError(f"{origin} is larger than {MAX_BYTES >> 20} MiB uncompressed")
                    files[info.filename] = archive.read(info)
            return files
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            for member in tar:
                _check_member(member.name, origin)
                if not member.isfile():
                    continue
                total += member.size
                if total > MAX_BYTES:
                    raise RejectedError(f"{origin} is larger than {MAX_BYTES >> 20} MiB uncompressed")
                extracted = tar.extractfile(member)
                files[member.name] = extracted.read() if extracted is not None else b""
            return files
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise WorkspaceError(f"{origin} is not a zip or tar archive wac can read ({exc})") from None


def _text(files: dict[str, bytes], name: str, origin: str) -> str:
    try:
        return files[name].decode("utf-8")
    except UnicodeDecodeError:
        raise WorkspaceError(f"{origin}: {name} is not UTF-8 text") from None


def python_scripts(files: dict[str, bytes], origin: str) -> list[tuple[str, str, dict[str, JsonValue]]]:
    """``(path, content, script.json document)`` of every Python script, by path."""
    found = []
    for name in sorted(files):
        if not name.endswith(".script.json"):
            continue
        path = name[: -len(".script.json")]
        if path + ".py" not in files:
            continue  # another language (.ts, .go, .sh, .pg.sql …): not wac's
        check_script_path(path, origin)
        try:
            doc = json.loads(_text(files, name, origin))
        except ValueError:
            raise WorkspaceError(f"{origin}: {name} is not valid JSON") from None
        if not isinstance(doc, dict):
            raise WorkspaceError(f"{origin}: {name} is not a JSON object")
        found.append((path, _text(files, path + ".py", origin), doc))
    return found
