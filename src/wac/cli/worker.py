"""``wac worker``: run workers against the current workspace's store until stopped."""

from __future__ import annotations

import signal

import typer

from wac.cli import output


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)


def worker(
    concurrency: int = typer.Option(4, "--concurrency", "-c", min=1, max=256, help="Rounds run at once."),
    tag: list[str] | None = typer.Option(None, "--tag", "-t", help="Take only jobs with this tag (repeatable)."),
    lease: float = typer.Option(10.0, "--lease", min=1.0, help="Seconds a claim lives without a heartbeat."),
) -> None:
    """Run jobs of the current workspace (by default the repo's embedded store) until Ctrl-C."""
    from wac.cli.prepare import open_workspace
    from wac.engine.worker import WorkerConfig
    from wac.errors import UsageError

    backend = open_workspace()
    tags = frozenset(tag) if tag else frozenset({"default"})
    w = backend.start_workers(WorkerConfig(slots=concurrency, tags=tags, lease_s=lease)) if backend.runs_workers else None
    if w is None:
        backend.close()
        raise UsageError(f"workspace '{backend.name}' runs its jobs on its own workers",
                         hint="wac worker serves embedded workspaces (the repo's .wac/wac.db or a sqlite:/// URL)")
    signal.signal(signal.SIGTERM, lambda *_: w.request_stop())
    signal.signal(signal.SIGHUP, lambda *_: w.request_stop())
    output.info(f"worker {w.worker_id} running {concurrency} slot(s), tags {', '.join(sorted(tags))} "
                f"on workspace '{backend.name}'; Ctrl-C stops")
    try:
        w.wait()
    except KeyboardInterrupt:
        pass
    finally:
        w.stop()
        backend.close()
    if w.fatal is not None:  # the store went away, is damaged or full, or a bug: one message, exit != 0
        raise w.fatal
    output.info(f"worker stopped after {w.rounds_run} round(s)")
