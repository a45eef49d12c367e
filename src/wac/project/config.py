"""wmill.yaml: the keys that decide which files are scripts, and the repo root."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from wac.errors import ConfigError, MetadataError
from wac.project.globs import matches_any
from wac.project.textio import read_text

CONFIG_NAME = "wmill.yaml"


@dataclass(frozen=True)
class RepoConfig:
    """What wac reads from ``wmill.yaml`` (every other key is left to other commands)."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    extra_includes: tuple[str, ...] = ()
    default_ts: str = "bun"
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    def with_overrides(
        self, includes: list[str] | None = None, excludes: list[str] | None = None
    ) -> RepoConfig:
        """CLI ``-i``/``-e`` *replace* the file's includes/excludes (as in wmill)."""
        cfg = self
        if includes:
            cfg = replace(cfg, includes=tuple(includes))
        if excludes:
            cfg = replace(cfg, excludes=tuple(excludes))
        return cfg

    def accepts(self, local_path: str) -> bool:
        """True if the local path passes includes, extraIncludes and excludes."""
        if self.includes and not matches_any(local_path, self.includes):
            return False
        if self.extra_includes and not matches_any(local_path, self.extra_includes):
            return False
        return not (self.excludes and matches_any(local_path, self.excludes))


def _str_list(value: Any, key: str, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise ConfigError(f"{path}: '{key}' must be a list of glob patterns", hint="e.g. includes: ['f/**']")


def load_config(root: Path) -> RepoConfig:
    """Read ``root/wmill.yaml``; a missing file gives the defaults (everything under f/ u/ g/)."""
    from wac.project.yamlio import load_yaml

    path = root / CONFIG_NAME
    if not path.is_file():
        return RepoConfig()
    try:
        data = load_yaml(read_text(path))
    except MetadataError as exc:
        raise ConfigError(exc.message) from exc
    except Exception as exc:  # yaml.YAMLError and friends: report, never a traceback
        raise ConfigError(f"{path} is not valid YAML: {exc}", hint="fix the file or run wac init") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must be a mapping of settings")
    default_ts = data.get("defaultTs") or "bun"
    return RepoConfig(
        includes=_str_list(data.get("includes"), "includes", path),
        excludes=_str_list(data.get("excludes"), "excludes", path),
        extra_includes=_str_list(data.get("extraIncludes"), "extraIncludes", path),
        default_ts=str(default_ts),
        raw=data,
    )


def find_repo_root(start: Path | str | None = None) -> Path:
    """The nearest directory holding ``wmill.yaml`` (up to the git top), else the git top, else cwd.

    Args:
        start: where to start looking (default: the current directory).
    """
    here = Path(start or Path.cwd()).resolve()
    if here.is_file():
        here = here.parent
    git_top = _git_top(here)
    for candidate in (here, *here.parents):
        if (candidate / CONFIG_NAME).is_file():
            return candidate
        if git_top is not None and candidate == git_top:
            break
    return git_top or Path(start or Path.cwd()).resolve()


def _git_top(here: Path) -> Path | None:
    for candidate in (here, *here.parents):
        if (candidate / ".git").exists():
            return candidate
    return None
