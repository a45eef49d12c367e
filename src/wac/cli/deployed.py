"""``wac script push | list | show | history | run``: scripts deployed in the current workspace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from wac.cli import output
from wac.cli.script import follow_run


def register(script_group: typer.Typer) -> None:
    """Add ``push``, ``list``, ``show``, ``history`` and ``run`` to the ``wac script`` group."""
    script_group.command("push")(push)
    script_group.command("list")(list_scripts)
    script_group.command("show")(show)
    script_group.command("history")(history)
    script_group.command("run")(run)

if TYPE_CHECKING:
    from wac.engine.backend import Backend


def remote_path_of(path: str) -> str:
    """``f/a/b``, ``f/a/b.py``, ``f/a/b__mod/script.py`` or a file path in the repo → ``f/a/b``."""
    from wac.project import find_repo_root, resolve_script

    if "/" in path and not path.startswith((".", "/")) and not Path(path).exists():
        # a workspace path with no local file (any layout's spelling of it)
        base = path.removesuffix(".py")
        return base.removesuffix("/script").removesuffix("__mod") if base.endswith("__mod/script") else base
    return resolve_script(find_repo_root(Path.cwd()), path).remote_path


def push(
    path: str = typer.Argument(..., help="The script: f/folder/name, its .py file, or x__mod/script.py."),
    message: str | None = typer.Option(None, "--message", "-m", help="Deployment message kept in the history."),
    as_json: bool = typer.Option(False, "--json", help="Print what was deployed as JSON."),
    migrate: bool = typer.Option(False, "--migrate", help="Move the live runs the new version can carry on to it."),
) -> None:
    """Deploy the local script (code, modules, locks, metadata) as a new version.

    Live runs of the script are checked against the new version by a dry replay (table on stderr);
    they stay on their version unless --migrate is given.
    """
    from dataclasses import replace

    from wac.cli.prepare import open_workspace
    from wac.engine.bundle import check_syntax
    from wac.project import find_repo_root, resolve_script
    from wac.sync.scripts import read_script

    ref = resolve_script(find_repo_root(Path.cwd()), path)
    local = read_script(ref)
    if ref.main_file.suffix == ".py":  # deployed to run: a Python file that is not UTF-8 is refused
        from wac.project.textio import read_source

        read_source(ref.main_file, ref.local_path)
    check_syntax(ref.local_path, local.script.content)
    if local.stale:
        output.info(f"warning: the metadata of {ref.remote_path} is not up to date with its code "
                    f"(run: wac generate-metadata {ref.local_path})")
    script = replace(local.script, deployment_message=message) if message else local.script
    from wac.cli.lint import warn_determinism
    from wac.cli.livecheck import after_push

    warn_determinism(ref.local_path, local.script.content)
    backend = open_workspace()
    try:
        result = backend.deploy(script)
        if result.created:
            output.info(f"pushed {script.path} version {result.hash[:7]} to workspace '{backend.name}'")
        else:
            output.info(f"{script.path} is unchanged in workspace '{backend.name}' (version {result.hash[:7]})")
        live = after_push(backend, script.path, migrate=migrate, quiet=as_json) if result.created or migrate else []
    finally:
        backend.close()
    if as_json:
        output.emit_json({"path": script.path, "hash": result.hash, "created": result.created,
                          "parent_hash": result.parent_hash, "workspace": backend.name, "live_runs": live})


def list_scripts(as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """List the scripts deployed in the current workspace."""
    from wac.cli.prepare import open_workspace

    backend = open_workspace()
    try:
        versions = backend.list_scripts()
    finally:
        backend.close()
    if as_json:
        output.emit_json([output.with_rfc3339({"path": v.path, "hash": v.hash, "summary": v.script.summary,
                                               "created_at": v.created_at, "created_by": v.created_by})
                          for v in versions])
        return
    if not versions:
        output.info(f"no scripts deployed in workspace '{backend.name}' (deploy with: wac sync push)")
        return
    from wac.project.safepath import escaped  # names and texts come from the workspace

    width = max(len(escaped(v.path)) for v in versions)
    for v in versions:
        typer.echo(f"{escaped(v.path):{width}}  {v.hash[:7]}  {output.when(v.created_at)}  "
                   f"{escaped(v.script.summary)}".rstrip())


def show(
    path: str = typer.Argument(..., help="The deployed script's path, e.g. f/folder/name."),
    version: str | None = typer.Option(None, "--version", help="A version hash (default: the newest)."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole version as JSON."),
) -> None:
    """Show a deployed script: its version, metadata, inputs, modules and code."""
    from wac.cli.prepare import open_workspace

    backend = open_workspace()
    try:
        v = backend.get_script(remote_path_of(path), _full_hash(backend, remote_path_of(path), version))
    finally:
        backend.close()
    s = v.script
    if as_json:
        doc = s.to_json()
        doc.update({"hash": v.hash, "parent_hash": v.parent_hash, "created_at": v.created_at,
                    "created_by": v.created_by, "workspace": backend.name})
        output.emit_json(output.with_rfc3339(doc))
        return
    from wac.project.safepath import escaped  # names and texts come from the workspace

    typer.echo(f"path         {escaped(s.path)}")
    typer.echo(f"version      {v.hash}" + (f"  (parent {v.parent_hash[:7]})" if v.parent_hash else ""))
    typer.echo(f"deployed     {output.when(v.created_at)}" + (f" by {escaped(v.created_by)}" if v.created_by else ""))
    if s.summary:
        typer.echo(f"summary      {escaped(s.summary)}")
    if s.description:
        typer.echo(f"description  {escaped(s.description)}")
    props = (s.schema or {}).get("properties") or {}
    required = set((s.schema or {}).get("required") or [])
    inputs = ", ".join(f"{k}{'' if k in required else '?'}: {p.get('type', 'any')}" for k, p in props.items())
    typer.echo(f"inputs       {inputs or '(none)'}")
    for key, value in sorted(s.options.items()):
        typer.echo(f"{key:12} {value}")
    if s.modules:
        typer.echo("modules      " + ", ".join(sorted(s.modules)))
    typer.echo(f"lock         {len((s.lock or '').splitlines())} line(s)")
    typer.echo("")
    typer.echo(s.content.rstrip("\n"))


def _full_hash(backend: Backend, path: str, version: str | None) -> str | None:
    """A version given by a prefix (as ``history`` shows it) → its full hash."""
    if version is None:
        return None
    from wac.errors import UsageError

    matches = [h.hash for h in backend.script_history(path) if h.hash.startswith(version)]
    if len(set(matches)) != 1:
        raise UsageError(f"{'no' if not matches else 'more than one'} version of {path} starts with {version!r}",
                         hint=f"see the versions with: wac script history {path}")
    return str(matches[0])


def history(
    path: str = typer.Argument(..., help="The deployed script's path, e.g. f/folder/name."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List the versions of a deployed script, newest first."""
    from wac.cli.prepare import open_workspace

    backend = open_workspace()
    try:
        entries = backend.script_history(remote_path_of(path))
    finally:
        backend.close()
    if as_json:
        output.emit_json([output.with_rfc3339(dict(e.__dict__)) for e in entries])
        return
    from wac.project.safepath import escaped  # messages come from the workspace

    for i, e in enumerate(entries):
        mark = "archived" if e.archived else ("current" if i == 0 else "")
        typer.echo(f"{e.hash[:7]}  {output.when(e.created_at)}  {mark:8}  {escaped(e.deployment_message or '')}".rstrip())


def run(
    path: str = typer.Argument(..., help="The deployed script's path, e.g. f/folder/name."),
    data: str | None = typer.Option(None, "-d", "--data", help="Arguments: JSON object or @file.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole job (status, result, error) as JSON."),
    approve: bool = typer.Option(False, "--approve", help="Approve every approval the run waits on."),
    reject: bool = typer.Option(False, "--reject", help="Reject every approval the run waits on."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Print the job id and return at once."),
    workers: int = typer.Option(4, "--workers", min=1, max=64, help="Rounds run at once (embedded workspace)."),
    index_url: str | None = typer.Option(None, "--index-url", help="Package index for the script's environment (env WAC_INDEX_URL)."),
    find_links: list[str] | None = typer.Option(None, "--find-links", help="Wheel folder/URL for the script's environment (env WAC_FIND_LINKS)."),
    no_index: bool = typer.Option(False, "--no-index", help="Install the environment from --find-links only (offline)."),
) -> None:
    """Run the DEPLOYED version of a script in the current workspace (local edits are ignored)."""
    from wac.cli.args import parse_data
    from wac.cli.prepare import open_workspace, refuse_bad_args, use_index

    use_index(index_url, find_links, no_index)
    from wac.engine.worker import WorkerConfig
    from wac.errors import UsageError

    if approve and reject:
        raise UsageError("--approve and --reject exclude each other")
    args = parse_data(data)
    remote = remote_path_of(path)
    backend = open_workspace()
    version = backend.get_script(remote)
    refuse_bad_args(version.script.schema, args, f"{remote} (version {version.hash[:7]})",
                    f"see the inputs with: wac script show {remote}",
                    main_text=version.script.content if version.script.language == "python3" else None)
    worker = None if no_wait or not backend.runs_workers else backend.start_workers(WorkerConfig(slots=workers))
    try:
        job_id = backend.run_script(remote, args)
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    output.info(f"running {remote} version {version.hash[:7]} in workspace '{backend.name}' (job {job_id})")
    if no_wait:
        typer.echo(job_id)
        return
    decision = True if approve else False if reject else None
    follow_run(backend, job_id, worker, as_json=as_json, decision=decision)
