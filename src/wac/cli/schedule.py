"""`wac schedule list`: the schedules pushed to the workspace (stored; embedded workers do not fire them)."""

from __future__ import annotations

import sys
from typing import Any

import typer

from wac.cli import output

NOTE = "note: schedules are stored and synced; the embedded workers do not fire them yet"
SERVER_NOTE = "note: the Windmill server fires these schedules (wac lists them from its export)"


def list_schedules(
    json_out: bool = typer.Option(False, "--json", help="Print the schedules as one JSON document."),
) -> None:
    """List the schedules of the workspace (path, cron, timezone, target, enabled)."""
    from wac.cli.prepare import open_workspace
    from wac.project.safepath import escaped
    from wac.project.yamlio import load_yaml

    backend = open_workspace()
    try:
        records = backend.list_items("schedule")
        name = backend.name
        fired_by_server = not backend.runs_workers  # a Windmill server fires its own
    finally:
        backend.close()
    rows: list[dict[str, Any]] = []
    for record in records:
        doc: Any = {}
        for text in record.item.files.values():
            try:
                doc = load_yaml(text) or {}
            except Exception:  # a schedule file that does not parse is still listed
                doc = {}
        doc = doc if isinstance(doc, dict) else {}
        target = doc.get("script_path") or doc.get("path") or ""
        rows.append({"path": record.path, "schedule": doc.get("schedule"), "timezone": doc.get("timezone"),
                     "target": target, "is_flow": bool(doc.get("is_flow")), "enabled": doc.get("enabled", True),
                     "fired_by_wac": False, "fired_by_server": fired_by_server})
    note = SERVER_NOTE if fired_by_server else NOTE
    if json_out:
        output.emit_json({"workspace": name, "schedules": rows, "note": note.removeprefix("note: ")})
        return
    for row in rows:
        state = "enabled" if row["enabled"] else "disabled"
        kind = "flow" if row["is_flow"] else "script"
        sys.stdout.write(f"{escaped(row['path'])}  {escaped(row['schedule'])}  {escaped(row['timezone'] or 'UTC')}  "
                         f"{kind} {escaped(row['target'])}  {state}\n")
    if not rows:
        output.info(f"No schedules in workspace '{name}'")
    sys.stderr.write(note + "\n")


def register(app: typer.Typer) -> None:
    """Add the ``schedule`` group (``list``) to the root app."""
    group = typer.Typer(name="schedule", help="Schedules pushed to the workspace (not fired by wac yet).",
                        no_args_is_help=True)
    group.command("list")(list_schedules)
    app.add_typer(group, name="schedule")
