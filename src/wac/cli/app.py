"""The root typer app and the CLI's one error boundary."""

from __future__ import annotations

import importlib
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

# Each module registers its commands on ``app`` through a ``register(app)`` function.
_COMMAND_MODULES = ("script", "job", "worker", "metadata", "init", "workspace", "sync", "cache", "objects",
                    "server", "store", "schedule", "jobevolve")


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        module = importlib.import_module(f"wac.cli.{name}")
        module.register(app)


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
