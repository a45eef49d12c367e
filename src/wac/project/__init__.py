"""The repo on disk: wmill.yaml, script discovery, ``__mod`` layouts, metadata files and hashes.

Public API::

    find_repo_root(start) -> Path
    resolve_script(repo_root, path_or_remote) -> ScriptRef
    discover(repo_root, config) -> Discovery
    load_config(root) -> RepoConfig
    load_lockfile(root) -> Lockfile
"""

from __future__ import annotations

from wac.project.config import RepoConfig, find_repo_root, load_config
from wac.project.discovery import Discovery, PathEscapeError, ScriptRef, discover, resolve_script
from wac.project.lockfile import Lockfile, LockfileError, load_lockfile

__all__ = [
    "Discovery",
    "Lockfile",
    "LockfileError",
    "PathEscapeError",
    "RepoConfig",
    "ScriptRef",
    "discover",
    "find_repo_root",
    "load_config",
    "load_lockfile",
    "resolve_script",
]
