"""`wac generate-metadata`: schemas, locks and wmill-lock.yaml hashes for the repo's scripts."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output
from wac.cli.confirm import Applied, run_planned
from wac.timeformat import duration

if TYPE_CHECKING:
    from wac.errors import MetadataError
    from wac.metadata.generate import GenerateOptions, GenerateResult
    from wac.metadata.plan import Plan, PlanItem
    from wac.project.config import RepoConfig

EM_DASH = "\u2014"


def _patterns(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or []:
        out += [p.strip() for p in value.split(",") if p.strip()]
    return out


def _setup(
    folder: str | None, includes: list[str] | None, excludes: list[str] | None
) -> tuple[Path, RepoConfig, str | None]:
    from wac.project.config import find_repo_root, load_config

    root = find_repo_root()
    config = load_config(root).with_overrides(_patterns(includes), _patterns(excludes))
    if folder:
        candidate = (Path.cwd() / folder).resolve()
        try:
            folder = candidate.relative_to(root).as_posix() if candidate.exists() else folder
        except ValueError:
            pass
    return root, config, folder


def render_plan(plan: Plan) -> str:
    """The human listing of stale items (the wmill CLI's format)."""
    if not plan.items:
        return "All metadata up-to-date\n"
    lines = [f"Found {len(plan.items)} item(s) with stale metadata:"]
    groups: list[tuple[str, list[PlanItem]]] = [
        ("Workspace dependencies", plan.dependencies),
        ("Scripts", plan.scripts),
        ("Flows", plan.flows),
        ("Apps", plan.apps),
    ]
    for title, items in groups:
        if items:
            lines.append(f"  {title} ({len(items)}):")
            lines += [f"    ~ {i.local_path} {EM_DASH} {i.reason}" for i in items]
    return "\n".join(lines) + "\n"


def _print_warnings(plan: Plan) -> None:
    for path, reason in plan.skipped:
        output.error(f"skipping {path}: {reason}")
    for warning in plan.warnings:
        sys.stderr.write(f"warning: {warning}\n")


def _summary(result: GenerateResult) -> str:
    n = len(result.updated)
    deps = f", {result.dependencies_recorded} dependency file(s)" if result.dependencies_recorded else ""
    items = f", {len(result.items_updated)} flow(s)/app(s)" if result.items_updated else ""
    return (
        f"Regenerated {n} script{'s' if n != 1 else ''}{items}, {result.locks_written} "
        f"lock{'s' if result.locks_written != 1 else ''}{deps} in {duration(result.seconds, compact=True)}"
    )


def generate_metadata(
    ctx: typer.Context,
    folder: str | None = typer.Argument(None, help="Only items in this folder (or importing into it)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List stale items and why; write nothing."),
    check: bool = typer.Option(False, "--check", help="Like --dry-run, but exit 1 when anything is stale (CI)."),
    json_out: bool = typer.Option(False, "--json", help="Print the plan (and result) as one JSON document."),
    lock_only: bool = typer.Option(False, "--lock-only", help="Only regenerate locks."),
    schema_only: bool = typer.Option(False, "--schema-only", help="Only regenerate schemas."),
    strict: bool = typer.Option(
        False, "--strict-folder-boundaries", help="Skip importers outside FOLDER (warns about each)."
    ),
    includes: list[str] | None = typer.Option(None, "-i", "--includes", help="Glob(s), replace wmill.yaml includes."),
    excludes: list[str] | None = typer.Option(None, "-e", "--excludes", help="Glob(s), replace wmill.yaml excludes."),
    skip_scripts: bool = typer.Option(False, "--skip-scripts", help="Leave scripts out."),
    skip_flows: bool = typer.Option(False, "--skip-flows", help="Leave flows out."),
    skip_apps: bool = typer.Option(False, "--skip-apps", help="Leave apps and raw apps out."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    parallel: int = typer.Option(4, "--parallel", min=1, help="Lock resolutions run at once."),
    index_url: str | None = typer.Option(None, "--index-url", help="Package index for uv (env WAC_INDEX_URL)."),
    find_links: list[str] | None = typer.Option(
        None, "--find-links", help="Extra wheel folder/URL for uv (env WAC_FIND_LINKS)."
    ),
    no_index: bool = typer.Option(False, "--no-index", help="Resolve from --find-links only (offline)."),
    python_version: str | None = typer.Option(
        None, "--python-version", help="Python version locks target (default 3.12, env WAC_PYTHON_VERSION)."
    ),
) -> None:
    """Regenerate stale .script.yaml schemas, .script.lock locks and wmill-lock.yaml hashes."""
    if ctx.invoked_subcommand is not None:
        return
    from wac.engine.lockresolver import LockResolver
    from wac.errors import UsageError
    from wac.metadata.generate import GenerateOptions
    from wac.metadata.plan import plan as make_plan

    if lock_only and schema_only:
        raise UsageError("--lock-only and --schema-only cannot be combined", hint="pick one")
    if strict and not folder:
        raise UsageError("--strict-folder-boundaries needs a FOLDER", hint="e.g. wac generate-metadata f/shared --strict-folder-boundaries")
    root, config, folder = _setup(folder, includes, excludes)
    skip_flows = skip_flows or schema_only  # as wmill: --schema-only implies --skip-flows --skip-apps
    skip_apps = skip_apps or schema_only
    if skip_scripts and skip_flows and skip_apps:
        output.info("Nothing to check (all types skipped)")
        return
    the_plan = make_plan(root, config, folder=folder, strict_folder_boundaries=strict,
                         skip_scripts=skip_scripts, skip_flows=skip_flows, skip_apps=skip_apps)
    _refuse_empty_selection(root, folder, the_plan)
    _print_warnings(the_plan)
    resolver = LockResolver.from_env(python_version, index_url, find_links or (), no_index)
    options = GenerateOptions(lock_only=lock_only, schema_only=schema_only, parallel=parallel, resolver=resolver)
    run = _MetadataRun(root, the_plan, options, folder, dry_run=dry_run, check=check)
    run_planned(run, verb="update", dry_run=dry_run or check, yes=yes, json_out=json_out)


@dataclass
class _MetadataRun:
    """generate-metadata as a :class:`~wac.cli.confirm.PlannedRun`."""

    root: Path
    plan: Plan
    options: GenerateOptions
    folder: str | None
    dry_run: bool
    check: bool
    doc: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.doc = {"plan": self.plan.to_json()}

    def render(self) -> str:
        return render_plan(self.plan)

    def review(self) -> bool:
        return False

    def pending(self) -> bool:
        return bool(self.plan.items)

    def question(self) -> str:
        return "Update metadata?"

    def unapplied(self) -> None:
        from wac.errors import StaleMetadataError

        if self.check and self.plan.items:
            n = len(self.plan.items)
            raise StaleMetadataError(f"{n} item{'' if n == 1 else 's'} with stale metadata (--check)",
                                     hint="update them with: wac generate-metadata"
                                     + (f" {self.folder}" if self.folder else ""))
        if not self.dry_run and self.plan.skipped:  # unreadable scripts are errors the user must fix
            raise _unreadable(len(self.plan.skipped))

    def apply(self) -> Applied:
        from wac.errors import MetadataError

        result = _run_with_progress(self.root, self.plan, self.options)
        for line in result.diagnostics:
            sys.stderr.write(line + "\n")
        for warning in result.warnings:
            sys.stderr.write(f"warning: {warning}\n")
        if result.lockfile_created:
            output.info("wmill-lock.yaml created")
        for path, message in result.failed:
            sys.stderr.write(f"  {path}: {message}\n")
        doc = {
            "updated": result.updated,
            "items_updated": result.items_updated,
            "failed": [{"path": p, "error": m} for p, m in result.failed],
            "locks_written": result.locks_written,
            "seconds": round(result.seconds, 3),
        }
        if not (result.failed or self.plan.skipped):
            return Applied(doc, [_summary(result)])
        failed = len(result.failed) + len(self.plan.skipped)
        error = _unreadable(failed) if not result.failed else MetadataError(
            f"{failed} item{'' if failed == 1 else 's'} could not be updated",
            hint="the reasons are printed above; fix them and run again (the other items are written)")
        return Applied(doc, [f"{_summary(result)}; {failed} failed"], error)


def _unreadable(n: int) -> MetadataError:
    from wac.errors import MetadataError

    return MetadataError(f"{n} file{'' if n == 1 else 's'} could not be read",
                         hint="the reasons are printed above (error: skipping …); fix them and run again")


def _refuse_empty_selection(root: Path, folder: str | None, the_plan: Plan) -> None:
    """A FOLDER that is no path and holds no item is a typo: exit 2 rather than "up-to-date"."""
    from wac.errors import UsageError
    from wac.metadata.scope import in_folder, normalize_folder

    if not folder or not normalize_folder(folder):
        return
    if (root / normalize_folder(folder)).exists():
        return
    known = [(s.ref.remote_path, s.ref.local_path) for s in the_plan.states.values()]
    known += [(b.ref.folder, b.ref.folder) for b in the_plan.bundles.values()]
    known += [(p, p) for p, _ in the_plan.skipped]
    if any(in_folder(remote, local, folder) for remote, local in known):
        return
    raise UsageError(f"{folder} matches no script, flow or app of the repo",
                     hint="give a folder or file of the repo (e.g. f/demo), or no FOLDER for all")


def _run_with_progress(root: Path, the_plan: Plan, options: Any) -> GenerateResult:
    from wac.metadata.generate import generate

    total = len(the_plan.scripts)
    if output.is_interactive() and total:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            console=output.stderr_console(), transient=True,
        ) as bar:
            task = bar.add_task("parsing", total=None)

            def locks(done: int, n: int) -> None:
                bar.update(task, completed=done, total=n, description="resolving locks")

            def tick(i: int, n: int, item: PlanItem) -> None:
                bar.update(task, completed=i, total=n, description=f"writing {item.local_path}")

            return generate(root, the_plan, options, tick, locks)
    width = len(f"[{total}/{total}]")

    def line(i: int, n: int, item: PlanItem) -> None:
        sys.stderr.write(f"{f'[{i}/{n}]':<{width}} script {item.local_path}\n")

    return generate(root, the_plan, options, line)


def rehash_command(
    folder: str | None = typer.Argument(None, help="Only scripts in this folder."),
    includes: list[str] | None = typer.Option(None, "-i", "--includes", help="Glob(s), replace wmill.yaml includes."),
    excludes: list[str] | None = typer.Option(None, "-e", "--excludes", help="Glob(s), replace wmill.yaml excludes."),
    json_out: bool = typer.Option(False, "--json", help="Print what was rehashed as one JSON document."),
    skip_scripts: bool = typer.Option(False, "--skip-scripts", help="Leave scripts out."),
    skip_flows: bool = typer.Option(False, "--skip-flows", help="Leave flows out."),
    skip_apps: bool = typer.Option(False, "--skip-apps", help="Leave apps and raw apps out."),
) -> None:
    """Re-record the hashes of scripts, flows and apps in wmill-lock.yaml from disk (no schema, no lock)."""
    from wac.metadata.rehash import rehash

    started = time.perf_counter()
    root, config, folder = _setup(folder, includes, excludes)
    result = rehash(root, config, folder, skip_scripts=skip_scripts, skip_flows=skip_flows, skip_apps=skip_apps)
    for path in result.created:
        output.info(f"Creating script metadata file for {path}")
    if result.lockfile_created:
        output.info("wmill-lock.yaml created")
    for path, reason in result.skipped:
        output.error(f"skipping {path}: {reason}")
    if json_out:
        output.emit_json(
            {"rehashed": result.rehashed, "flows": result.flows, "apps": result.apps, "created": result.created,
             "skipped": [{"path": p, "reason": r} for p, r in result.skipped]}
        )
    elapsed = duration(time.perf_counter() - started, compact=True)
    output.info(f"Rehashed {len(result.rehashed)} script(s), {len(result.flows)} flow(s), "
                f"{len(result.apps)} app(s) from disk in {elapsed}")


def _group_class() -> type:
    from typer.core import TyperGroup

    class FolderOrSubcommandGroup(TyperGroup):
        """A group whose callback takes an optional FOLDER, yet ``rehash`` is still a subcommand."""

        allow_interspersed_args = True  # `wac generate-metadata f/x --dry-run` must work

        def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
            if args and args[0] in self.commands:
                super().parse_args(ctx, [])
                # click 8.1 calls it protected_args; 8.2+ keeps it in _protected_args
                name = "_protected_args" if hasattr(ctx, "_protected_args") else "protected_args"
                setattr(ctx, name, args[:1])
                ctx.args = args[1:]
                return list(ctx.args)
            return list(super().parse_args(ctx, args))

    return FolderOrSubcommandGroup


def register(app: typer.Typer) -> None:
    """Add the ``generate-metadata`` group (with ``rehash``) to the root app."""
    group = typer.Typer(
        cls=_group_class(),
        name="generate-metadata",
        help="Regenerate stale .script.yaml schemas, .script.lock locks and wmill-lock.yaml hashes.",
        invoke_without_command=True,
        no_args_is_help=False,
    )
    group.callback(invoke_without_command=True)(generate_metadata)
    group.command("rehash")(rehash_command)
    app.add_typer(group, name="generate-metadata")
