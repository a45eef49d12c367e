"""The one plan -> render -> confirm -> apply -> summary run (wac/cli/confirm.py) that
generate-metadata, sync push and sync pull share: its steps, in order, for each way a run goes."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from typing import Any

import click
import pytest

from wac.cli.confirm import Applied, run_planned
from wac.errors import MetadataError, UsageError


@dataclass
class Recorder:
    """A PlannedRun that says which step ran, with a plan of ``pending`` changes."""

    pending_changes: bool = True
    stop_in_review: bool = False
    error: MetadataError | None = None
    steps: list[str] = field(default_factory=list)
    doc: dict[str, Any] = field(default_factory=lambda: {"plan": ["~ f/a/b"]})

    def render(self) -> str:
        self.steps.append("render")
        return "~ f/a/b\n"

    def review(self) -> bool:
        self.steps.append("review")
        return self.stop_in_review

    def pending(self) -> bool:
        self.steps.append("pending")
        return self.pending_changes

    def unapplied(self) -> None:
        self.steps.append("unapplied")

    def question(self) -> str:
        self.steps.append("question")
        return "Apply?"

    def apply(self) -> Applied:
        self.steps.append("apply")
        return Applied({"done": 1}, ["Applied 1 change in 3ms"], self.error)


class _Stdin(io.StringIO):
    def __init__(self, text: str, tty: bool) -> None:
        super().__init__(text)
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Any:
    def use(text: str = "", tty: bool = False) -> None:
        monkeypatch.setattr("sys.stdin", _Stdin(text, tty))

    return use


def test_with_yes_the_steps_run_in_order_and_the_summary_ends_the_run(capsys: Any, stdin: Any) -> None:
    stdin()
    run = Recorder()
    run_planned(run, verb="push", dry_run=False, yes=True, json_out=False)
    assert run.steps == ["render", "review", "pending", "question", "apply"]
    out, err = capsys.readouterr()
    assert out == "~ f/a/b\n" and err.strip() == "Applied 1 change in 3ms"


def test_json_is_one_document_with_the_plan_and_the_result(capsys: Any, stdin: Any) -> None:
    stdin()
    run = Recorder()
    run_planned(run, verb="push", dry_run=False, yes=True, json_out=True)
    out, _ = capsys.readouterr()
    assert json.loads(out) == {"plan": ["~ f/a/b"], "result": {"done": 1}}
    assert "render" not in run.steps


def test_a_dry_run_and_a_plan_with_nothing_to_apply_end_unapplied_without_asking(capsys: Any, stdin: Any) -> None:
    stdin()
    dry = Recorder()
    run_planned(dry, verb="push", dry_run=True, yes=False, json_out=True)
    assert dry.steps == ["review", "unapplied"]
    assert json.loads(capsys.readouterr().out) == {"plan": ["~ f/a/b"]}
    nothing = Recorder(pending_changes=False)
    run_planned(nothing, verb="push", dry_run=False, yes=False, json_out=False)
    assert nothing.steps == ["render", "review", "pending", "unapplied"]


def test_without_a_terminal_and_without_yes_nothing_is_applied_and_json_still_shows_the_plan(
    capsys: Any, stdin: Any
) -> None:
    stdin(tty=False)
    run = Recorder()
    with pytest.raises(UsageError) as info:
        run_planned(run, verb="pull", dry_run=False, yes=False, json_out=True)
    assert info.value.message == "not pulling without confirmation: stdin is not a terminal"
    assert info.value.exit_code == 2 and "apply" not in run.steps
    assert json.loads(capsys.readouterr().out) == {"plan": ["~ f/a/b"]}


def test_no_at_the_prompt_says_nothing_was_done_and_exits_1(capsys: Any, stdin: Any) -> None:
    stdin("n\n", tty=True)
    run = Recorder()
    with pytest.raises(click.exceptions.Exit) as info:
        run_planned(run, verb="update", dry_run=False, yes=False, json_out=False)
    assert info.value.exit_code == 1 and "apply" not in run.steps
    assert "Nothing updated." in capsys.readouterr().err


def test_yes_at_the_prompt_applies(capsys: Any, stdin: Any) -> None:
    stdin("y\n", tty=True)
    run = Recorder()
    run_planned(run, verb="update", dry_run=False, yes=False, json_out=False)
    assert run.steps[-1] == "apply"


def test_a_run_that_ends_in_review_asks_nothing_and_applies_nothing(stdin: Any) -> None:
    stdin()
    run = Recorder(stop_in_review=True)
    run_planned(run, verb="pull", dry_run=False, yes=True, json_out=False)
    assert run.steps == ["render", "review"]


def test_an_error_of_the_apply_is_raised_after_its_summary_and_the_json_document(capsys: Any, stdin: Any) -> None:
    stdin()
    run = Recorder(error=MetadataError("1 item could not be updated"))
    with pytest.raises(MetadataError):
        run_planned(run, verb="update", dry_run=False, yes=True, json_out=True)
    out, err = capsys.readouterr()
    assert json.loads(out)["result"] == {"done": 1} and "Applied 1 change" in err
