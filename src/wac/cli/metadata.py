"""`wac generate-metadata`: schemas, locks and wmill-lock.yaml hashes for the repo's scripts."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``generate-metadata`` group (with ``rehash``) to the root app."""
    group = typer.Typer(
        name="generate-metadata",
        help="Regenerate stale .script.yaml schemas, .script.lock locks and wmill-lock.yaml hashes.",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    app.add_typer(group, name="generate-metadata")
