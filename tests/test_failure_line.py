"""The one ``error:`` line of a run that did not succeed says each part once."""

from __future__ import annotations

from wac.cli.jobdoc import failure_line as _failure_line


def test_a_failed_run_says_its_status_error_name_and_message() -> None:
    assert _failure_line("failed", "ValueError", "boom") == "failed: ValueError: boom"
    assert _failure_line("failed", "TaskError", "job 1a2 failed: boom") == "failed: TaskError: job 1a2 failed: boom"


def test_a_cancelled_run_says_cancelled_once() -> None:
    assert _failure_line("cancelled", "Cancelled", "cancelled: cancelled by user") == "cancelled: cancelled by user"
    assert _failure_line("cancelled", "Cancelled", "") == "cancelled"
