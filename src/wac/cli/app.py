"""The root typer app and the CLI's one error boundary."""

from __future__ import annotations

import os
import sys
from typing import Any

import typer

from wac.cli import output
from wac.errors import WacError

app = typer.Typer(
    name="wac",
    help="Durable workflow-as-code for Python, compatible with Windmill.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _register_all() -> None:
    """Every command of wac is registered here, and only here: a command module defines its
    commands and a ``register`` that adds them to the group it is given; importing a module adds
    nothing anywhere. The modules import their heavy dependencies inside each command, so the
    CLI stays lazy. Help lists plain commands first, then groups, each in this order."""
    from wac.cli import (
        cache,
        deployed,
        init,
        job,
        jobevolve,
        metadata,
        objects,
        schedule,
        script,
        server,
        store,
        sync,
        worker,
        workspace,
    )

    script.register(app)  # wac script preview
    deployed.register(script.script_app)  # wac script push | list | show | history | run
    job.register(app)  # wac job list | get | result | logs | timeline | cancel | approve | reject
    worker.register(app)
    metadata.register(app)  # wac generate-metadata (and rehash)
    init.register(app, script.script_app)  # wac init, wac script bootstrap
    workspace.register(app)
    sync.register(app)
    cache.register(app)
    objects.register(app)  # wac variable, wac resource
    server.register(app)
    store.register(app)
    schedule.register(app)
    jobevolve.register(job.job_app, script.script_app)  # wac job migrate | rerun, wac script check


_register_all()


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            shown = version("wac")
        except PackageNotFoundError:  # run from a source tree that is not installed
            shown = "unknown"
        print(f"wac {shown}")
        raise typer.Exit(0)


@app.callback()
def _root(
    show_version: bool = typer.Option(False, "--version", callback=_show_version, is_eager=True,
                                      help="Print wac's version and exit."),
    debug: bool = typer.Option(False, "--debug", help="On an error, print the traceback too (also: WAC_DEBUG=1)."),
) -> None:
    """Durable workflow-as-code for Python, compatible with Windmill."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``wac`` console script: runs the app inside the error boundary."""
    import click

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or bool(os.environ.get("WAC_DEBUG"))
    if "--debug" in args:
        args.remove("--debug")
    try:
        rv = app(args=args, prog_name="wac", standalone_mode=False)
    except WacError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        output.error(exc.message, exc.hint)
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        from wac.cli.signals import exit_code

        output.error("interrupted")
        sys.exit(exit_code(exc))
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:  # usage errors from the command-line parser
        _show_usage_error(exc)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the one place an unexpected error is turned into a message
        if debug:
            import traceback

            traceback.print_exc()
        output.error(
            f"unexpected {type(exc).__name__}: {exc}",
            "this is a bug in wac; run again with --debug for the traceback",
        )
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)


def _show_usage_error(exc: Any) -> None:
    """A click usage error in wac's one style: ``error: …`` then ``hint: …`` (the help to read)."""
    ctx = getattr(exc, "ctx", None)
    hint = None
    if ctx is not None:
        hint = f"see: {ctx.command_path} --help"
    message = exc.format_message()
    output.error(message[:1].lower() + message[1:] if message[:2] != message[:2].upper() else message, hint)
