"""The one plan -> confirm -> apply rule of ``generate-metadata``, ``sync push`` and ``sync pull``.

1. The plan is data: it goes to stdout (inside the JSON document with ``--json``), the same for
   the three commands; ``--dry-run`` prints it and stops.
2. Applying needs ``--yes``, or a "y" typed at the prompt on a terminal (default: no).
3. Without a terminal and without ``--yes``, nothing is applied: the plan is shown, then
   ``error: not <verb>ing without confirmation`` with a hint, exit code 2.
4. Answering anything but yes: ``Nothing <verb>ed.``, exit code 1.
"""

from __future__ import annotations

import sys

import typer

from wac.cli import output


def confirm_apply(question: str, verb: str, yes: bool) -> None:
    """Return when the plan may be applied; otherwise exit as the rule above says."""
    from wac.errors import UsageError

    if yes:
        return
    stem = verb.removesuffix("e")
    if not sys.stdin.isatty():
        raise UsageError(
            f"not {stem}ing without confirmation: stdin is not a terminal",
            hint=f"pass --yes to {verb} as planned above (or --dry-run to only see the plan)",
        )
    if not typer.confirm(question, default=False, err=True):
        output.info(f"Nothing {stem}ed.")
        raise typer.Exit(1)  # a "no" is the user's answer, not a failure to report: no error line (rule 4)
