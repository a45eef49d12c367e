"""Failures a workflow body can see: :class:`TaskError`, its ``__wmill_error`` marker, usage errors.

A failed task or ``step()`` is stored in the checkpoint as a failure marker (the same envelope
``wmill`` uses); awaiting that key raises :class:`TaskError` rebuilt from the marker, in the round
that produced it and in every replay alike, so an ``except`` branches the same way each time.
"""

from __future__ import annotations

import sys

from wac.errors import WacError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any


class TaskError(Exception):
    """Raised when a task, ``step()`` or approval failed.

    Attributes:
        step_key: The checkpoint key of the failed step.
        child_job_id: The id of the failed child job, or ``None`` for a ``step()``.
        result: ``{"error": {"name", "message", "stack"?, "extra"?}}``.
    """

    def __init__(
        self,
        message: str,
        *,
        step_key: str = "",
        child_job_id: str | None = None,
        result: Any = None,
    ) -> None:
        super().__init__(message)
        self.step_key = step_key
        self.child_job_id = child_job_id
        self.result = result


class NotInWorkflowError(WacError, RuntimeError):
    """This can only be called inside a @workflow."""

    hint = "call it from the body of a function decorated with @workflow, run by the wac engine"


class StepKeyError(WacError, RuntimeError):
    """The step key cannot be used."""

    hint = "give each wait_for_approval() its own key: non-empty, without '/', '\\' or dot segments"


class TaskOptionError(WacError, ValueError):
    """A task option is not valid."""

    hint = 'e.g. @task(retry={"attempts": 3, "delay": 30, "multiplier": 2, "max_delay": 600})'


def is_marker(value: Any) -> bool:
    """Whether a stored value is a failure marker."""
    return isinstance(value, dict) and bool(value.get("__wmill_error"))


def task_error_from_marker(marker: dict[str, Any], fallback_message: str) -> TaskError:
    """The :class:`TaskError` every round raises for a stored failure marker."""
    return TaskError(
        marker.get("message") or fallback_message,
        step_key=marker.get("step_key", ""),
        child_job_id=marker.get("child_job_id"),
        result=marker.get("result"),
    )


def safe_str(obj: object) -> str:
    """``str(obj)``, which may itself raise on the failing side's objects."""
    try:
        return str(obj)
    except Exception:
        return f"<unrepresentable {type(obj).__name__}>"


def _stack(exc: BaseException) -> str:
    """The failed body's frames, minus the SDK frame that called into it (as the executor does)."""
    import traceback

    tb = sys.exc_info()[2]
    if tb is None:
        try:
            tb = exc.__traceback__
        except Exception:
            return ""
    try:
        return "".join(traceback.format_tb(tb)[1:]).strip()
    except Exception:
        return ""


def _extra(exc: BaseException) -> dict[str, Any]:
    """JSON-safe custom attributes of an exception (its ``__dict__``), one by one."""
    import json

    try:
        raw = getattr(exc, "__dict__", None)
    except Exception:
        return {}
    if type(raw) is not dict:
        return {}
    extra: dict[str, Any] = {}
    for key, value in list(raw.items()):
        if type(key) not in (str, int, float, bool, type(None)):
            continue
        try:
            extra.update(
                json.loads(json.dumps({key: value}, default=safe_str), parse_constant=lambda c: c)
            )
        except (TypeError, ValueError, RecursionError):
            pass
    return extra


def step_error_marker(key: str, exc: BaseException) -> dict[str, Any]:
    """The failure marker of a ``step()`` whose body raised ``exc`` (call inside the ``except``)."""
    error: dict[str, Any] = {"name": type(exc).__name__, "message": safe_str(exc)}
    stack = _stack(exc)
    if stack:
        error["stack"] = stack
    extra = _extra(exc)
    if extra:
        error["extra"] = extra
    return {"__wmill_error": True, "message": safe_str(exc), "step_key": key, "result": {"error": error}}
