"""Named workspaces: the user's config file, the current workspace, and opening its Backend.

The config lives in ``$WAC_CONFIG_DIR`` or ``$XDG_CONFIG_HOME/wac`` (default ``~/.config/wac``) as
``workspaces.json``, mode 0600 because it holds tokens::

    {"active": "prod",
     "workspaces": {"prod": {"url": "https://windmill.example.com", "token": "…", "workspace_id": "prod"}}}

``WAC_WORKSPACE`` names the workspace for one command. With nothing configured the workspace is
``local``: the repo's embedded store at ``.wac/wac.db`` — everything works offline with no set-up.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wac.errors import ConfigError, UsageError, WorkspaceError

LOCAL = "local"  # the name of the repo's embedded workspace; always there, never stored
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
_SCHEMES = ("sqlite://", "postgresql://", "postgres://", "http://", "https://")


@dataclass(frozen=True)
class WorkspaceConfig:
    name: str
    url: str  # "" for the repo's embedded store
    token: str | None = None
    workspace_id: str | None = None  # Windmill's workspace id (default: the name)

    @property
    def kind(self) -> str:
        if not self.url or self.url.startswith("sqlite://"):
            return "embedded"
        if self.url.startswith(("postgresql://", "postgres://")):
            return "postgres"
        return "windmill"

    def shown_url(self) -> str:
        """The URL as messages show it: never with a user:password part."""
        return redact_url(self.url) if self.url else "sqlite (.wac/wac.db of the repo)"


def redact_url(url: str) -> str:
    """``url`` without its ``user:password@`` part."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def config_dir() -> Path:
    if os.environ.get("WAC_CONFIG_DIR"):
        return Path(os.environ["WAC_CONFIG_DIR"])
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "wac"


def cache_dir() -> Path:
    """Per-user scratch space (code bundles materialized by workers of shared stores)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "wac"


def config_file() -> Path:
    return config_dir() / "workspaces.json"


def _load() -> dict[str, Any]:
    path = config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"active": None, "workspaces": {}}
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("workspaces", {}), dict):
            raise ValueError("not an object with a 'workspaces' object")
    except ValueError as exc:
        raise ConfigError(f"{path} is not a valid workspace config: {exc}",
                          hint=f"fix or delete {path} and add the workspaces again") from None
    data.setdefault("workspaces", {})
    data.setdefault("active", None)
    return data


def _save(data: dict[str, Any]) -> None:
    """Write the config atomically, readable by the owner only (it holds tokens)."""
    path = config_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=".workspaces-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _entry(name: str, raw: Any) -> WorkspaceConfig:
    raw = raw if isinstance(raw, dict) else {}
    return WorkspaceConfig(name=name, url=str(raw.get("url") or ""), token=raw.get("token"),
                           workspace_id=raw.get("workspace_id"))


def list_workspaces() -> tuple[list[WorkspaceConfig], str]:
    """Every workspace (``local`` first, then by name) and the name of the current one."""
    data = _load()
    spaces = [WorkspaceConfig(LOCAL, "")] + [_entry(n, r) for n, r in sorted(data["workspaces"].items())]
    return spaces, current_name(data)


def current_name(data: dict[str, Any] | None = None) -> str:
    data = _load() if data is None else data
    return os.environ.get("WAC_WORKSPACE") or data.get("active") or LOCAL


def get_workspace(name: str | None = None) -> WorkspaceConfig:
    """The workspace called ``name`` (default: the current one).

    Raises:
        WorkspaceError: no workspace has that name (exit 5).
    """
    data = _load()
    name = name or current_name(data)
    if name == LOCAL:
        return WorkspaceConfig(LOCAL, "")
    if name not in data["workspaces"]:
        via = " (from WAC_WORKSPACE)" if os.environ.get("WAC_WORKSPACE") == name else ""
        known = ", ".join([LOCAL] + sorted(data["workspaces"]))
        raise WorkspaceError(f"unknown workspace '{name}'{via}; known: {known}",
                             hint="add it with: wac workspace add NAME URL --token TOKEN")
    return _entry(name, data["workspaces"][name])


def add_workspace(name: str, url: str, token: str | None, workspace_id: str | None) -> WorkspaceConfig:
    if not _NAME.match(name):
        raise UsageError(f"invalid workspace name {name!r}", hint="use letters, digits, '-', '_' and '.'")
    if name == LOCAL:
        raise UsageError("'local' is the repo's embedded workspace and cannot be redefined")
    if not url.startswith(_SCHEMES):
        raise UsageError(f"unsupported workspace URL {url!r}",
                         hint="use https://windmill.host (a Windmill server) or sqlite:///abs/path/wac.db")
    if url.startswith("sqlite://"):
        db = url[len("sqlite://"):]
        if not db.startswith("/") or not db.strip("/"):
            raise UsageError(f"a sqlite workspace URL needs an absolute file path: {url!r}",
                             hint="write it as sqlite:///abs/path/wac.db (three slashes, then the path)")
        try:
            Path(db).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create the folder of {db}: {exc.strerror}") from None
    data = _load()
    entry: dict[str, Any] = {"url": url}
    if token:
        entry["token"] = token
    if workspace_id:
        entry["workspace_id"] = workspace_id
    data["workspaces"][name] = entry
    _save(data)
    return _entry(name, entry)


def switch_workspace(name: str) -> None:
    data = _load()
    if name != LOCAL and name not in data["workspaces"]:
        get_workspace(name)  # raises the unknown-workspace error
    data["active"] = None if name == LOCAL else name
    _save(data)


def remove_workspace(name: str) -> None:
    if name == LOCAL:
        raise UsageError("'local' is the repo's embedded workspace and cannot be removed")
    data = _load()
    if name not in data["workspaces"]:
        get_workspace(name)
    del data["workspaces"][name]
    if data.get("active") == name:
        data["active"] = None
    _save(data)


def open_backend(ws: WorkspaceConfig, repo_root: Path | None) -> Any:
    """The Backend of a workspace. ``repo_root`` locates the embedded store of ``local``."""
    if ws.kind == "embedded":
        from wac.engine.local_backend import LocalBackend

        if ws.url:
            db = Path(ws.url[len("sqlite://"):])
            if not db.parent.is_dir():
                raise WorkspaceError(
                    f"workspace '{ws.name}': the folder of its store {db} does not exist",
                    hint=f"create it (mkdir -p {db.parent}) or fix the URL: wac workspace add {ws.name} sqlite:///…")
            return LocalBackend.open(ws.name, db, cache_dir() / ws.name)
        from wac.engine.local_backend import open_local

        if repo_root is None:
            raise UsageError("the local workspace lives in a repo; run this inside one (wac init creates one)")
        return open_local(repo_root)
    if ws.kind == "windmill":
        from wac.engine.remote.windmill import WindmillBackend

        return WindmillBackend.from_config(ws)
    raise WorkspaceError(f"workspace '{ws.name}' uses PostgreSQL, which this version of wac does not support yet",
                         hint="use the embedded store or a Windmill server")
