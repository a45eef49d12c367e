"""``wac workspace add | list | switch | remove``: name the workspaces commands talk to."""

from __future__ import annotations

from collections.abc import Callable

import typer

from wac.cli import output

workspace_app = typer.Typer(help="Name workspaces (embedded, Windmill) and pick the current one.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")


@workspace_app.command("add")
def add(
    name: str = typer.Argument(..., help="A name for it, e.g. prod."),
    url: str = typer.Argument(..., help="https://windmill.host (a Windmill server), sqlite:///abs/path/wac.db "
                      "or postgresql://user[:password]@host:port/db (a shared store for workers on many machines)."),
    token: str | None = typer.Option(None, "--token", help="API token (stored in the config, mode 0600). "
                                        "Better: --token-stdin, or the WAC_TOKEN environment variable."),
    token_stdin: bool = typer.Option(False, "--token-stdin", help="Read the token from stdin (asked, hidden, on a terminal)."),
    clear_token: bool = typer.Option(False, "--clear-token", help="Forget the token saved under this name."),
    workspace_id: str | None = typer.Option(None, "--workspace-id", help="Windmill workspace id (default: NAME)."),
    switch: bool = typer.Option(False, "--switch", help="Make it the current workspace (machine-wide)."),
    create: bool = typer.Option(False, "--create", help="Create the folder of a sqlite store if it is missing."),
    insecure: bool = typer.Option(False, "--insecure", help="Allow sending the token over plain http:// to another host."),
) -> None:
    """Add (or replace) a named workspace. Re-adding a name without a token keeps the saved one
    (for the same server)."""
    import os

    from wac import workspaces
    from wac.errors import UsageError

    if sum(map(bool, (token is not None, token_stdin, clear_token))) > 1:
        raise UsageError("--token, --token-stdin and --clear-token exclude each other")
    if token_stdin:
        token = _read_token()
    elif token is None and not clear_token and os.environ.get("WAC_TOKEN"):
        token = os.environ["WAC_TOKEN"]
    if token is not None and not token.strip():
        raise UsageError("the token is empty")
    from wac.engine.backend import check_store

    check: Callable[[str], None] | None = check_store
    if url.startswith(("postgresql://", "postgres://")):
        url = _postgres_login(url)  # checked (and a password asked for, if the server wants one)
        check = None
    ws, what = workspaces.add_workspace(name, url, token.strip() if token else None, workspace_id,
                                        create=create, insecure=insecure, clear_token=clear_token,
                                        check=check)
    if switch:
        workspaces.switch_workspace(name)
    note = {"kept": " (kept the token saved before)", "dropped": " (the token saved before was dropped)"}.get(what, "")
    output.info(f"added workspace '{ws.name}' ({ws.kind}, {ws.shown_url()})"
                + (" with a token" if ws.token else "") + note + (" and switched to it" if switch else "")
                + f"; config: {workspaces.config_file()}")


def _postgres_login(url: str) -> str:
    """Check a PostgreSQL workspace's URL; returns it, with a password when one was asked for.

    When the server wants a password and none is given (URL, ``PGPASSWORD``, ``~/.pgpass``), it
    is asked for on the terminal (hidden; three tries) and kept in the URL saved in the user's
    config file (mode 0600, like tokens). Without a terminal the login is refused (exit 3) with
    the ways to give one. The password is never printed."""
    import getpass
    import os
    import sys
    from urllib.parse import quote, urlsplit

    from wac.engine.backend import check_store
    from wac.errors import AuthError

    try:
        check_store(url)
        return url
    except AuthError as exc:
        if "no password supplied" not in exc.message:
            raise
        if not sys.stdin.isatty():
            raise AuthError(exc.message.replace("fe_sendauth: ", ""),
                            hint="give the password in PGPASSWORD or ~/.pgpass (or run this on a terminal to be "
                                 "asked for it, then kept in the config file, mode 0600)") from None
    parts = urlsplit(url)
    user = parts.username or os.environ.get("PGUSER") or getpass.getuser()
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    for attempt in range(3):
        password = getpass.getpass(f"password for {user} at {where}: ", stream=sys.stderr)
        host = parts.netloc.rsplit("@", 1)[-1]
        with_password = parts._replace(netloc=f"{quote(user, safe='')}:{quote(password, safe='')}@{host}").geturl()
        try:
            check_store(with_password)
            return with_password
        except AuthError as exc:
            if attempt == 2 or "password authentication failed" not in exc.message:
                raise
            output.info("wrong password; try again")
    raise AssertionError("unreachable")


def _read_token() -> str:
    import sys

    from wac.errors import UsageError

    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("token: ", stream=sys.stderr)
    line = sys.stdin.readline()
    if not line.strip():
        raise UsageError("--token-stdin read no token", hint="e.g. wac workspace add prod URL --token-stdin < token.txt")
    return line.strip()


@workspace_app.command("pin")
def pin(name: str = typer.Argument(..., help="The workspace this repo's commands use ('local' = the repo's store).")) -> None:
    """Pin this repo (checkout) to a workspace: its commands use it whatever the machine-wide
    current workspace is (WAC_WORKSPACE still overrides it per command). Kept in .wac/workspace."""
    from pathlib import Path

    from wac import workspaces
    from wac.project import find_repo_root

    root = find_repo_root(Path.cwd())
    workspaces.pin_workspace(root, name)
    output.info(f"pinned {root} to workspace '{name}' ({workspaces.PIN_FILE})")


@workspace_app.command("unpin")
def unpin() -> None:
    """Remove this repo's pin: its commands follow the machine-wide current workspace again."""
    from pathlib import Path

    from wac import workspaces
    from wac.project import find_repo_root

    root = find_repo_root(Path.cwd())
    workspaces.pin_workspace(root, None)
    output.info(f"{root} follows the machine-wide workspace again ({workspaces.current_name()})")


@workspace_app.command("list")
def list_workspaces(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List workspaces; the current one is marked with *. Tokens are never shown."""
    from pathlib import Path

    from wac import workspaces
    from wac.project import find_repo_root

    spaces, current = workspaces.list_workspaces(find_repo_root(Path.cwd()))
    if as_json:
        output.emit_json([{"name": w.name, "url": w.shown_url() if w.url else "", "kind": w.kind, "workspace_id": w.workspace_id,
                           "has_token": bool(w.token), "current": w.name == current} for w in spaces])
        return
    width = max(len(w.name) for w in spaces)
    for w in spaces:
        token = "  token: set" if w.token else ""
        typer.echo(f"{'*' if w.name == current else ' '} {w.name:{width}}  {w.kind:8}  {w.shown_url()}{token}")


@workspace_app.command("switch")
def switch(name: str = typer.Argument(..., help="The workspace to make current ('local' = the repo's store).")) -> None:
    """Make a workspace the current one (WAC_WORKSPACE still overrides it per command)."""
    import os
    from pathlib import Path

    from wac import workspaces
    from wac.project import find_repo_root

    workspaces.switch_workspace(name)
    output.info(f"current workspace: {name}")
    pinned = workspaces.repo_pin(find_repo_root(Path.cwd()))
    if pinned and pinned != name:
        output.info(f"note: this repo is pinned to '{pinned}' ({workspaces.PIN_FILE}); wac workspace unpin follows the switch")
    if os.environ.get("WAC_WORKSPACE") and os.environ["WAC_WORKSPACE"] != name:
        output.info(f"note: WAC_WORKSPACE={os.environ['WAC_WORKSPACE']} overrides it in this shell")


@workspace_app.command("remove")
def remove(name: str = typer.Argument(..., help="The workspace to forget.")) -> None:
    """Forget a workspace (its token too). Nothing in the workspace itself is deleted."""
    from wac import workspaces

    workspaces.remove_workspace(name)
    output.info(f"removed workspace '{name}'")
