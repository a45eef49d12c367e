"""``wac job migrate | rerun`` and ``wac script check``: changing code under live runs (issue 14).

Embedded workspaces only: they are where a run's recorded steps can be read and replayed.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output

if TYPE_CHECKING:
    from wac.engine.backend import Backend
    from wac.engine.local_backend import LocalBackend


def register(job_group: typer.Typer, script_group: typer.Typer) -> None:
    """Add ``migrate`` and ``rerun`` to the ``wac job`` group and ``check`` to ``wac script``."""
    job_group.command("migrate")(migrate)
    job_group.command("rerun")(rerun)
    script_group.command("check")(check_script)


def _local_backend() -> LocalBackend:
    from wac.cli.prepare import open_workspace
    from wac.engine.local_backend import LocalBackend
    from wac.errors import UsageError

    backend = open_workspace()
    if not isinstance(backend, LocalBackend):
        backend.close()
        raise UsageError(f"workspace '{backend.name}' is not embedded: its runs' steps cannot be replayed here",
                         hint="use a sqlite workspace (wac workspace switch local)")
    return backend


def _target(store: Any, path: str, version: str | None) -> tuple[Any, Any]:
    """The bundle and record of ``path``'s version (a hash prefix) or head."""
    from wac.engine.deployed import deployed_bundle
    from wac.errors import UsageError

    full = None
    if version is not None:
        matches = sorted({r.hash for r in store.script_history(path) if r.hash.startswith(version)})
        if len(matches) != 1:
            raise UsageError(f"{'no' if not matches else 'more than one'} version of {path} starts with {version!r}",
                             hint=f"see the versions with: wac script history {path}")
        full = matches[0]
    return deployed_bundle(store, path, full)


def migrate(
    job_id: str,
    to: str | None = typer.Option(None, "--to", help="Version hash (or prefix) to move to (default: the newest)."),
    as_json: bool = typer.Option(False, "--json", help="Print the check (and whether it moved) as JSON."),
) -> None:
    """Move a live run to another deployed version of its script, if the new code can carry it on."""
    from wac.cli.livecheck import render
    from wac.engine.replaycheck import check, versions_by_bundle
    from wac.engine.store._sqlite_evolve import FINISHED, migrate_run, run_snapshot
    from wac.errors import ConflictError, IncompatibleRunError

    backend = _local_backend()
    try:
        store = backend.store
        snap = run_snapshot(store, job_id)
        job = snap.job
        if job.parent_id is not None:
            raise ConflictError(f"job {job_id} is a task of job {job.root_id}; migrate the run itself",
                                hint=f"wac job migrate {job.root_id}")
        if job.status in FINISHED:
            raise ConflictError(f"job {job_id} has finished ({job.status}); only live runs move",
                                hint=f"start it again on the new code: wac job rerun {job_id} --latest")
        bundle, record = _target(store, job.script_path, to)
        if job.bundle_hash == bundle.hash:
            output.info(f"job {job_id} is already on version {record.hash[:7]}")
            if as_json:
                output.emit_json({"job_id": job_id, "version": record.hash, "moved": False, "check": None})
            return
        (verdict,) = check(store, backend.state_dir, bundle, [snap], versions_by_bundle(store, job.script_path, [snap]))
        if as_json:
            output.emit_json({"job_id": job_id, "version": record.hash, "moved": verdict.compatible,
                              "check": verdict.to_json()})
        else:
            sys.stderr.write("\n".join(render([verdict])) + "\n")
        if not verdict.compatible:
            raise IncompatibleRunError(
                f"job {job_id} cannot move to version {record.hash[:7]}: {verdict.divergence()}",
                hint=f"it stays on its version; or start it again there: wac job rerun {job_id} --latest",
            )
        store.put_bundle(bundle.hash, bundle.files)
        migrate_run(store, snap, bundle.hash, bundle.entry, record.hash, verdict.version)
    finally:
        backend.close()
    output.info(f"moved job {job_id} to version {record.hash[:7]} of {job.script_path}; "
                "its next round runs the new code")


def _default_from(snap: Any) -> str | None:
    """The first failure (a failed step or a stored failure marker), else the first key not done."""
    from wac.engine.worker import is_failure_marker
    from wac.errors import UsageError

    for s in snap.steps:
        if s.failed or (s.done and is_failure_marker(s.value)) or not s.done:
            return str(s.key)
    if snap.job.status == "succeeded":
        keys = ", ".join(s.key for s in snap.steps) or "(none)"
        raise UsageError(f"job {snap.job.id} succeeded: say which step to run again with --from KEY",
                         hint=f"its steps, in order: {keys}")
    return None  # the body itself failed after its last step: every step is reused


def rerun(
    job_id: str,
    from_key: str | None = typer.Option(None, "--from", help="First step to run again (default: the first failure)."),
    latest: bool = typer.Option(False, "--latest", help="Run on the newest deployed version (checked by a dry replay)."),
    data: str | None = typer.Option(None, "-d", "--data", help="New arguments: JSON object or @file.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole job (status, result, error) as JSON."),
    no_wait: bool = typer.Option(False, "--no-wait", help="Print the new job id and return at once."),
    approve: bool = typer.Option(False, "--approve", help="Approve every approval the run waits on."),
    reject: bool = typer.Option(False, "--reject", help="Reject every approval the run waits on."),
    workers: int = typer.Option(4, "--workers", min=1, max=64, help="Rounds run at once."),
) -> None:
    """Run a finished run again, reusing its completed steps before KEY (default: the first failure)."""
    from dataclasses import replace

    from wac.cli.args import parse_data
    from wac.cli.script import follow_run
    from wac.engine.replaycheck import check
    from wac.engine.store._sqlite_evolve import (
        FINISHED,
        RunSnapshot,
        create_rerun,
        run_snapshot,
    )
    from wac.engine.worker import WorkerConfig
    from wac.errors import ConflictError, IncompatibleRunError, UsageError

    if approve and reject:
        raise UsageError("--approve and --reject exclude each other")
    new_args = parse_data(data) if data is not None else None
    backend = _local_backend()
    store = backend.store
    snap = run_snapshot(store, job_id)
    job = snap.job
    if job.parent_id is not None:
        raise ConflictError(f"job {job_id} is a task of job {job.root_id}; rerun the run itself",
                            hint=f"wac job rerun {job.root_id} --from {job.parent_key}")
    if job.status not in FINISHED:
        raise ConflictError(f"job {job_id} is still {job.status}; only finished runs are rerun",
                            hint=f"cancel it first (wac job cancel {job_id}), or move it: wac job migrate {job_id}")
    keys = [s.key for s in snap.steps]
    if from_key is not None and from_key not in keys:
        raise UsageError(f"job {job_id} has no step {from_key!r}",
                         hint="its steps, in order: " + (", ".join(keys) or "(none)"))
    start = from_key if from_key is not None else _default_from(snap)
    cut = keys.index(start) if start is not None else len(keys)
    reused = tuple(s for s in snap.steps[:cut] if s.done)
    args = job.args if new_args is None else new_args
    bundle_hash, entry, version = job.bundle_hash, job.entry, snap.script_hash
    if latest:
        bundle, record = _target(store, job.script_path, None)
        if new_args is not None:
            from wac.cli.prepare import refuse_bad_args

            refuse_bad_args(record.doc.get("schema"), args, f"{job.script_path} (version {record.hash[:7]})",
                            f"see the inputs with: wac script show {job.script_path}")
        probe = RunSnapshot(replace(job, args=args), reused, (), None)
        (verdict,) = check(store, backend.state_dir, bundle, [probe])
        if not verdict.compatible:
            raise IncompatibleRunError(
                f"version {record.hash[:7]} cannot reuse the steps of job {job_id} before "
                f"{start or 'its end'}: {verdict.divergence()}",
                hint="rerun from an earlier step (--from KEY), or on the run's own version (without --latest)",
            )
        store.put_bundle(bundle.hash, bundle.files)
        bundle_hash, entry, version = bundle.hash, bundle.entry, record.hash
    new_id = create_rerun(store, snap, bundle_hash, entry, args, [s.key for s in reused], start, version)
    shown = ", ".join(s.key for s in reused[:5]) + (", …" if len(reused) > 5 else "")
    where = f"from '{start}'" if start else "after its last step"
    output.info(f"rerunning job {job_id} as {new_id} {where}, reusing {len(reused)} step(s)"
                + (f" ({shown})" if reused else "") + (f" on version {version[:7]}" if version else ""))
    if no_wait:
        backend.close()
        typer.echo(new_id)
        return
    worker = backend.start_workers(WorkerConfig(slots=workers))
    decision = True if approve else False if reject else None
    follow_run(backend, new_id, worker, as_json=as_json, decision=decision)


def lineage_fields(backend: Backend, job_id: str) -> dict[str, Any]:
    """What ``job get`` adds about a run's version and origin (empty when nothing is known)."""
    from wac.engine.local_backend import LocalBackend
    from wac.engine.store._sqlite_evolve import lineage

    if not isinstance(backend, LocalBackend):
        return {}
    found = lineage(backend.store, job_id) or {}
    names = {"script_hash": "version", "rerun_of": "rerun_of", "rerun_from": "rerun_from",
             "reused": "reused_steps", "migrated_from": "migrated_from"}
    return {ours: found[theirs] for theirs, ours in names.items() if found.get(theirs) is not None}


def lineage_rows(fields: dict[str, Any]) -> list[tuple[str, Any]]:
    """``job get`` rows for :func:`lineage_fields`."""
    rows: list[tuple[str, Any]] = []
    if "version" in fields:
        rows.append(("version", str(fields["version"])[:7]))
    if "migrated_from" in fields:
        rows.append(("migrated", f"from version {str(fields['migrated_from'])[:7]}"))
    if "rerun_of" in fields:
        where = f"from '{fields['rerun_from']}'" if fields.get("rerun_from") else "after its last step"
        rows.append(("rerun of", f"{fields['rerun_of']} {where}, {fields.get('reused_steps', 0)} step(s) reused"))
    return rows


def check_script(
    path: str = typer.Argument(..., help="The LOCAL script: a .py file, x__mod/script.py, or f/folder/name."),
    runs: int = typer.Option(20, "--runs", min=0, help="Also check the last N finished runs of the deployed script."),
    as_json: bool = typer.Option(False, "--json", help="Print the verdicts as JSON."),
) -> None:
    """Dry-replay the LOCAL code over the recorded runs of the deployed script; exit 1 on divergence."""
    from wac.cli.livecheck import render
    from wac.cli.prepare import with_environment
    from wac.engine.bundle import build_bundle
    from wac.engine.replaycheck import check, versions_by_bundle
    from wac.engine.store._sqlite_evolve import run_snapshots
    from wac.errors import IncompatibleRunError
    from wac.project import find_repo_root, resolve_script

    ref = resolve_script(find_repo_root(Path.cwd()), path)
    modules = {ref.module_paths[k].relative_to(ref.repo_root).as_posix(): t for k, t in ref.modules.items()}
    bundle = with_environment(ref, build_bundle(ref.repo_root, ref.main_file, ref.module_dir, modules))
    backend = _local_backend()
    try:
        store = backend.store
        snaps = run_snapshots(store, ref.remote_path, live=True)
        snaps += run_snapshots(store, ref.remote_path, live=False, limit=runs) if runs else []
        checks = check(store, backend.state_dir, bundle, snaps, versions_by_bundle(store, ref.remote_path, snaps))
    finally:
        backend.close()
    bad = [c for c in checks if not c.compatible]
    if as_json:
        output.emit_json({"path": ref.remote_path, "checked": len(checks), "diverging": len(bad),
                          "runs": [c.to_json() for c in checks]})
    elif checks:
        typer.echo("\n".join(render(checks)))
    if not checks:
        output.info(f"no runs of {ref.remote_path} to check in workspace '{backend.name}'")
        return
    live = sum(1 for s in snaps if s.job.status not in ("succeeded", "failed", "cancelled"))
    if bad:
        raise IncompatibleRunError(
            f"{len(bad)} of {len(checks)} run(s) of {ref.remote_path} diverge from {ref.local_path}",
            hint="keep those runs on their version when you push (the default), or change the code so it "
                 "calls the recorded steps in the same order",
        )
    output.info(f"{len(checks)} run(s) of {ref.remote_path} ({live} live, {len(checks) - live} finished) "
                f"replay on {ref.local_path} without divergence")
