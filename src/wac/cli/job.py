"""``wac job …``: inspect and steer jobs of the current workspace."""

from __future__ import annotations

import json
from typing import Any, Optional

import typer

from wac.cli import output

job_app = typer.Typer(help="Inspect and steer jobs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(job_app, name="job")


def _workspace() -> Any:
    from wac.cli.prepare import open_workspace

    return open_workspace()


@job_app.command("list")
def list_jobs(
    status: Optional[str] = typer.Option(None, "--status", help="Only jobs in this state."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many, newest first."),
    all_jobs: bool = typer.Option(False, "--all", help="Include child jobs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recent jobs, newest first."""
    from wac.cli.jobdoc import job_document
    from wac.cli.runview import fmt_duration

    ws = _workspace()
    jobs = ws.list_jobs(root_only=not all_jobs, status=status, limit=limit)
    if as_json:
        output.emit_json([job_document(j) for j in jobs])
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("ID", "STATUS", "SCRIPT", "CREATED", "DURATION", "ROUNDS"):
        table.add_column(col)
    for j in jobs:
        dur = fmt_duration(j.finished_at - j.started_at) if j.finished_at and j.started_at else ""
        table.add_row(j.id, j.status, j.script_path, output.when(j.created_at), dur, str(j.rounds))
    from rich.console import Console

    Console(no_color=True, highlight=False, width=200).print(table)


@job_app.command("get")
def get(job_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show one job."""
    from wac.cli.jobdoc import job_document

    from wac.cli.jobevolve import lineage_fields

    ws = _workspace()
    doc = job_document(ws.get_job(job_id))
    doc.update(lineage_fields(ws, job_id))  # version, rerun_of/rerun_from, migrated_from
    if as_json:
        output.emit_json(doc)
        return
    for key, value in doc.items():
        shown = json.dumps(value) if isinstance(value, (dict, list)) else value
        typer.echo(f"{key:14} {shown}")


@job_app.command("result")
def result(job_id: str) -> None:
    """Print a finished job's result as JSON; exit 1 if it failed."""
    from wac.errors import WorkflowFailedError

    ws = _workspace()
    job = ws.get_job(job_id)
    if job.status == "succeeded":
        output.emit_json(job.result)
        return
    if job.status in ("failed", "cancelled"):
        err = job.error or {}
        raise WorkflowFailedError(f"job {job_id} {job.status}: {err.get('name', 'Error')}: {err.get('message', '')}")
    raise WorkflowFailedError(f"job {job_id} has not finished (it is {job.status})",
                              hint="wait for it, or follow it with: wac job timeline " + job_id)


@job_app.command("logs")
def logs(job_id: str) -> None:
    """Print the logs of a job and of the jobs under it."""
    ws = _workspace()

    def show(jid: str, label: str) -> None:
        text = ws.logs(jid)
        if text:
            typer.echo(f"== {label} ({jid})")
            typer.echo(text.rstrip("\n"))
        for child in ws.children(jid):
            show(child.id, f"{label} / {child.name}")

    root = ws.get_job(job_id)
    show(root.id, root.script_path)


@job_app.command("timeline")
def timeline(job_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each task, step and wait of a job: start, duration, and the job's replay count."""
    from wac.cli.runview import fmt_duration

    ws = _workspace()
    job = ws.get_job(job_id)
    entries = ws.timeline(job_id)
    if as_json:
        output.emit_json({
            "id": job.id, "status": job.status, "rounds": job.rounds, "replays": max(0, job.rounds - 1),
            "entries": [e.__dict__ for e in entries],
        })
        return
    base = job.started_at or job.created_at
    typer.echo(f"{job.script_path}  {job.status}  rounds {job.rounds} (replays {max(0, job.rounds - 1)})")
    for e in entries:
        start = f"+{fmt_duration(e.started_at - base)}" if e.started_at else "-"
        dur = fmt_duration(e.finished_at - e.started_at) if e.finished_at and e.started_at else "…"
        typer.echo(f"  {e.key:28} {e.kind:9} {e.status:10} start {start:>10}  took {dur}")


@job_app.command("cancel")
def cancel(job_id: str, reason: str = typer.Option("cancelled by user", "--reason")) -> None:
    """Cancel a job and everything running under it."""
    ws = _workspace()
    n = ws.cancel(job_id, reason)
    output.info(f"cancelled {n} job(s)" if n else f"job {job_id} had already finished; nothing to cancel")


def _decide(target: str, approved: bool, value: Optional[str], approver: Optional[str]) -> None:
    from wac.engine import approvals
    from wac.errors import ArgsError

    payload: Any = None
    if value is not None:
        try:
            payload = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ArgsError(f"--value is not valid JSON: {exc.msg}") from None
    ws = _workspace()
    if "://" in target:
        job_id, key, token, url_approver = approvals.parse_resume_url(target)
        ws.resume(job_id, key, token, approved, payload, approver or url_approver)
    else:
        job_id = target
        ws.resume(job_id, None, None, approved, payload, approver or "cli")
    output.info(f"{'approved' if approved else 'rejected'} job {job_id}; a worker continues it "
                "(the run that started it, or: wac worker)")


@job_app.command("approve")
def approve(
    target: str = typer.Argument(..., help="A job id, or a resume URL from get_resume_urls()."),
    value: Optional[str] = typer.Option(None, "--value", help="JSON value handed to the workflow."),
    approver: Optional[str] = typer.Option(None, "--approver", help="Who approves."),
) -> None:
    """Approve a job waiting in wait_for_approval()."""
    _decide(target, True, value, approver)


@job_app.command("reject")
def reject(
    target: str = typer.Argument(..., help="A job id, or a resume URL from get_resume_urls()."),
    value: Optional[str] = typer.Option(None, "--value", help="JSON value handed to the workflow."),
    approver: Optional[str] = typer.Option(None, "--approver", help="Who rejects."),
) -> None:
    """Reject a job waiting in wait_for_approval()."""
    _decide(target, False, value, approver)
