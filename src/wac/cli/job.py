"""``wac job …``: inspect and steer jobs of the current workspace."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output

if TYPE_CHECKING:
    from wac.engine.backend import Backend
    from wac.engine.store.base import Job

job_app = typer.Typer(help="Inspect and steer jobs.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(job_app, name="job")


def _workspace() -> Backend:
    from wac.cli.prepare import open_workspace

    return open_workspace()


def _get(ws: Backend, job_id: str) -> Job:
    """The job, or a JobNotFoundError that names the workspace looked in and, when the job is in
    the repo's own store instead (previews always run there), the command that finds it."""
    from pathlib import Path

    from wac.errors import JobNotFoundError

    try:
        return ws.get_job(job_id)
    except JobNotFoundError:
        where = f"workspace '{ws.name}'" + (f" ({_redact(ws.url)})" if ws.url else "")
        hint = "list jobs with: wac job list"
        if ws.name != "local":
            from wac.engine.local_backend import local_store_path
            from wac.project import find_repo_root

            db = local_store_path(find_repo_root(Path.cwd()))
            if db.is_file():  # look, never create: a read makes no store
                from wac.engine.store import open_store

                store = open_store(f"sqlite:///{db}")
                try:
                    store.get_job(job_id)
                    hint = (f"it is in the repo's own workspace 'local' (where previews run): "
                            f"WAC_WORKSPACE=local wac job … {job_id}")
                except JobNotFoundError:
                    pass
                finally:
                    store.close()
        raise JobNotFoundError(f"no job {job_id} in {where}", hint=hint) from None


SHOWN_STATES = ("queued", "blocked", "running", "waiting", "suspended", "sleeping",
                "succeeded", "failed", "cancelled")


@job_app.command("list")
def list_jobs(
    status: str | None = typer.Option(None, "--status", help="Only jobs in this state: " + ", ".join(SHOWN_STATES) + "."),
    limit: int = typer.Option(20, "--limit", min=1, help="How many, newest first."),
    all_jobs: bool = typer.Option(False, "--all", help="Include child jobs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List recent jobs, newest first."""
    from wac.cli.jobdoc import job_document, shown_status
    from wac.errors import UsageError
    from wac.timeformat import duration

    if status is not None and status not in SHOWN_STATES:
        raise UsageError(f"unknown status {status!r}", hint="use one of: " + ", ".join(SHOWN_STATES))
    ws = _workspace()
    # ``sleeping`` is how people see a queued job parked until later: ask the store for queued ones
    query = "queued" if status == "sleeping" else status
    jobs = ws.list_jobs(root_only=not all_jobs, status=query, limit=limit)
    now = ws.now()
    shown = [(j, shown_status(ws, j, now)) for j in jobs]
    if status is not None:
        shown = [(j, st) for j, st in shown if st == status]
    if as_json:
        output.emit_json([{**job_document(j), "status": st} for j, st in shown])
        return
    from rich.table import Table

    table = Table(box=None, pad_edge=False)
    for col in ("ID", "STATUS", "SCRIPT", "CREATED", "DURATION", "ROUNDS"):
        table.add_column(col)
    for j, st in shown:
        dur = duration(j.finished_at - j.started_at) if j.finished_at and j.started_at else ""
        table.add_row(j.id, st, j.script_path, output.when(j.created_at), dur, str(j.rounds))
    from rich.console import Console

    Console(no_color=True, highlight=False, width=200).print(table)


@job_app.command("get")
def get(job_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Show one job: its state, times (local), duration, arguments and result or error."""
    from wac.cli.jobdoc import job_document, shown_status
    from wac.cli.jobevolve import lineage_fields, lineage_rows
    from wac.timeformat import duration

    ws = _workspace()
    job = _get(ws, job_id)
    status = shown_status(ws, job)
    percent = ws.job_progress(job_id)  # wmill.set_progress() (None: never set, or not kept)
    pending = _pending_approval(ws, job)
    lineage = lineage_fields(ws, job_id)  # version, rerun_of/rerun_from, migrated_from (issue 14)
    if as_json:
        doc = {**job_document(job), "status": status, "progress": percent, **lineage}
        if pending is not None:
            doc["approval"] = pending
        output.emit_json(doc)
        return
    took = duration(job.finished_at - job.started_at) if job.finished_at and job.started_at else None
    rows: list[tuple[str, Any]] = [
        ("id", job.id), ("script", job.script_path), ("status", status),
        ("created", output.when(job.created_at)), ("started", output.when(job.started_at)),
        ("finished", output.when(job.finished_at)), ("duration", took),
        ("rounds", job.rounds), ("parent", job.parent_id),
        ("progress", None if percent is None else f"{percent}%"),
    ]
    if status == "sleeping":
        rows.append(("wakes", output.when(job.scheduled_at)))
    if job.status == "suspended":
        rows.append(("waits for", f"approval '{job.suspended_key}' (wac job approve {job.id})"))
    if pending is not None:
        if pending.get("form"):
            rows.append(("form", json.dumps(pending["form"], ensure_ascii=False)))
        for name, link in pending["links"].items():
            rows.append((name, link))
    rows += lineage_rows(lineage)
    rows.append(("args", job.args))
    if job.status == "succeeded":
        rows.append(("result", job.result))
    if job.error:
        err = job.error
        rows.append(("error", f"{err.get('name', 'Error')}: {err.get('message', '')}"))
    for key, value in rows:
        if (value is None and key != "result") or value == "-":
            continue
        shown = json.dumps(value, ensure_ascii=False) if key in ("args", "result") else value
        typer.echo(f"{key:10} {shown}")


@job_app.command("result")
def result(job_id: str) -> None:
    """Print a finished job's result as JSON; exit 1 if it failed."""
    from wac.errors import WorkflowFailedError

    ws = _workspace()
    job = _get(ws, job_id)
    if job.status == "succeeded":
        output.emit_json(job.result)
        return
    if job.status in ("failed", "cancelled"):
        from wac.cli.jobdoc import failure_line

        err = job.error or {}
        raise WorkflowFailedError(f"job {job_id} "
                                  + failure_line(job.status, str(err.get("name", "Error")), str(err.get("message", ""))))
    raise WorkflowFailedError(f"job {job_id} has not finished (it is {job.status})",
                              hint="wait for it, or follow it with: wac job timeline " + job_id)


@job_app.command("logs")
def logs(
    job_id: str,
    raw: bool = typer.Option(False, "--raw", help="The log as stored, protocol lines (--- WAC: …, WM_WAC_STEP:) included."),
) -> None:
    """Print the logs of a job and of the jobs under it, each task's under its own header, in order."""
    from wac.cli.joblogs import render_logs

    ws = _workspace()
    for line in render_logs(ws, _get(ws, job_id), raw=raw):
        typer.echo(line)


@job_app.command("timeline")
def timeline(job_id: str, as_json: bool = typer.Option(False, "--json", help="Print JSON.")) -> None:
    """Each task, step and wait of a job: start, duration, and the job's replay count."""
    from wac.cli.jobdoc import shown_status
    from wac.cli.runview import entry_status
    from wac.timeformat import duration

    ws = _workspace()
    job = _get(ws, job_id)
    entries = ws.timeline(job_id)
    now = ws.now()
    if as_json:
        output.emit_json({
            "id": job.id, "status": shown_status(ws, job, now), "rounds": job.rounds, "replays": max(0, job.rounds - 1),
            "entries": [output.with_rfc3339({**e.__dict__, "status": entry_status(e, now)}) for e in entries],
        })
        return
    base = job.started_at or job.created_at
    typer.echo(f"{job.script_path}  {shown_status(ws, job, now)}  rounds {job.rounds} (replays {max(0, job.rounds - 1)})")
    for e in entries:
        start = f"+{duration(e.started_at - base)}" if e.started_at else "-"
        status = entry_status(e, now)
        dur = duration(e.finished_at - e.started_at) if e.finished_at and e.started_at else "…"
        took = f"wakes at {output.when(e.finished_at)}" if status == "sleeping" else f"took {dur}"
        typer.echo(f"  {e.key:28} {e.kind:9} {status:10} start {start:>10}  {took}")


@job_app.command("cancel")
def cancel(job_id: str, reason: str = typer.Option("cancelled by user", "--reason")) -> None:
    """Cancel a job and everything running under it."""
    ws = _workspace()
    _get(ws, job_id)
    n = ws.cancel(job_id, reason)
    output.info(f"cancelled {n} job(s)" if n else f"job {job_id} had already finished; nothing to cancel")


def _pending_approval(ws: Backend, job: Job) -> dict[str, Any] | None:
    """The approval a suspended job waits on: its form and fresh links (local stores only)."""
    if job.status != "suspended" or not job.suspended_key:
        return None
    info = ws.approval_info(job.id, job.suspended_key)
    if info is None:
        return None
    extra = info["form"] or {}
    return {"key": job.suspended_key, "form": extra.get("form"), "description": extra.get("description"),
            "timeout_at": info["timeout_at"], "links": info["urls"]}


def _decide(target: str, approved: bool, value: str | None, approver: str | None) -> None:
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
        url = approvals.parse_resume_url(target)
        job_id = url.job_id
        if url.action == approvals.CANCEL and approved:
            raise ArgsError("a cancel link only rejects", hint=f"wac job reject {target!r}, or use the resume link")
        if url.action == approvals.RESUME and not approved:
            raise ArgsError("a resume link only approves", hint=f"wac job approve {target!r}, or use the cancel link")
        _get(ws, job_id)
        ws.resume(job_id, url.key, url.token, approved, payload, approver or url.approver)
    else:
        job_id = target
        _get(ws, job_id)
        ws.resume(job_id, None, None, approved, payload, approver or "cli")
    output.info(f"{'approved' if approved else 'rejected'} job {job_id}; a worker continues it "
                "(the run that started it, or: wac worker)")


@job_app.command("approve")
def approve(
    target: str = typer.Argument(..., help="A job id, or a resume URL from get_resume_urls()."),
    value: str | None = typer.Option(None, "--value", help="JSON value handed to the workflow."),
    approver: str | None = typer.Option(None, "--approver", help="Who approves."),
) -> None:
    """Approve a job waiting in wait_for_approval()."""
    _decide(target, True, value, approver)


@job_app.command("reject")
def reject(
    target: str = typer.Argument(..., help="A job id, or a resume URL from get_resume_urls()."),
    value: str | None = typer.Option(None, "--value", help="JSON value handed to the workflow."),
    approver: str | None = typer.Option(None, "--approver", help="Who rejects."),
) -> None:
    """Reject a job waiting in wait_for_approval()."""
    _decide(target, False, value, approver)


def _redact(url: str) -> str:
    """A workspace URL as messages show it: never with a password."""
    from wac.workspaces import redact_url

    return redact_url(url)
