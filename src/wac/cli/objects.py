"""`wac variable list|get|set` and `wac resource list|get`: the workspace's variables and resources.

A secret variable's value is never printed: ``get`` shows ``*****`` in its place.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output

if TYPE_CHECKING:
    from wac.engine.backend import Backend

MASK = "*****"

variable_app = typer.Typer(help="Variables of the current workspace (secret ones are never printed).",
                           no_args_is_help=True)
resource_app = typer.Typer(help="Resources of the current workspace.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(variable_app, name="variable")
    app.add_typer(resource_app, name="resource")


def _backend() -> Backend:
    from wac.cli.prepare import open_workspace

    return open_workspace()


def _variable_doc(obj: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"path": obj.path, "is_secret": obj.is_secret, "description": obj.description}
    doc["value"] = MASK if obj.is_secret else obj.value
    return doc


def _table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        sys.stdout.write("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)).rstrip() + "\n")


def _short(value: Any, width: int = 40) -> str:
    import json

    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = text.replace("\n", "\\n")
    return text if len(text) <= width else text[: width - 1] + "…"


@variable_app.command("list")
def variable_list(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """List the workspace's variables (secret values shown as *****)."""
    backend = _backend()
    try:
        items = backend.list_objects("variable")
    finally:
        backend.close()
    if json_out:
        output.emit_json([_variable_doc(v) for v in items])
        return
    if not items:
        output.info(f"No variables in workspace '{backend.name}'")
        return
    _table([[v.path, "secret" if v.is_secret else "", _short(MASK if v.is_secret else v.value), v.description]
            for v in items], ["PATH", "SECRET", "VALUE", "DESCRIPTION"])


@variable_app.command("get")
def variable_get(
    path: str = typer.Argument(..., help="The variable's path, e.g. f/demo/api_url."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Print a variable's value (a secret's value is never printed)."""
    backend = _backend()
    try:
        obj = backend.get_object("variable", path.removeprefix("$var:"))
    finally:
        backend.close()
    if json_out:
        output.emit_json(_variable_doc(obj))
        return
    if obj.is_secret:
        output.info(f"{obj.path} is secret: its value is not printed (scripts read it with wmill.get_variable)")
        sys.stdout.write(MASK + "\n")
        return
    sys.stdout.write(str(obj.value) + "\n")


@variable_app.command("set")
def variable_set(
    path: str = typer.Argument(..., help="The variable's path, e.g. f/demo/api_key."),
    value: str = typer.Argument(..., help="The value; - reads it from stdin (keeps a secret out of shell history)."),
    secret: bool = typer.Option(False, "--secret", help="Encrypt it at rest and never print it."),
    description: str | None = typer.Option(None, "--description", help="A description."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document."),
) -> None:
    """Create or change a variable (a secret stays secret)."""
    from wac.errors import ObjectNotFoundError, UsageError
    from wac.project.objectfiles import ObjectFile

    path = path.removeprefix("$var:")
    if not _valid_path(path):
        raise UsageError(f"not a variable path: {path!r}", hint="use f/FOLDER/NAME, u/USER/NAME or g/GROUP/NAME")
    if value == "-":
        value = sys.stdin.read().removesuffix("\n")
    backend = _backend()
    try:
        try:
            old = backend.get_object("variable", path)
        except ObjectNotFoundError:
            old = None
        is_secret = secret or bool(old and old.is_secret)
        desc = description if description is not None else (old.description if old else "")
        obj = ObjectFile("variable", path, value, desc, is_secret)
        backend.put_object(obj)
        name = backend.name
    finally:
        backend.close()
    if json_out:
        output.emit_json(_variable_doc(obj))
    output.info(f"{'Changed' if old else 'Created'} {'secret ' if is_secret else ''}variable {path} "
                f"in workspace '{name}'")


def _valid_path(path: str) -> bool:
    parts = path.split("/")
    return len(parts) >= 3 and parts[0] in ("f", "u", "g") and all(p and p not in (".", "..") for p in parts)


@resource_app.command("list")
def resource_list(json_out: bool = typer.Option(False, "--json", help="Print one JSON document.")) -> None:
    """List the workspace's resources."""
    backend = _backend()
    try:
        items = backend.list_objects("resource")
    finally:
        backend.close()
    if json_out:
        output.emit_json([{"path": r.path, "resource_type": r.resource_type, "description": r.description}
                          for r in items])
        return
    if not items:
        output.info(f"No resources in workspace '{backend.name}'")
        return
    _table([[r.path, r.resource_type or "", r.description] for r in items], ["PATH", "TYPE", "DESCRIPTION"])


@resource_app.command("get")
def resource_get(
    path: str = typer.Argument(..., help="The resource's path, e.g. f/demo/db."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON document (path, type, value)."),
) -> None:
    """Print a resource's value as stored ($var:/$res: references are shown, not resolved)."""
    backend = _backend()
    try:
        obj = backend.get_object("resource", path.removeprefix("$res:"))
    finally:
        backend.close()
    if json_out:
        output.emit_json({"path": obj.path, "resource_type": obj.resource_type, "description": obj.description,
                          "value": obj.value})
        return
    output.emit_json(obj.value)
