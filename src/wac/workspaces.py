"""Named workspaces: the user's config file, the current workspace, a repo's pin.

This is user configuration, below the engine: it reads and writes a JSON file and opens nothing.
:func:`wac.engine.backend.open_backend` turns a :class:`WorkspaceConfig` into a Backend.

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
from collections.abc import Callable
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
    try:  # an existing folder too: other users have no business listing it
        if path.parent.stat().st_uid == os.getuid() and path.parent.stat().st_mode & 0o077:
            os.chmod(path.parent, 0o700)
    except OSError:
        pass
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


def list_workspaces(repo_root: Path | None = None) -> tuple[list[WorkspaceConfig], str]:
    """Every workspace (``local`` first, then by name) and the name of the current one."""
    data = _load()
    spaces = [WorkspaceConfig(LOCAL, "")] + [_entry(n, r) for n, r in sorted(data["workspaces"].items())]
    return spaces, current_name(data, repo_root)


PIN_FILE = Path(".wac") / "workspace"  # a repo's pinned workspace, relative to its root


def repo_pin(repo_root: Path | None) -> str | None:
    """The workspace this repo (checkout) is pinned to with ``wac workspace pin``, if any."""
    if repo_root is None:
        return None
    try:
        name = (repo_root / PIN_FILE).read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {repo_root / PIN_FILE}: {exc}",
                          hint="fix it, or remove the pin with: wac workspace unpin") from None
    return name or None


def current_source(data: dict[str, Any] | None = None, repo_root: Path | None = None) -> tuple[str, str]:
    """The current workspace and what chose it: ``WAC_WORKSPACE``, the repo's pin
    (``.wac/workspace``), the machine-wide ``wac workspace switch``, or the default (``local``)."""
    if os.environ.get("WAC_WORKSPACE"):
        return os.environ["WAC_WORKSPACE"], "WAC_WORKSPACE"
    pinned = repo_pin(repo_root)
    if pinned:
        return pinned, f"pinned by {PIN_FILE}"
    data = _load() if data is None else data
    if data.get("active"):
        return str(data["active"]), "machine-wide default"
    return LOCAL, "default"


def current_name(data: dict[str, Any] | None = None, repo_root: Path | None = None) -> str:
    return current_source(data, repo_root)[0]


def pin_workspace(repo_root: Path, name: str | None) -> None:
    """Pin the repo to workspace ``name`` (None: remove the pin)."""
    path = repo_root / PIN_FILE
    if name is None:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        return
    get_workspace(name)  # raises the unknown-workspace error
    from wac.project.textio import atomic_write

    atomic_write(path, name + "\n")


def get_workspace(name: str | None = None, repo_root: Path | None = None) -> WorkspaceConfig:
    """The workspace called ``name`` (default: the current one, as the repo at ``repo_root`` sees it).

    Raises:
        WorkspaceError: no workspace has that name (exit 5).
    """
    data = _load()
    source = ""
    if not name:
        name, source = current_source(data, repo_root)
    if name == LOCAL:
        return WorkspaceConfig(LOCAL, "")
    if name not in data["workspaces"]:
        via = {"WAC_WORKSPACE": " (from WAC_WORKSPACE)"}.get(source, f" ({source})" if source.startswith("pinned") else "")
        known = ", ".join([LOCAL] + sorted(data["workspaces"]))
        raise WorkspaceError(f"unknown workspace '{name}'{via}; known: {known}",
                             hint="add it with: wac workspace add NAME URL --token TOKEN")
    return _entry(name, data["workspaces"][name])


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite://`` workspace URL, which must be absolute:
    ``sqlite:///abs/path/wac.db`` (``sqlite:////abs/path/wac.db`` means the same)."""
    db = url[len("sqlite://"):]
    if not db.startswith("/") or not db.strip("/"):
        raise UsageError(f"a sqlite workspace URL needs an absolute file path: {url!r}",
                         hint="write it as sqlite:///abs/path/wac.db (three slashes, then the path)")
    return Path("/" + db.lstrip("/"))


def _is_loopback(host: str | None) -> bool:
    import ipaddress

    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def add_workspace(name: str, url: str, token: str | None, workspace_id: str | None, *,
                  create: bool = False, insecure: bool = False, clear_token: bool = False,
                  check: Callable[[str], None] | None = None) -> tuple[WorkspaceConfig, str]:
    """Add or replace workspace ``name``; returns it and what happened to a token already saved
    (``""``, ``"kept"`` or ``"dropped"``).

    ``check(url)`` is called for a PostgreSQL URL before anything is saved (the CLI passes
    :func:`wac.engine.backend.check_store`, so a wrong URL, password or database is reported
    when the workspace is added, not at first use; this module does not open stores itself).

    Without ``token`` a token already saved under that name is kept when the URL still points
    at the same server (scheme, host and port), dropped otherwise (it was for another server).
    """
    from urllib.parse import urlsplit

    if not _NAME.match(name):
        raise UsageError(f"invalid workspace name {name!r}", hint="use letters, digits, '-', '_' and '.'")
    if name == LOCAL:
        raise UsageError("'local' is the repo's embedded workspace and cannot be redefined")
    if not url.startswith(_SCHEMES):
        raise UsageError(f"unsupported workspace URL {url!r}",
                         hint="use https://windmill.host (a Windmill server), sqlite:///abs/path/wac.db "
                              "or postgresql://user@host:port/db")
    if url.startswith("sqlite://"):
        db = sqlite_path(url)
        url = f"sqlite://{db}"
        if not db.parent.is_dir():
            if not create:
                raise UsageError(f"the folder {db.parent} of the store does not exist",
                                 hint=f"create it (mkdir -p {db.parent}), or add --create to let wac make it; "
                                      "a sqlite URL is absolute: sqlite:///abs/path/wac.db")
            top = Path(db.parts[0]) / db.parts[1] if len(db.parts) > 1 else db
            if not top.exists():
                raise UsageError(f"refusing to create {top} at the filesystem root for the store {db}",
                                 hint="a sqlite URL is an absolute path: sqlite:///home/me/stores/wac.db; "
                                      "create the folder yourself if you really mean it")
            try:
                db.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise UsageError(f"cannot create the folder of {db}: {exc.strerror}") from None
    if url.startswith(("postgresql://", "postgres://")) and check is not None:
        check(url)
    data = _load()
    old = data["workspaces"].get(name) if isinstance(data["workspaces"].get(name), dict) else None
    what = ""
    if token is None and old and old.get("token") and not clear_token:
        before, after = urlsplit(str(old.get("url") or "")), urlsplit(url)
        if (before.scheme, before.hostname, before.port) == (after.scheme, after.hostname, after.port):
            token, what = str(old["token"]), "kept"
        else:
            what = "dropped"
    elif old and old.get("token") and (clear_token or token is None):
        what = "dropped"
    if token and url.startswith("http://") and not _is_loopback(urlsplit(url).hostname) and not insecure:
        raise UsageError(f"refusing to send a token over plain http:// to {redact_url(url)}",
                         hint="use https://, or pass --insecure if this network is yours and trusted")
    entry: dict[str, Any] = {"url": url}
    if token:
        entry["token"] = token
    if workspace_id:
        entry["workspace_id"] = workspace_id
    data["workspaces"][name] = entry
    _save(data)
    return _entry(name, entry), what


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
