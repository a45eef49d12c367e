"""`wac sync push|pull`: the repo's scripts to a workspace and back (plan, confirm, apply)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output
from wac.cli.confirm import Applied, run_planned
from wac.timeformat import duration

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from wac.engine.backend import Backend
    from wac.project.config import RepoConfig
    from wac.sync.items import ItemPullPlan
    from wac.sync.items_apply import ItemsPush
    from wac.sync.objects import ObjectPullPlan, ObjectPush
    from wac.sync.pull import PullPlan
    from wac.sync.push import PushPlan
    from wac.sync.state import SyncState

EM_DASH = "\u2014"
STALE_HINT = "run: wac generate-metadata"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _layout_recorded(backend: Backend) -> bool:
    """True for a workspace that keeps each version's .script.yaml and layout (wac's own)."""
    return backend.keeps_metadata


# ---------------------------------------------------------------------------------------- push


def _split_invalid(local: list[Any]) -> tuple[list[Any], list[tuple[str, str]]]:
    """The scripts that compile, and ``(remote path, reason)`` of those that do not (Python only)."""
    from wac.engine.bundle import check_syntax
    from wac.errors import WacError
    from wac.project.textio import read_source

    ok: list[Any] = []
    invalid: list[tuple[str, str]] = []
    for item in local:
        if item.script.language == "python3":
            try:
                if "\ufffd" in item.script.content:  # read leniently: refuse what is not UTF-8 (WAC002)
                    read_source(item.ref.main_file, item.ref.local_path)
                check_syntax(item.ref.local_path, item.script.content)
            except WacError as exc:
                invalid.append((item.script.path, exc.message))
                continue
        ok.append(item)
    return ok, invalid


def render_push(plan: PushPlan) -> str:
    return "".join(f"{i.sign} script {i.path}\n" for i in plan.items)


def _items_part(n: int, counts: str | None) -> str:
    """`` and 2 items (2 added, ...)`` after the scripts' counts; nothing when there are no items."""
    if not n:
        return ""
    return f" and {_plural(n, 'item')}" + (f" ({counts})" if counts else "")


def _push_counts(plan: PushPlan) -> str:
    return (f"{len(plan.of('add'))} added, {len(plan.of('change'))} changed, "
            f"{len(plan.of('delete'))} archived")


def push(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be deployed and archived; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (required without a terminal)."),
    json_out: bool = typer.Option(False, "--json", help="Print the plan (and result) as one JSON document."),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Leave out scripts that do not compile (listed) instead of refusing."),
    migrate: bool = typer.Option(False, "--migrate", help="Move live runs the new versions can carry on to them."),
    message: str = typer.Option("", "--message", help="Deployment message of the scripts, flows and apps "
                                "this push deploys (as wmill sync push --message)."),
) -> None:
    """Deploy the repo's new and changed scripts to the workspace; archive the ones deleted locally."""
    from pathlib import Path

    from wac.cli.prepare import open_workspace
    from wac.project import find_repo_root, load_config
    from wac.sync import objects as objsync
    from wac.sync.apply import read_local
    from wac.sync.items_apply import prepare_push
    from wac.sync.push import plan_push

    started = time.perf_counter()
    root = find_repo_root(Path.cwd())
    config = load_config(root)
    refs, local, snapshot = read_local(root, config)  # a broken .script.yaml fails here: nothing deployed
    from wac.sync.local import orphan_module_dirs

    for folder in orphan_module_dirs(root, refs):
        sys.stderr.write(f"warning: {folder}/ belongs to no script (no {folder[:-5]}.py): not pushed\n")
    local, invalid = _split_invalid(local)
    if invalid and not skip_invalid:
        from wac.errors import MetadataError

        listing = "; ".join(why for _, why in invalid)
        raise MetadataError(f"cannot push {_plural(len(invalid), 'invalid script')}: {listing}",
                            hint="fix them (as `wac script push` would require), or pass --skip-invalid")
    for _, why in invalid:
        sys.stderr.write(f"skipped (invalid): {why}\n")
    local_objects = objsync.read_local(root, config)  # so does a broken .variable/.resource.yaml
    backend = open_workspace()
    try:
        name = backend.name
        plan = plan_push(local, backend.list_scripts(), config, layout_recorded=_layout_recorded(backend),
                         keep={p for p, _ in invalid})
        remote_objects = objsync.remote_objects(backend, config)
        objects = objsync.plan_push(local_objects, remote_objects,
                                    objsync.sources_of(backend, list(local_objects)), config)
        items = prepare_push(root, config, backend)
        run = _PushRun(backend, name, plan, objects, items,
                       lambda: _record_push(root, name, refs, snapshot, local_objects, items),
                       started, dry_run=dry_run, migrate=migrate, quiet=json_out, message=message or None)
        run_planned(run, verb="push", dry_run=dry_run, yes=yes, json_out=json_out)
    finally:
        backend.close()


def _record_push(root: Any, name: str, refs: Any, snapshot: Any, local_objects: Any, items: Any) -> None:
    """The sync state after a push (or a push with nothing to deploy): what the repo now matches."""
    from wac.sync import objects as objsync
    from wac.sync.apply import record_push
    from wac.sync.items_apply import record_item_push
    from wac.sync.state import load_state

    state = load_state(root, name)
    record_item_push(state, items)
    record_push(state, root, refs, snapshot)
    objsync.record(state, local_objects)
    state.save()


@dataclass
class _PushRun:
    """sync push as a :class:`~wac.cli.confirm.PlannedRun`."""

    backend: Backend
    name: str
    plan: PushPlan
    objects: list[ObjectPush]
    items: ItemsPush  # flows, apps, raw apps, schedules, triggers, folders
    record: Callable[[], None]
    started: float
    dry_run: bool
    migrate: bool
    quiet: bool
    message: str | None = None  # --message: the deployment message of what this push deploys
    doc: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.doc = {"workspace": self.name, "dry_run": self.dry_run, "plan": self.plan.to_json(), "result": None}
        self.doc["objects"] = [i.to_json() for i in self.objects]
        self.doc["plan"]["items"] = self.items.plan.to_json()

    def render(self) -> str:
        from wac.sync.items_apply import render_item_push

        return (render_push(self.plan) + "".join(f"{i.sign} {i.label} {i.path}\n" for i in self.objects)
                + render_item_push(self.items.plan))

    def review(self) -> bool:
        for note in self.items.notes:
            sys.stderr.write(f"note: {note}\n")
        stale = [i.local_path for i in self.plan.items if i.stale]
        for path in stale:
            sys.stderr.write(f"warning: {path}: metadata is stale (wmill-lock.yaml does not match its files)\n")
        if stale:
            sys.stderr.write(f"hint: {STALE_HINT}\n")
        return False

    def pending(self) -> bool:
        return bool(self.plan.items or self.objects or self.items.plan.items)

    def question(self) -> str:
        changes = len(self.plan.items) + len(self.objects) + len(self.items.plan.items)
        return f"Push {_plural(changes, 'change')} to workspace '{self.name}'?"

    def unapplied(self) -> None:
        plan, items, name = self.plan, self.items, self.name
        if self.objects:
            output.info(f"{'Would push' if self.dry_run else 'Pushed'} {_plural(len(self.objects), 'object')} "
                        f"(variables, resources, resource types)")
        if not (plan.items or items.plan.items):
            output.info(f"Nothing to push: {_plural(len(plan.unchanged), 'script')}"
                        f"{_items_part(len(items.plan.unchanged), None)} up to date in workspace '{name}'")
        else:
            output.info(f"Would push {_plural(len(plan.items), 'script')} ({_push_counts(plan)})"
                        f"{_items_part(len(items.plan.items), items.counts())} to workspace '{name}'")
        if not self.dry_run:
            self.record()

    def apply(self) -> Applied:
        from wac.cli.livecheck import after_sync_push  # live runs under the new code (issue 14)
        from wac.sync import objects as objsync
        from wac.sync.apply import apply_push
        from wac.sync.items_apply import apply_item_push

        result = apply_push(self.backend, self.plan, self.message)
        pushed_objects = objsync.apply_push(self.backend, self.objects)
        apply_item_push(self.backend, self.items.plan, self.message)
        self.record()
        self.doc["live_runs"] = after_sync_push(self.backend, result.deployed, migrate=self.migrate, quiet=self.quiet)
        seconds = time.perf_counter() - self.started
        summary = [f"Pushed {_plural(len(self.objects), 'object')} (variables, resources, resource types)"] if self.objects else []
        summary.append(f"Pushed {_plural(len(self.plan.items), 'script')} ({_push_counts(self.plan)})"
                       f"{_items_part(len(self.items.plan.items), self.items.counts())} to workspace '{self.name}' "
                       f"in {duration(seconds, compact=True)}")
        return Applied({"deployed": result.deployed, "archived": result.archived, "objects": pushed_objects,
                        "seconds": round(seconds, 3)}, summary)


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
    from wac.project import discover, find_repo_root, load_config
    from wac.sync import objects as objsync
    from wac.sync.items_apply import prepare_pull
    from wac.sync.local import DiskView, by_remote_path, local_entry
    from wac.sync.pull import plan_pull
    from wac.sync.state import load_state

    started = time.perf_counter()
    root = find_repo_root(Path.cwd())
    config = load_config(root)
    local = {r: local_entry(ref) for r, ref in by_remote_path(discover(root, config).scripts).items()}
    local_objects = objsync.read_local(root, config)
    backend = open_workspace()
    try:
        name = backend.name
        remote = backend.list_scripts()
        layout_recorded = _layout_recorded(backend)
        remote_objects = objsync.remote_objects(backend, config)
        sources = objsync.sources_of(backend, list(remote_objects))
        state = load_state(root, name)
        items = prepare_pull(root, config, backend, state.files)
    finally:
        backend.close()
    if state.warning:
        sys.stderr.write(f"warning: {state.warning}\n")
    plan = plan_pull(remote, local, DiskView(root), state.files, config, layout_recorded=layout_recorded)
    objects = objsync.plan_pull(root, remote_objects, sources, local_objects, state, config)
    run = _PullRun(root, config, name, plan, objects, items, state, started, dry_run=dry_run, yes=yes, json_out=json_out)
    run_planned(run, verb="pull", dry_run=dry_run, yes=yes, json_out=json_out)


@dataclass
class _PullRun:
    """sync pull as a :class:`~wac.cli.confirm.PlannedRun`."""

    root: Path
    config: RepoConfig
    name: str
    plan: PullPlan
    objects: ObjectPullPlan
    items: ItemPullPlan  # flows, apps, raw apps, schedules, triggers, folders
    state: SyncState  # the sync state of this workspace
    started: float
    dry_run: bool
    yes: bool
    json_out: bool
    doc: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.doc = {"workspace": self.name, "dry_run": self.dry_run, "plan": self.plan.to_json(), "result": None}
        self.doc["objects"] = [i.to_json() for i in self.objects.items]
        self.doc["plan"]["items"] = [i.to_json() for i in self.items.changed]

    def render(self) -> str:
        from wac.sync.items_apply import render_item_pull

        return render_pull(self.plan) + "".join(
            f"{item.sign} {item.label} {item.path}\n    {item.sign} {item.rel}"
            + (f"  (conflict: {item.conflict})" if item.conflict else "") + "\n" for item in self.objects.items
        ) + render_item_pull(self.items)

    def review(self) -> bool:
        """Local edits a pull would lose stop it (without --yes); a dry run lists them and ends."""
        from wac.errors import WacError

        plan, name = self.plan, self.name
        conflicts: list[Any] = [*plan.conflicts, *self.objects.conflicts, *self.items.conflicts]
        if conflicts and not self.yes:
            if self.json_out:
                output.emit_json(self.doc)
            sys.stderr.write(f"Conflicts ({len(conflicts)}), local edits a pull would lose:\n")
            for c in conflicts:
                sys.stderr.write(f"  ! {getattr(c, 'rel', c.path)} {EM_DASH} {c.conflict}\n")
            if self.dry_run:
                output.info(f"Would pull {_plural(len(plan.changed), 'script')} ({_pull_counts(plan, False)}) "
                            f"from workspace '{name}'; a real pull refuses without --yes")
                return True
            raise WacError(
                f"{_plural(len(conflicts), 'local file')} changed since the last sync; nothing pulled",
                hint="push or save your edits first, or pass --yes to overwrite them with the workspace's version",
            )
        if self.objects.items:
            what = "Would pull" if self.dry_run else "Pulled"
            output.info(f"{what} {_plural(len(self.objects.items), 'object file')} (variables, resources, resource types)")
        return False

    def pending(self) -> bool:
        return bool(self.plan.changed or self.objects.items or self.items.changed)

    def question(self) -> str:
        return (f"Pull {_plural(len(self.objects.items), 'object file')}, {_plural(len(self.plan.changed), 'script')} "
                f"and {_plural(len(self.items.changed), 'item')} from workspace '{self.name}' into the repo?")

    def unapplied(self) -> None:
        from wac.sync.apply import apply_pull
        from wac.sync.items_apply import apply_item_pull

        plan, items, name = self.plan, self.items, self.name
        if not (plan.changed or items.changed):
            if not self.dry_run:
                apply_item_pull(self.root, items, self.state)
                apply_pull(self.root, plan, self.state, self.config)  # records the sync state, fills missing lock entries
            output.info(f"Nothing to pull: {_plural(len(plan.scripts), 'script')}"
                        f"{_items_part(len(items.items), None)} up to date from workspace '{name}'")
        else:
            output.info(f"Would pull {_plural(len(plan.changed), 'script')} ({_pull_counts(plan, False)})"
                        f"{_items_part(len(items.changed), None)} from workspace '{name}'")

    def apply(self) -> Applied:
        from wac.sync import objects as objsync
        from wac.sync.apply import apply_pull
        from wac.sync.items_apply import apply_item_pull

        plan, items, name = self.plan, self.items, self.name
        objsync.apply_pull(self.root, self.objects, self.state)  # before the scripts: their apply_pull saves the state
        apply_item_pull(self.root, items, self.state)
        if not plan.changed:
            apply_pull(self.root, plan, self.state, self.config)
            if items.changed:
                return Applied(None, [f"Pulled {_plural(len(items.changed), 'item')} from workspace '{name}' "
                                      f"({_plural(len(plan.scripts), 'script')} up to date)"])
            return Applied(None, [f"Nothing to pull: {_plural(len(plan.scripts), 'script')} up to date "
                                  f"from workspace '{name}'"])
        result = apply_pull(self.root, plan, self.state, self.config)
        seconds = time.perf_counter() - self.started
        if result.lockfile_created:
            output.info("wmill-lock.yaml created")
        return Applied({"written": result.written, "deleted": result.deleted,
                        "lock_entries_refreshed": result.lock_entries, "seconds": round(seconds, 3)},
                       [f"Pulled {_plural(len(plan.changed), 'script')} ({_pull_counts(plan)})"
                        f"{_items_part(len(items.changed), None)} from workspace '{name}' "
                        f"in {duration(seconds, compact=True)}"])


def register(app: typer.Typer) -> None:
    """Add the ``sync`` group (``push``, ``pull``) to the root app."""
    group = typer.Typer(name="sync", help="Push the repo's scripts to the workspace, or pull them back.",
                        no_args_is_help=True)
    group.command("push")(push)
    group.command("pull")(pull)
    app.add_typer(group, name="sync")
