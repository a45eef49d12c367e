"""The folder argument of generate-metadata: which items it keeps."""

from __future__ import annotations

from wac.project.languages import script_extension


def normalize_folder(folder: str) -> str:
    """``\\`` -> ``/``, no leading ``./``, no trailing ``/``."""
    out = folder.replace("\\", "/").removeprefix("./").rstrip("/")
    return out


def in_folder(remote_path: str, local_path: str, folder: str) -> bool:
    """True if the item is the folder or inside it (a file path like ``f/a/x.py`` works too)."""
    folder = normalize_folder(folder)
    if not folder:
        return True
    candidates = {folder}
    ext = script_extension(folder.rsplit("/", 1)[-1])
    if ext:
        candidates.add(folder[: -len(ext)])
    for cand in candidates:
        for path in (remote_path, local_path):
            if path == cand or path.startswith(cand + "/"):
                return True
    return False
