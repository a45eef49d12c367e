"""The SDK's replay runtime (stdlib only).

The public primitives are re-exported by :mod:`wac`; this package adds what the engine uses:
:func:`run_round`, :class:`RoundHost`, and the errors a round can raise.
"""

from __future__ import annotations

from wac.errors import NonDeterminismError
from wac.sdk.failures import NotInWorkflowError, StepKeyError, TaskError, TaskOptionError
from wac.sdk.jsonvalue import NotJsonSerializableError
from wac.sdk.primitives import (
    get_approval_urls,
    get_resume_urls,
    parallel,
    sleep,
    step,
    wait_for_approval,
    workflow,
)
from wac.sdk.runtime import run_round
from wac.sdk.task import TaskDef, task, task_flow, task_script

TYPE_CHECKING = False
if TYPE_CHECKING:
    from wac.sdk.host import RoundHost


def __getattr__(name: str) -> object:
    # RoundHost is a typing.Protocol: imported on first use so ``import wac`` skips ``typing``.
    if name == "RoundHost":
        from wac.sdk.host import RoundHost

        return RoundHost
    raise AttributeError(f"module 'wac.sdk' has no attribute {name!r}")


__all__ = [
    "NonDeterminismError",
    "NotInWorkflowError",
    "NotJsonSerializableError",
    "RoundHost",
    "StepKeyError",
    "TaskDef",
    "TaskError",
    "TaskOptionError",
    "get_approval_urls",
    "get_resume_urls",
    "parallel",
    "run_round",
    "sleep",
    "step",
    "task",
    "task_flow",
    "task_script",
    "wait_for_approval",
    "workflow",
]
