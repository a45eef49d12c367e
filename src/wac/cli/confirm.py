"""The one plan -> render -> confirm -> apply -> summary run of ``generate-metadata``, ``sync push``
and ``sync pull``.

The rule they share:

1. The plan is data: it goes to stdout (inside the JSON document with ``--json``), the same for
   the three commands; ``--dry-run`` prints it and stops.
2. Applying needs ``--yes``, or a "y" typed at the prompt on a terminal (default: no).
3. Without a terminal and without ``--yes``, nothing is applied: the plan is shown, then
   ``error: not <verb>ing without confirmation`` with a hint, exit code 2.
4. Answering anything but yes: ``Nothing <verb>ed.``, exit code 1.
5. After applying, the JSON document carries the plan and the ``result``, and one summary line
   (or a few) ends the run on stderr; an error of the run is raised after its summary.

A command describes its run as a :class:`PlannedRun`; :func:`run_planned` walks it through
the steps in that order, so the three commands cannot drift apart.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import typer

from wac.cli import output

if TYPE_CHECKING:
    from wac.errors import WacError


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


@dataclass
class Applied:
    """What applying did: ``result`` for the JSON document (None: the document keeps none), the
    summary lines for stderr, and the error the run ends with after them (None: success)."""

    result: dict[str, Any] | None
    summary: list[str] = field(default_factory=list)
    error: WacError | None = None


class PlannedRun(Protocol):
    """One run of a plan -> confirm -> apply command, step by step (see :func:`run_planned`)."""

    doc: dict[str, Any]  # the JSON document: the plan; ``result`` is added after applying

    def render(self) -> str:
        """The plan as people read it (stdout; not printed with ``--json``)."""

    def review(self) -> bool:
        """After the plan is shown: notes and warnings on stderr; True when the run ends here
        (e.g. a pull that would lose local edits), having said why or raised."""

    def pending(self) -> bool:
        """Whether there is anything to apply."""

    def unapplied(self) -> None:
        """The end of a dry run or of a run with nothing to apply: its summary (after the JSON
        document), and what even such a run records (the sync state); may raise (``--check``)."""

    def question(self) -> str:
        """The confirmation question asked on a terminal."""

    def apply(self) -> Applied:
        """Apply the plan (after confirmation), printing per-item lines as it goes."""


def run_planned(run: PlannedRun, *, verb: str, dry_run: bool, yes: bool, json_out: bool) -> None:
    """plan -> render -> confirm -> apply -> summary, the same for every such command."""
    if not json_out:
        output.plan_text(run.render())
    if run.review():
        return
    if dry_run or not run.pending():
        if json_out:
            output.emit_json(run.doc)
        run.unapplied()
        return
    try:
        confirm_apply(run.question(), verb, yes)
    except BaseException:
        if json_out:
            output.emit_json(run.doc)  # the plan, alone: nothing was applied
        raise
    applied = run.apply()
    if json_out:
        if applied.result is not None:
            run.doc["result"] = applied.result
        output.emit_json(run.doc)
    for line in applied.summary:
        output.info(line)
    if applied.error is not None:
        raise applied.error
