"""How a round ends early: control-flow signals, all ``BaseException``.

They derive from ``BaseException`` so a broad ``except Exception`` in a workflow body cannot
swallow a suspension or turn a failed child task into a success (as in ``wmill``).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


class RoundSignal(BaseException):
    """Base of the SDK's internal control flow."""


class Suspend(RoundSignal):
    """The round ends with ``outcome`` (dispatch, inline_checkpoint, sleep or approval)."""

    def __init__(self, outcome: dict[str, Any]) -> None:
        super().__init__(outcome.get("type"))
        self.outcome = outcome


class StepComplete(RoundSignal):
    """Child mode: the executed task returned ``value`` (already JSON round-tripped)."""

    def __init__(self, value: Any) -> None:
        super().__init__("complete")
        self.value = value


class StepFailure(RoundSignal):
    """Child mode: the executed task raised ``exc``; the child job fails with it."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__(type(exc).__name__)
        self.exc = exc


def log(line: str) -> None:
    """A round's progress line on stdout, as ``wmill`` prints it (the job log)."""
    print(line)
