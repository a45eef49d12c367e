"""`wac sync push|pull`: the repo's scripts to a workspace and back (plan, confirm, apply)."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output

if TYPE_CHECKING:
    from wac.sync.pull import PullPlan
    from wac.sync.push import PushPlan

EM_DASH = "\u2014"
STALE_HINT = "run: wac generate-metadata"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _layout_recorded(backend: Any) -> bool:
    """True for a workspace that keeps each version's .script.yaml and layout (wac's own)."""
    return bool(getattr(backend, "keeps_metadata", False))


def _confirm(question: str, verb: str) -> None:
    """Ask on a terminal; refuse without one (the caller passes --yes to skip this)."""
    from wac.errors import UsageError

    if not sys.stdin.isatty():
        raise UsageError(f"not {verb}ing without confirmation: stdin is not a terminal",
                         hint=f"pass --yes to {verb} as planned above (or --dry-run to only see the plan)")
    if not typer.confirm(question, default=False, err=True):
        output.info(f"Nothing {verb}ed.")
        raise typer.Exit(1)


# ---------------------------------------------------------------------------------------- push


def render_push(plan: PushPlan) -> str:
    return "".join(f"{i.sign} script {i.path}\n" for i in plan.items)


def _push_counts(plan: PushPlan) -> str:
    return (f"{len(plan.of('add'))} added, {len(plan.of('change'))} changed, "
            f"{len(plan.of('delete'))} archived")


def push(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be deployed and archived; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (required without a terminal)."),
    json_out: bool = typer.Option(False, "--json", help="Print the plan (and result) as one JSON document."),
    migrate: bool = typer.Option(False, "--migrate", help="Move live runs the new versions can carry on to them."),
) -> None:
    """Deploy the repo's new and changed scripts to the workspace; archive the ones deleted locally."""
    from pathlib import Path

    from wac.cli.prepare import open_workspace
    from wac.project import find_repo_root, load_config
    from wac.sync.apply import apply_push, read_local, record_push
    from wac.sync.push import plan_push
    from wac.sync.state import load_state

    started = time.perf_counter()
    root = find_repo_root(Path.cwd())
    config = load_config(root)
    refs, local, snapshot = read_local(root, config)  # a broken .script.yaml fails here: nothing deployed
    backend = open_workspace()
    try:
        name = backend.name
        plan = plan_push(local, backend.list_scripts(), config, layout_recorded=_layout_recorded(backend))
        doc: dict[str, Any] = {"workspace": name, "dry_run": dry_run, "plan": plan.to_json(), "result": None}
        if not json_out:
            sys.stderr.write(render_push(plan))
        stale = [i.local_path for i in plan.items if i.stale]
        for path in stale:
            sys.stderr.write(f"warning: {path}: metadata is stale (wmill-lock.yaml does not match its files)\n")
        if stale:
            sys.stderr.write(f"hint: {STALE_HINT}\n")
        if dry_run or not plan.items:
            if json_out:
                output.emit_json(doc)
            if not plan.items:
                output.info(f"Nothing to push: {_plural(len(plan.unchanged), 'script')} up to date "
                            f"in workspace '{name}'")
            else:
                output.info(f"Would push {_plural(len(plan.items), 'script')} ({_push_counts(plan)}) "
                            f"to workspace '{name}'")
            if not dry_run:
                record_push(load_state(root, name), root, refs, snapshot)
            return
        if not yes:
            _confirm(f"Push {_plural(len(plan.items), 'change')} to workspace '{name}'?", "push")
        result = apply_push(backend, plan)
        record_push(load_state(root, name), root, refs, snapshot)
        from wac.cli.livecheck import after_sync_push  # live runs under the new code (issue 14)

        doc["live_runs"] = after_sync_push(backend, result.deployed, migrate=migrate, quiet=json_out)
    finally:
        backend.close()
    seconds = time.perf_counter() - started
    if json_out:
        doc["result"] = {"deployed": result.deployed, "archived": result.archived, "seconds": round(seconds, 3)}
        output.emit_json(doc)
    output.info(f"Pushed {_plural(len(plan.items), 'script')} ({_push_counts(plan)}) "
                f"to workspace '{name}' in {_duration(seconds)}")


# ---------------------------------------------------------------------------------------- pull


def render_pull(plan: PullPlan) -> str:
    lines: list[str] = []
    for script in plan.changed:
        lines.append(f"{script.sign} script {script.path}")
        for change in script.files:
            note = f"  (conflict: {change.conflict})" if change.conflict else ""
            lines.append(f"    {change.sign} {change.path}{note}")
    return "".join(line + "\n" for line in lines)


def _pull_counts(plan: PullPlan, done: bool = True) -> str:
    files = [f for s in plan.scripts for f in s.files]
    writes = sum(1 for f in files if f.data is not None)
    verbs = ("written", "removed") if done else ("to write", "to remove")
    return (f"{plan.count('add')} added, {plan.count('change')} changed, {plan.count('delete')} deleted; "
            f"{_plural(writes, 'file')} {verbs[0]}, {len(files) - writes} {verbs[1]}")


def pull(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be written and deleted; write nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="No confirmation, and overwrite local edits (conflicts)."),
    json_out: bool = typer.Option(False, "--json", help="Print the plan (and result) as one JSON document."),
) -> None:
    """Write the workspace's scripts into the repo, keeping each script's layout and local edits."""
    from pathlib import Path

    from wac.cli.prepare import open_workspace
    from wac.errors import WacError
    from wac.project import discover, find_repo_root, load_config
    from wac.sync.apply import apply_pull
    from wac.sync.local import DiskView, by_remote_path, local_entry
    from wac.sync.pull import plan_pull
    from wac.sync.state import load_state

    started = time.perf_counter()
    root = find_repo_root(Path.cwd())
    config = load_config(root)
    local = {r: local_entry(ref) for r, ref in by_remote_path(discover(root, config).scripts).items()}
    backend = open_workspace()
    try:
        name = backend.name
        remote = backend.list_scripts()
        layout_recorded = _layout_recorded(backend)
    finally:
        backend.close()
    state = load_state(root, name)
    if state.warning:
        sys.stderr.write(f"warning: {state.warning}\n")
    plan = plan_pull(remote, local, DiskView(root), state.files, config, layout_recorded=layout_recorded)
    doc: dict[str, Any] = {"workspace": name, "dry_run": dry_run, "plan": plan.to_json(), "result": None}
    if not json_out:
        sys.stderr.write(render_pull(plan))
    conflicts = plan.conflicts
    if conflicts and not yes:
        if json_out:
            output.emit_json(doc)
        sys.stderr.write(f"Conflicts ({len(conflicts)}), local edits a pull would lose:\n")
        for c in conflicts:
            sys.stderr.write(f"  ! {c.path} {EM_DASH} {c.conflict}\n")
        if dry_run:
            output.info(f"Would pull {_plural(len(plan.changed), 'script')} ({_pull_counts(plan, False)}) "
                        f"from workspace '{name}'; a real pull refuses without --yes")
            return
        raise WacError(
            f"{_plural(len(conflicts), 'local file')} changed since the last sync; nothing pulled",
            hint="push or save your edits first, or pass --yes to overwrite them with the workspace's version",
        )
    if dry_run or not plan.changed:
        if json_out:
            output.emit_json(doc)
        if not plan.changed:
            if not dry_run:
                apply_pull(root, plan, state, config)  # records the sync state, fills missing lock entries
            output.info(f"Nothing to pull: {_plural(len(plan.scripts), 'script')} up to date "
                        f"from workspace '{name}'")
        else:
            output.info(f"Would pull {_plural(len(plan.changed), 'script')} ({_pull_counts(plan, False)}) "
                        f"from workspace '{name}'")
        return
    if not yes and sys.stdin.isatty():  # without a terminal a pull proceeds: conflicts already refused it
        _confirm(f"Pull {_plural(len(plan.changed), 'script')} from workspace '{name}' into the repo?", "pull")
    result = apply_pull(root, plan, state, config)
    seconds = time.perf_counter() - started
    if result.lockfile_created:
        output.info("wmill-lock.yaml created")
    if json_out:
        doc["result"] = {"written": result.written, "deleted": result.deleted,
                         "lock_entries_refreshed": result.lock_entries, "seconds": round(seconds, 3)}
        output.emit_json(doc)
    output.info(f"Pulled {_plural(len(plan.changed), 'script')} ({_pull_counts(plan)}) "
                f"from workspace '{name}' in {_duration(seconds)}")


def register(app: typer.Typer) -> None:
    """Add the ``sync`` group (``push``, ``pull``) to the root app."""
    group = typer.Typer(name="sync", help="Push the repo's scripts to the workspace, or pull them back.",
                        no_args_is_help=True)
    group.command("push")(push)
    group.command("pull")(pull)
    app.add_typer(group, name="sync")
