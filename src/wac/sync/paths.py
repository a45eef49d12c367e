"""Where a workspace script lives in the repo, and which remote names are safe to write at all.

Remote paths and module keys come from a workspace, so they are untrusted input: before a pull
writes anything, every name is checked lexically here (no absolute paths, ``..``, backslashes, NUL,
empty or hidden segments, only ``f/ u/ g/`` roots) and every target file is checked against the
repo with symlinks resolved (:func:`escapes`).
"""

from __future__ import annotations

import os
from pathlib import Path

from wac.engine.backend import NewScript
from wac.project.config import RepoConfig
from wac.project.discovery import MOD_SUFFIX, SCRIPT_ROOTS, is_entry_name
from wac.project.languages import language_of
from wac.project.safepath import relative_path_problem

# The file extension each language is written with (inverse of wac.project.languages).
_EXTENSIONS = {
    "python3": ".py", "nativets": ".fetch.ts", "bun": ".bun.ts", "deno": ".deno.ts", "go": ".go",
    "mysql": ".my.sql", "bigquery": ".bq.sql", "oracledb": ".odb.sql", "duckdb": ".duckdb.sql",
    "snowflake": ".sf.sql", "mssql": ".ms.sql", "postgresql": ".pg.sql", "graphql": ".gql",
    "bash": ".sh", "powershell": ".ps1", "php": ".php", "rust": ".rs", "csharp": ".cs",
    "ansible": ".playbook.yml", "nu": ".nu", "java": ".java", "ruby": ".rb", "rlang": ".r",
}
LAYOUTS = ("flat", "folder")


def extension_for(language: str, default_ts: str = "bun") -> str | None:
    """The extension a script of ``language`` is written with (``.ts`` for the repo's defaultTs)."""
    if language == default_ts and language in ("bun", "deno"):
        return ".ts"
    return _EXTENSIONS.get(language)


def remote_path_problem(path: object) -> str | None:
    """Why ``path`` cannot be a script's remote path in a repo, or None when it can."""
    problem = relative_path_problem(path)
    if problem is not None or not isinstance(path, str):
        return problem
    parts = path.split("/")
    if parts[0] not in SCRIPT_ROOTS:
        return "does not start with f/, u/ or g/"
    if len(parts) < 3:
        return "needs a folder and a name (f/<folder>/<name>)"
    if any(p.startswith(".") for p in parts):
        return "has a hidden segment (never walked as a script)"
    if any(p.endswith(MOD_SUFFIX) for p in parts):
        return f"has a segment ending in {MOD_SUFFIX} (a module folder)"
    return None


def module_key_problem(key: object) -> str | None:
    """Why ``key`` cannot be a module key (a path inside the module folder), or None."""
    problem = relative_path_problem(key)
    if problem is not None or not isinstance(key, str):
        return problem
    parts = key.split("/")
    name = parts[-1]
    if name.endswith(".lock") or language_of(name) is None:
        return "is not a module file name (a script extension such as .py)"
    if len(parts) == 1 and is_entry_name(name):
        return "would be read as the script's entry point"
    return None


def default_layout(script: NewScript, layout_recorded: bool) -> str:
    """The layout of a script the repo does not have yet.

    The version's own layout when the workspace recorded it (wac's backends do), else the wmill
    CLI's rule: folder layout when the script has modules, flat otherwise.
    """
    if layout_recorded and script.layout in LAYOUTS:
        return script.layout
    return "folder" if script.modules else "flat"


def entry_path(remote: str, language: str, layout: str, default_ts: str = "bun") -> str | None:
    """The repo-relative main file of a script in ``layout`` (None: unknown language)."""
    ext = extension_for(language, default_ts)
    if ext is None:
        return None
    return f"{remote}{MOD_SUFFIX}/script{ext}" if layout == "folder" else f"{remote}{ext}"


def metadata_path(remote: str, layout: str) -> str:
    return f"{remote}{MOD_SUFFIX}/script.yaml" if layout == "folder" else f"{remote}.script.yaml"


def lock_path(remote: str, layout: str) -> str:
    return f"{remote}{MOD_SUFFIX}/script.lock" if layout == "folder" else f"{remote}.script.lock"


def module_lock_key(key: str) -> str:
    """The lock file of module ``key`` relative to the module folder (last extension -> ``.lock``)."""
    folder, _, name = key.rpartition("/")
    stem, dot, _ = name.rpartition(".")
    lock = f"{stem}.lock" if dot else f"{name}.lock"
    return f"{folder}/{lock}" if folder else lock


def in_scope(config: RepoConfig, local_path: str) -> bool:
    """True when a local path is one sync looks at: under f/ u/ g/ and accepted by wmill.yaml."""
    return local_path.split("/", 1)[0] in SCRIPT_ROOTS and config.accepts(local_path)


def remote_entry(script: NewScript, layout_recorded: bool, default_ts: str = "bun") -> str | None:
    """Where a remote script would be written in a repo that does not have it."""
    if remote_path_problem(script.path) is not None:
        return None
    return entry_path(script.path, script.language, default_layout(script, layout_recorded), default_ts)


def escapes(root: Path, rel: str) -> bool:
    """True when ``root/rel``, with every symlink already on disk resolved, is outside ``root``."""
    real_root = os.path.realpath(root)
    target = os.path.realpath(os.path.join(real_root, rel))
    return os.path.commonpath([real_root, target]) != real_root
