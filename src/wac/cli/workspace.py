"""``wac workspace add | list | switch | remove``: name the workspaces commands talk to."""

from __future__ import annotations

from typing import Optional

import typer

from wac.cli import output

workspace_app = typer.Typer(help="Name workspaces (embedded, Windmill) and pick the current one.",
                            no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")


@workspace_app.command("add")
def add(
    name: str = typer.Argument(..., help="A name for it, e.g. prod."),
    url: str = typer.Argument(..., help="https://windmill.host (a Windmill server) or sqlite:///abs/path/wac.db."),
    token: Optional[str] = typer.Option(None, "--token", help="API token (stored in the config, mode 0600)."),
    workspace_id: Optional[str] = typer.Option(None, "--workspace-id", help="Windmill workspace id (default: NAME)."),
    switch: bool = typer.Option(False, "--switch", help="Make it the current workspace."),
) -> None:
    """Add (or replace) a named workspace."""
    from wac.engine import workspaces

    ws = workspaces.add_workspace(name, url, token, workspace_id)
    if switch:
        workspaces.switch_workspace(name)
    output.info(f"added workspace '{ws.name}' ({ws.kind}, {ws.shown_url()})"
                + (" with a token" if ws.token else "") + (" and switched to it" if switch else "")
                + f"; config: {workspaces.config_file()}")


@workspace_app.command("list")
def list_workspaces(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List workspaces; the current one is marked with *. Tokens are never shown."""
    from wac.engine import workspaces

    spaces, current = workspaces.list_workspaces()
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

    from wac.engine import workspaces

    workspaces.switch_workspace(name)
    output.info(f"current workspace: {name}")
    if os.environ.get("WAC_WORKSPACE") and os.environ["WAC_WORKSPACE"] != name:
        output.info(f"note: WAC_WORKSPACE={os.environ['WAC_WORKSPACE']} overrides it in this shell")


@workspace_app.command("remove")
def remove(name: str = typer.Argument(..., help="The workspace to forget.")) -> None:
    """Forget a workspace (its token too). Nothing in the workspace itself is deleted."""
    from wac.engine import workspaces

    workspaces.remove_workspace(name)
    output.info(f"removed workspace '{name}'")
