"""``wac cache list | prune``: the environments wac built for scripts' locks (user cache)."""

from __future__ import annotations

import typer

from wac.cli import output

cache_app = typer.Typer(help="Show and remove the environments built for scripts' locks.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(cache_app, name="cache")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


@cache_app.command("list")
def list_cmd(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the environments in the cache, most recently used first."""
    from wac.engine.envs import envs_root, list_envs

    envs = list_envs()
    if as_json:
        output.emit_json({"root": str(envs_root()), "environments": [e.to_json() for e in envs]})
        return
    if not envs:
        output.info(f"no environments in {envs_root()}")
        return
    for e in envs:
        state = "ok" if e.problem is None else f"damaged: {e.problem}"
        typer.echo(f"{e.key}  py {e.python or '?':5}  {e.packages:3d} packages  {_size(e.size):>10}  "
                   f"used {output.when(e.last_used)}  {state}")
    output.info(f"{len(envs)} environment(s) in {envs_root()}, {_size(sum(e.size for e in envs))}")


@cache_app.command("prune")
def prune_cmd(
    unused_days: float = typer.Option(30.0, "--unused-days", min=0.0,
                                      help="Remove environments not used for this many days."),
    everything: bool = typer.Option(False, "--all", help="Remove every environment (rebuilt on next use)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be removed; remove nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print what was removed as JSON."),
) -> None:
    """Remove damaged environments and those unused for --unused-days (or all, with --all)."""
    import time

    from wac.engine.envs import list_envs, prune

    seconds: float | None = unused_days * 86400.0
    if dry_run:
        now = time.time()
        removed = [e for e in list_envs() if everything or e.problem is not None or e.last_used is None
                   or now - e.last_used > (seconds or 0.0)]
    else:
        removed = prune(seconds, everything=everything)
    if as_json:
        output.emit_json({"removed": [e.to_json() for e in removed], "dry_run": dry_run,
                          "freed_bytes": sum(e.size for e in removed)})
        return
    for e in removed:
        typer.echo(f"- {e.key}  py {e.python or '?'}  {_size(e.size)}")
    verb = "would remove" if dry_run else "removed"
    output.info(f"{verb} {len(removed)} environment(s), {_size(sum(e.size for e in removed))}")
