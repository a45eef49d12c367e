"""The state of the round being run, reached through context variables.

``_round`` holds the :class:`RoundState` while :func:`wac.sdk.run_round` runs a body; SDK calls
dispatch through it. ``_in_task_body`` is set while a task body runs (in its child job, or nested in
place): there calls run in place instead. It is a separate variable, not a flag on the state,
because under ``asyncio.gather`` the workflow body keeps replaying beside the task body and its own
calls must still park.
"""

from __future__ import annotations

from contextvars import ContextVar

from wac.sdk.keys import KeyAllocator

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Coroutine
    from typing import Any

    from wac.sdk.host import RoundHost
    from wac.sdk.outcomes import DispatchOutcome, DispatchStep

_round: ContextVar[RoundState | None] = ContextVar("wac_round", default=None)
_in_task_body: ContextVar[str | None] = ContextVar("wac_in_task_body", default=None)


def current_round() -> RoundState | None:
    """The round being run, also inside a task body."""
    return _round.get()


def dispatch_round() -> RoundState | None:
    """The round SDK calls dispatch through, or None where they run in place."""
    if _in_task_body.get():
        return None
    return _round.get()


def task_body_kind() -> str | None:
    """``"async"``/``"sync"`` inside a task body, else None."""
    return _in_task_body.get()


class RoundState:
    """Everything one round knows: the checkpoint, its keys, what it is about to dispatch."""

    def __init__(self, checkpoint: dict[str, Any], host: RoundHost | None = None) -> None:
        completed = checkpoint.get("completed_steps") or {}
        self.completed: dict[str, Any] = completed if isinstance(completed, dict) else {}
        self.executing_key: str | None = checkpoint.get("_executing_key")
        # A dry round (compatibility check of new code): no step body runs; the first step
        # without a stored value ends the round like a task call would.
        self.dry = bool(checkpoint.get("_dry"))
        order = checkpoint.get("_key_order")
        self.key_order: list[str] | None = list(order) if isinstance(order, list) else None
        self.host = host
        self.keys = KeyAllocator()
        self.pending: list[DispatchStep] = []
        self.max_in_flight: int | None = None
        self.last_dispatch: DispatchOutcome | None = None  # a sticky parent's last parked dispatch
        self._handed_out: list[Coroutine[Any, Any, Any]] = []
        self._failures: list[tuple[Coroutine[Any, Any, Any], BaseException]] = []
        # Child mode: the call of the executing key, the task running it, and a future parked
        # calls wait on until that call has been made.
        self.exec_call: tuple[str, Callable[..., Any], dict[str, Any]] | None = None
        self.exec_task: asyncio.Future[Any] | None = None
        self.exec_ready: asyncio.Future[None] | None = None
        self.parked_key: str | None = None
        self.watchdog: asyncio.Future[None] | None = None

    @property
    def child(self) -> bool:
        return self.executing_key is not None

    def track(self, coro: Coroutine[Any, Any, Any]) -> Coroutine[Any, Any, Any]:
        """Remember a coroutine handed to the body, to close it if it is never awaited."""
        self._handed_out.append(coro)
        return coro

    def track_failure(self, coro: Coroutine[Any, Any, Any], error: BaseException) -> Coroutine[Any, Any, Any]:
        """Like :meth:`track`, for a call that raises ``error`` when awaited."""
        self._failures.append((coro, error))
        return self.track(coro)

    def unobserved_failure(self) -> BaseException | None:
        """The error of the first failed task call the body never awaited (fire and forget)."""
        for coro, error in self._failures:
            if _unstarted(coro):
                return error
        return None

    def close_unawaited(self) -> None:
        """Close handed-out coroutines nobody started (no "never awaited" warnings)."""
        for coro in self._handed_out:
            if _unstarted(coro):
                coro.close()
        self._handed_out.clear()

    def take_dispatch(self) -> DispatchOutcome:
        """The dispatch outcome for everything pending, which it clears."""
        steps = list(self.pending)
        self.pending.clear()
        outcome: DispatchOutcome = {
            "type": "dispatch",
            "mode": "parallel" if len(steps) > 1 else "sequential",
            "steps": steps,
        }
        if self.max_in_flight is not None:
            outcome["max_in_flight"] = self.max_in_flight
        return outcome


def _unstarted(coro: Coroutine[Any, Any, Any]) -> bool:
    # only SDK-made coroutines are tracked: ``types.CoroutineType`` has these attributes
    frame, running, suspended = (getattr(coro, a, None) for a in ("cr_frame", "cr_running", "cr_suspended"))
    return frame is not None and not running and not suspended
