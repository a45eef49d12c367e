"""How a round ends: its outcome (one of five dicts, the ``wmill`` SDK's wire format) and the
control-flow signals that carry it out of the body, all ``BaseException``.

The signals derive from ``BaseException`` so a broad ``except Exception`` in a workflow body
cannot swallow a suspension or turn a failed child task into a success (as in ``wmill``).

The outcomes are plain dicts on the wire, exactly as ``wmill``'s ``_run_workflow`` returns them
(spec §4); the TypedDicts below only name their keys for the type checker (this module imports
no ``typing`` at run time: rounds start fast). The engine dispatches on ``outcome["type"]``:

=====================  =======================================================================
``complete``           the job succeeds with ``result``
``dispatch``           one child job per entry of ``steps`` (``mode``: sequential or parallel;
                       ``max_in_flight``: how many run at once, from ``parallel(concurrency=)``)
``inline_checkpoint``  ``step()``'s value stored under ``key``; the job is re-queued
``sleep``              the job waits ``seconds`` (a durable timer; no process stays alive)
``approval``           the job is suspended on ``key`` until approved, rejected or timed out
=====================  =======================================================================

A dry round (:mod:`wac.sdk.dryrun`) may also end with ``{"type": "step", "key"}``: a ``step()``
it did not run. It never reaches the engine.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any, Literal, NotRequired, TypedDict

    # Task options a dispatched step carries, under Windmill's names.
    OptionKey = Literal["timeout", "tag", "cache_ttl", "priority", "concurrent_limit", "concurrency_key",
                        "concurrency_time_window_s"]

    class DispatchStep(TypedDict, total=False):
        """One child to create, as ``wmill`` sends it (task options under Windmill's names)."""

        name: str  # the task or script name, for humans
        script: str  # "./x.py", "f/a/b" or the task's name
        args: dict[str, Any]
        key: str  # its step key in the parent
        dispatch_type: str  # "inline" (a @task), "script" or "flow"
        timeout: int
        tag: str
        cache_ttl: int
        priority: int
        concurrent_limit: int
        concurrency_key: str
        concurrency_time_window_s: int

    class CompleteOutcome(TypedDict):
        type: Literal["complete"]
        result: Any

    class DispatchOutcome(TypedDict):
        type: Literal["dispatch"]
        mode: Literal["sequential", "parallel"]
        steps: list[DispatchStep]
        max_in_flight: NotRequired[int]

    class InlineCheckpointOutcome(TypedDict):
        type: Literal["inline_checkpoint"]
        key: str
        result: Any  # the JSON value, or a failure marker
        started_at: str  # ISO 8601, UTC
        duration_ms: int

    class SleepOutcome(TypedDict):
        type: Literal["sleep"]
        key: str
        seconds: int

    class ApprovalOutcome(TypedDict):
        type: Literal["approval"]
        key: str
        timeout: float | None  # seconds
        form: dict[str, Any] | None
        skin: str | None
        description: str | dict[str, Any] | None
        self_approval_disabled: NotRequired[bool]

    class DryStepOutcome(TypedDict):
        type: Literal["step"]
        key: str

    # How a round ends, as the engine receives it.
    Outcome = CompleteOutcome | DispatchOutcome | InlineCheckpointOutcome | SleepOutcome | ApprovalOutcome
    # What a Suspend carries out of the body (every outcome but complete; dry rounds add "step").
    SuspendOutcome = DispatchOutcome | InlineCheckpointOutcome | SleepOutcome | ApprovalOutcome | DryStepOutcome

OUTCOME_TYPES = frozenset({"complete", "dispatch", "inline_checkpoint", "sleep", "approval"})


class RoundSignal(BaseException):
    """Base of the SDK's internal control flow."""


class Suspend(RoundSignal):
    """The round ends with ``outcome`` (dispatch, inline_checkpoint, sleep or approval)."""

    def __init__(self, outcome: SuspendOutcome) -> None:
        super().__init__(outcome["type"])
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
