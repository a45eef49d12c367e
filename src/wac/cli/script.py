"""``wac script …``: preview a local script on the embedded engine."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import typer

from wac.cli import output

script_app = typer.Typer(help="Preview and manage scripts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(script_app, name="script")


@script_app.command("preview")
def preview(
    path: str = typer.Argument(..., help="A .py file, a folder-layout x__mod/script.py, or f/folder/name."),
    data: Optional[str] = typer.Option(None, "-d", "--data", help="Arguments: JSON object or @file.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole job (status, result, error) as JSON."),
    skip_sleeps: bool = typer.Option(False, "--skip-sleeps", help="End sleep() at once."),
    approve: bool = typer.Option(False, "--approve", help="Approve every approval the run waits on."),
    reject: bool = typer.Option(False, "--reject", help="Reject every approval the run waits on."),
    workers: int = typer.Option(4, "--workers", min=1, max=64, help="Rounds run at once."),
    wmill_sdk: bool = typer.Option(False, "--wmill-sdk", hidden=True, help="Run rounds with the real wmill package."),
) -> None:
    """Run the LOCAL file on the embedded engine; the result goes to stdout."""
    from wac.errors import UsageError

    if approve and reject:
        raise UsageError("--approve and --reject exclude each other")
    from wac.cli.args import parse_data
    from wac.cli.prepare import local_workspace, prepare
    from wac.engine.preview import start_preview
    from wac.engine.worker import WorkerConfig

    args = parse_data(data)
    ref, bundle, check_args = prepare(path, args)
    config = WorkerConfig(slots=workers, skip_sleeps=skip_sleeps, real_wmill=wmill_sdk)
    run = start_preview(local_workspace(), bundle, ref.remote_path, args, config, before_submit=check_args)
    decision = True if approve else False if reject else None
    follow_run(run.workspace.store, run.job_id, run.worker, as_json=as_json, decision=decision)


def follow_run(store: Any, job_id: str, worker: Any, *, as_json: bool, decision: bool | None) -> None:
    """Watch a run to its end with workers running in this process, then print its result."""
    from wac.cli.runview import RunView
    from wac.engine.store.base import TERMINAL

    asked: set[tuple[str, str]] = set()
    job = None
    try:
        with RunView(store, job_id, live=output.is_interactive() and not as_json) as view:
            while True:
                since = store.change_token()
                job, redrawn = view.update()
                if job.status in TERMINAL:
                    break
                # a nested workflow may wait too: look below the root when the view is redrawn
                for waiting in _suspended(store, job) if redrawn or job.status == "suspended" else []:
                    marker = (waiting.id, waiting.suspended_key or "")
                    if marker in asked:
                        continue
                    asked.add(marker)
                    _answer_approval(store, waiting, decision, view)
                store.wait_for_change(job_id, 0.1 if not redrawn else 0.5, since)
    except KeyboardInterrupt:
        worker.stop()
        output.error(
            f"interrupted; job {job_id} stays in the store",
            "resume it with: wac worker   (or cancel it: wac job cancel " + job_id + ")",
        )
        raise typer.Exit(130) from None
    worker.stop()
    _print_result(store, job, as_json)


def _suspended(store: Any, job: Any) -> list[Any]:
    found = [job] if job.status == "suspended" else []
    if job.status in ("waiting", "suspended"):
        for child in store.children(job.id):
            if child.status in ("waiting", "suspended"):
                found += _suspended(store, child)
    return found


def _answer_approval(store: Any, job: Any, decision: bool | None, view: Any) -> None:
    key = job.suspended_key
    if decision is None and output.is_interactive() and sys.stdin.isatty():
        decision = typer.confirm(f"{job.script_path} waits for approval '{key}'. Approve?", err=True)
    if decision is None:
        output.info(
            f"waiting for approval '{key}' of job {job.id}: run `wac job approve {job.id}` "
            f"or `wac job reject {job.id}`"
        )
        return
    store.resume(job.id, key, None, decision, None, "preview")
    output.info(f"{'approved' if decision else 'rejected'} '{key}' of job {job.id}")


def _print_result(store: Any, job: Any, as_json: bool) -> None:
    from wac.cli.jobdoc import job_document
    from wac.cli.runview import fmt_duration

    took = fmt_duration(job.finished_at - job.started_at) if job.finished_at and job.started_at else "-"
    output.info(f"{job.script_path} {job.status} in {took} (job {job.id}, {job.rounds} rounds)")
    if as_json:
        output.emit_json(job_document(store, job))
    elif job.status == "succeeded":
        output.emit_json(job.result)
    if job.status != "succeeded":
        err = job.error or {}
        if not as_json:
            output.error(f"{job.status}: {err.get('name', 'Error')}: {err.get('message', '')}")
        raise typer.Exit(1)
