"""``wac store …``: check, back up and recover the embedded SQLite store."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from wac.cli import output

store_app = typer.Typer(help="Check, back up and recover the embedded store (.wac/wac.db).", no_args_is_help=True)

_DB = typer.Option(None, "--db", help="The store file (default: the repo's .wac/wac.db, or $WAC_STATE_DIR/wac.db).")


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")


def _db(db: Path | None) -> Path:
    if db is not None:
        return db.resolve()
    from wac.project import find_repo_root

    state = Path(os.environ["WAC_STATE_DIR"]) if os.environ.get("WAC_STATE_DIR") else find_repo_root(Path.cwd()) / ".wac"
    return (state / "wac.db").resolve()


@store_app.command("check")
def check(db: Path | None = _DB) -> None:
    """Run SQLite's integrity check on the store; exit 5 when it is damaged."""
    from wac.engine.store.maintenance import check as run_check
    from wac.errors import StoreCorruptError

    path = _db(db)
    problems = run_check(path)
    if problems:
        for line in problems[:20]:
            typer.echo(line)
        raise StoreCorruptError(f"the store {path} is damaged ({len(problems)} problem(s))",
                                hint="recover it with: wac store recover   (or --from a backup made by wac store backup)")
    typer.echo("ok")
    output.info(f"{path}: integrity check passed")


@store_app.command("backup")
def backup(
    dest: Path | None = typer.Argument(None, help="Where to write the copy (default: .wac/backups/wac-TIME.db)."),
    db: Path | None = _DB,
) -> None:
    """Copy the store, consistent even while workers run (SQLite's online backup)."""
    import time

    from wac.engine.store.maintenance import backup as run_backup

    path = _db(db)
    target = dest.resolve() if dest is not None else path.parent / "backups" / f"wac-{time.strftime('%Y%m%d-%H%M%S')}.db"
    run_backup(path, target)
    typer.echo(str(target))
    output.info(f"backed up {path} to {target}")


@store_app.command("recover")
def recover(
    source: Path | None = typer.Option(None, "--from", help="A backup to restore instead of salvaging rows."),
    db: Path | None = _DB,
) -> None:
    """Replace a damaged store: from a backup, or by keeping every row SQLite can still read.

    Stop every worker of the store first. The damaged file is kept beside it (wac.db.damaged-TIME).
    """
    from wac.engine.store.maintenance import recover as run_recover

    path = _db(db)
    moved, counts = run_recover(path, source.resolve() if source is not None else None)
    if source is not None:
        output.info(f"restored {path} from {source}; the old store is kept at {moved}")
    else:
        kept = ", ".join(f"{n} {t}" for t, n in sorted(counts.items()) if n)
        output.info(f"recovered {path} ({kept or 'no rows'}); the old store is kept at {moved}")
