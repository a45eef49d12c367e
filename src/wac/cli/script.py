"""``wac script preview``: run a local script on the embedded engine (``--watch``: on every save).

The commands on deployed scripts (push, list, show, history, run) live in :mod:`wac.cli.deployed`;
both follow a run to its end with :func:`follow_run`.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import typer

from wac.cli import output
from wac.errors import ArgsError, WacError

if TYPE_CHECKING:
    from wac.cli.runview import RunView
    from wac.engine.backend import Backend
    from wac.engine.store.base import Job
    from wac.engine.worker import Worker

script_app = typer.Typer(help="Preview, deploy and run scripts.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``wac script`` group (``preview``; the other modules add theirs through app.py)."""
    app.add_typer(script_app, name="script")


@script_app.command("preview")
def preview(
    path: str = typer.Argument(..., help="A .py file, a folder-layout x__mod/script.py, or f/folder/name."),
    data: str | None = typer.Option(None, "-d", "--data", help="Arguments: JSON object or @file.json."),
    as_json: bool = typer.Option(False, "--json", help="Print the whole job (status, result, error) as JSON."),
    skip_sleeps: bool = typer.Option(False, "--skip-sleeps", help="End sleep() at once."),
    approve: bool = typer.Option(False, "--approve", help="Approve every approval the run waits on."),
    reject: bool = typer.Option(False, "--reject", help="Reject every approval the run waits on."),
    watch: bool = typer.Option(False, "--watch", "-w", help="Run again on every save of the script or its modules."),
    workers: int = typer.Option(4, "--workers", min=1, max=64, help="Rounds run at once."),
    wmill_sdk: bool = typer.Option(False, "--wmill-sdk", hidden=True, help="Run rounds with the real wmill package."),
    index_url: str | None = typer.Option(None, "--index-url", help="Package index for the script's environment (env WAC_INDEX_URL)."),
    find_links: list[str] | None = typer.Option(None, "--find-links", help="Wheel folder/URL for the script's environment (env WAC_FIND_LINKS)."),
    no_index: bool = typer.Option(False, "--no-index", help="Install the environment from --find-links only (offline)."),
) -> None:
    """Run the LOCAL file on the embedded engine; the result goes to stdout."""
    from wac.cli.prepare import use_index
    from wac.errors import UsageError

    use_index(index_url, find_links, no_index)

    if approve and reject:
        raise UsageError("--approve and --reject exclude each other")
    from wac.engine.rounds.zygote_client import start_early

    start_early()  # the round processes' parent boots on the other core while the script is prepared
    from wac.cli.args import parse_data
    from wac.cli.prepare import open_workspace, prepare
    from wac.cli.signals import interrupt_on_termination
    from wac.engine.worker import WorkerConfig

    interrupt_on_termination()  # SIGTERM/SIGHUP give the job back as Ctrl-C does
    args = parse_data(data)
    decision = True if approve else False if reject else None
    config = WorkerConfig(slots=workers, skip_sleeps=skip_sleeps, real_wmill=wmill_sdk,
                          objects_workspace=_objects_workspace())
    if watch:
        _watch(path, args, config, as_json=as_json, decision=decision)
        return
    from wac.cli.lint import start_lint

    worker = None
    try:
        ref, bundle, check_args = prepare(path, args)
        lint = start_lint(ref.local_path, bundle.files[bundle.entry])  # beside the engine's start-up
        backend = open_workspace(local=True)  # preview always runs on the repo's embedded engine
        worker = backend.start_workers(config)  # zygote first: it warms up while the job is written
        bundle = check_args()  # pinned with its environment's lock
        job_id = backend.run_preview(bundle, ref.remote_path, args)
        lint()  # printed before the run's own output; the run has started meanwhile
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM or SIGHUP before the run was followed
        from wac.cli.signals import exit_code

        if worker is not None:
            worker.stop()  # gives back whatever it had started
        output.error("interrupted while starting the run",
                     "see it with: wac job list   (a run already submitted resumes with: wac worker)")
        raise typer.Exit(exit_code(exc)) from None
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    follow_run(backend, job_id, worker, as_json=as_json, decision=decision)


def _objects_workspace() -> str | None:
    """The current workspace, when it is not the repo's embedded one the preview runs on: the
    preview's wmill client reads variables and resources there after the repo's own files."""
    from pathlib import Path

    from wac.errors import WacError
    from wac.project import find_repo_root
    from wac.workspaces import LOCAL, get_workspace

    try:
        name = get_workspace(None, find_repo_root(Path.cwd())).name
    except WacError:  # a broken workspace config must not stop a local preview
        return None
    return None if name == LOCAL else name


def _watch(path: str, args: dict[str, Any], config: Any, *, as_json: bool, decision: bool | None) -> None:
    """Preview, then again on each save of the script or its modules; a save cancels the run in flight."""
    from pathlib import Path

    import watchfiles

    from wac.cli.lint import start_lint
    from wac.cli.prepare import open_workspace, prepare, refuse_other_languages
    from wac.errors import WacError
    from wac.project import find_repo_root, resolve_script

    ref = resolve_script(find_repo_root(Path.cwd()), path)
    refuse_other_languages(ref)
    main_file = str(ref.main_file.resolve())
    mod_dir = str(ref.module_dir.resolve())
    watched = [main_file, mod_dir + "/"]
    changed = threading.Event()
    stop = threading.Event()

    def ours(_change: Any, changed_path: str) -> bool:
        return changed_path == main_file or changed_path.startswith(mod_dir + os.sep)

    def watcher() -> None:
        # Watch the folder, not the file: editors save by writing a new file and renaming it over
        # the old one, which ends a watch on the file itself; the module folder may appear later.
        for _changes in watchfiles.watch(os.path.dirname(main_file), watch_filter=ours, stop_event=stop,
                                         debounce=100, step=20, rust_timeout=200, yield_on_timeout=False,
                                         raise_interrupt=False):
            changed.set()

    threading.Thread(target=watcher, name="wac-watch", daemon=True).start()
    backend = open_workspace(local=True)
    worker = backend.start_workers(config)
    shown = [os.path.relpath(p, ref.repo_root) for p in watched]
    output.info(f"watching {shown[0]} and {shown[1]}; Ctrl-C stops")
    try:
        while True:
            changed.clear()
            try:
                ref, bundle, check_args = prepare(path, args)
                lint = start_lint(ref.local_path, bundle.files[bundle.entry])
                bundle = check_args()
                job_id = backend.run_preview(bundle, ref.remote_path, args)
                lint()
                follow_run(backend, job_id, None, as_json=as_json, decision=decision, interrupt=changed.is_set)
            except typer.Exit:  # Ctrl-C or a signal while a run was followed (the only Exit of follow_run)
                output.info("stopped watching")
                raise
            except WacError as exc:  # the run failed or could not start: said; wait for the next save
                output.error(exc.message, exc.hint)
            if not changed.is_set():
                output.info("waiting for changes…")
            changed.wait()
            output.info("change detected: running again")
    except KeyboardInterrupt:
        output.info("stopped watching")
    finally:
        stop.set()
        worker.stop()


FOLLOW_POLL = 0.02  # seconds between two reads of a followed run's root job, at least,
FOLLOW_QUICK = 0.25  # once the run has been followed this long (a short run's end shows at once)


def follow_run(
    backend: Backend, job_id: str, worker: Worker | None, *, as_json: bool, decision: bool | None,
    interrupt: Callable[[], bool] | None = None,
) -> None:
    """Watch a run to its end, then print its result (exit 1 when it did not succeed).

    ``worker``: workers running in this process (stopped at the end), or None. ``interrupt``:
    polled while waiting; when it returns True the run is cancelled and this returns at once.
    """
    asked: set[tuple[str, str]] = set()
    job = None
    looked_below = 0.0  # when the tree under the root was last searched for a waiting approval
    checked = 0.0
    started = time.monotonic()
    try:
        from wac.cli.runview import RunView  # inside the try: a signal may land while rich loads
        from wac.engine.store.base import TERMINAL

        with RunView(backend, job_id, live=output.is_interactive() and not as_json) as view:
            while True:
                since = backend.change_token()
                checked = time.monotonic()
                job, redrawn = view.update()
                if job.status in TERMINAL:
                    break
                if interrupt is not None and interrupt():
                    backend.cancel(job_id, "superseded by a newer save (--watch)")
                    output.info(f"cancelled job {job_id}: the script changed")
                    return
                # a nested workflow may wait too: look below the root (reading every child of each
                # waiting job) when the view is redrawn, at most twice a second
                look = job.status == "suspended" or (redrawn and time.monotonic() - looked_below >= 0.5)
                if look:
                    looked_below = time.monotonic()
                for waiting in _suspended(backend, job) if look else []:
                    marker = (waiting.id, waiting.suspended_key or "")
                    if marker in asked:
                        continue
                    asked.add(marker)
                    _answer_approval(backend, waiting, decision, view)
                if worker is not None:
                    worker.raise_if_failed()
                backend.wait_for_change(job_id, 0.1 if not redrawn else 0.5, since)
                # every commit of the run ends that wait (several per task): past its first moments,
                # read the root at most every 20 ms, so following a run of a thousand tasks does
                # not compete with it
                if checked - started >= FOLLOW_QUICK:
                    time.sleep(max(0.0, checked + FOLLOW_POLL - time.monotonic()))
    except KeyboardInterrupt as exc:
        from wac.cli.signals import exit_code

        if worker is not None:
            worker.stop()
            output.error(
                f"interrupted; job {job_id} stays in the workspace",
                "resume it with: wac worker   (or cancel it: wac job cancel " + job_id + ")",
            )
        else:
            output.error(f"interrupted; job {job_id} goes on in workspace '{backend.name}'",
                         "follow it with: wac job get " + job_id + "   (or cancel it: wac job cancel " + job_id + ")")
        raise typer.Exit(exit_code(exc)) from None
    except BaseException:
        if worker is not None:
            worker.stop()
        raise
    if worker is not None:
        worker.stop()
    _print_result(job, as_json)


def _suspended(backend: Backend, job: Job) -> list[Job]:
    found = [job] if job.status == "suspended" else []
    if job.status in ("waiting", "suspended"):
        for child in backend.children(job.id):
            if child.status in ("waiting", "suspended"):
                found += _suspended(backend, child)
    return found


def _form_defaults(backend: Backend, job_id: str, key: str | None) -> Any:
    """An approval with a form is approved with the form's defaults (a form they do not fill is
    refused by the store: answer it with `wac job approve ID --value JSON` or on its page)."""
    from wac.engine.local_backend import LocalBackend

    if not isinstance(backend, LocalBackend) or key is None:  # a Windmill server checks the form itself
        return None
    from wac.engine import approvalform

    info = backend.store.get_approval(job_id, key)
    return approvalform.defaults(approvalform.schema_of(info.form if info is not None else None))


def _answer_approval(backend: Backend, job: Job, decision: bool | None, view: RunView) -> None:
    key = job.suspended_key
    value: Any = None
    info = None
    if key is not None and decision is None and output.is_interactive() and sys.stdin.isatty():
        info = backend.approval_info(job.id, key)  # None: the backend cannot prompt (a Windmill server)
    if key is not None and info is not None:
        from wac.cli import approvalprompt

        def still_waiting() -> bool:
            now = backend.get_job(job.id)
            return bool(now.status == "suspended" and now.suspended_key == key)

        with view.pause():
            try:
                decision, value = approvalprompt.ask(job, key, info, still_waiting)
            except approvalprompt.Decided:
                now = backend.get_job(job.id)
                output.info(f"approval '{key}' of job {job.id} was answered elsewhere or timed out "
                            f"(job now {now.status}); going on")
                return
            except EOFError:
                decision = None
    if decision is None:
        from wac.engine.local_backend import LocalBackend
        from wac.workspaces import current_name

        # the preview runs on the repo's own store: name it when the current workspace is another
        root = backend.root if isinstance(backend, LocalBackend) else None
        prefix = "" if current_name(repo_root=root) == backend.name else f"WAC_WORKSPACE={backend.name} "
        output.info(
            f"waiting for approval '{key}' of job {job.id}: run `{prefix}wac job approve {job.id}` "
            f"or `{prefix}wac job reject {job.id}`"
        )
        return
    if decision and value is None:
        value = _form_defaults(backend, job.id, key)
    try:
        backend.resume(job.id, key, None, decision, value, "preview")
    except ArgsError:  # a value that does not fit the approval's form: said once, the run stays waiting
        raise
    except WacError as exc:  # answered elsewhere between the last look and this answer
        output.info(f"approval '{key}' of job {job.id} was not taken: {exc.message}")
        return
    output.info(f"{'approved' if decision else 'rejected'} '{key}' of job {job.id}")


def _print_result(job: Any, as_json: bool) -> None:
    from wac.cli.jobdoc import job_document
    from wac.timeformat import duration

    took = duration(job.finished_at - job.started_at) if job.finished_at and job.started_at else "-"
    output.info(f"{job.script_path} {job.status} in {took} (job {job.id}, {job.rounds} round{'' if job.rounds == 1 else 's'})")
    if as_json:
        output.emit_json(job_document(job))
    elif job.status == "succeeded":
        output.emit_json(job.result)
    if job.status != "succeeded":
        from wac.cli.jobdoc import failure_line
        from wac.errors import WorkflowFailedError

        err = job.error or {}
        raise WorkflowFailedError(failure_line(job.status, str(err.get("name", "Error")), str(err.get("message", ""))),
                                  hint=f"see its log with: wac job logs {job.id}")

