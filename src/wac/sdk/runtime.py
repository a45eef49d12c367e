"""The entry point the engine's round process calls: :func:`run_round`."""

from __future__ import annotations

from wac.errors import NonDeterminismError
from wac.sdk import determinism
from wac.sdk.context import RoundState, _round
from wac.sdk.jsonvalue import to_json
from wac.sdk.outcomes import StepComplete, StepFailure, Suspend
from wac.sdk.replay import _run_task_body, exec_task

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from wac.sdk.host import RoundHost
    from wac.sdk.outcomes import CompleteOutcome, Outcome, SuspendOutcome


def run_round(
    main: Callable[..., Any],
    checkpoint: dict[str, Any],
    args: dict[str, Any],
    host: RoundHost | None = None,
) -> Outcome:
    """Run one replay of ``main`` against ``checkpoint`` and say how the round ended.

    Args:
        main: The workflow function (async or sync, decorated with ``@workflow`` or not).
        checkpoint: ``{"completed_steps": {key: value}, "_key_order": [...], "_executing_key"?}``.
        args: The job's arguments, passed as keyword arguments.
        host: The engine's :class:`~wac.sdk.host.RoundHost` (``step()`` fast path, resume URLs).

    Returns:
        One of ``{"type": "complete", "result"}``, ``{"type": "dispatch", "mode", "steps"[,
        "max_in_flight"]}``, ``{"type": "inline_checkpoint", "key", "result", "started_at",
        "duration_ms"}``, ``{"type": "sleep", "key", "seconds"}``, ``{"type": "approval", "key",
        "timeout", "form", "skin", "description"}`` — the dicts of ``wmill``'s ``_run_workflow``.

    Raises:
        The exception escaping the body; in child mode the executed task's own exception;
        :class:`~wac.errors.NonDeterminismError` when the keys contradict ``_key_order``.
    """
    import asyncio

    state = RoundState(checkpoint if isinstance(checkpoint, dict) else {}, host)
    outcome, failure = asyncio.run(_run(main, state, dict(args or {})))
    if failure is not None:
        raise failure
    if outcome is None or outcome["type"] == "step":  # never: only a dry round (dry_replay) stops at a step
        raise RuntimeError("a round ended without an outcome")
    determinism.check(state)
    return outcome


async def _run(
    main: Callable[..., Any], state: RoundState, args: dict[str, Any]
) -> tuple[SuspendOutcome | CompleteOutcome | None, BaseException | None]:
    import inspect

    token = _round.set(state)
    try:
        try:
            result = main(**args)
            if inspect.isawaitable(result):
                result = await result
            if state.child:
                if state.exec_call is None:
                    raise NonDeterminismError(
                        f"workflow is not deterministic: earlier rounds called '{state.executing_key}' "
                        "here, this round ended without calling it"
                    )
                await exec_task(state)  # an executing call the body never awaited
            unobserved = state.unobserved_failure()
            if unobserved is not None:
                # a failed task the body never awaited still fails the workflow (wmill raises it
                # at the call)
                raise unobserved
            if state.pending:
                return state.take_dispatch(), None
            name = getattr(main, "__name__", "main")
            return {"type": "complete", "result": to_json(result, f"workflow '{name}'")}, None
        except Suspend as signal:
            return signal.outcome, None
        except StepComplete as signal:
            return {"type": "complete", "result": signal.value}, None
        except StepFailure as signal:
            return None, signal.exc
    finally:
        state.close_unawaited()
        _round.reset(token)


def run_direct(
    func: Callable[..., Any], key: str, args: dict[str, Any], host: RoundHost | None = None
) -> CompleteOutcome:
    """Run a dispatched ``@task`` child by calling its function with its recorded ``args``.

    The same task body run as :func:`run_round` in child mode gives, without replaying the
    parent's body to reach the call (issue 17): the body runs inside a child-mode round (task
    calls in it run in place, ``step()`` too), its value is JSON round-tripped, and an exception
    it raises is raised here. Returns ``{"type": "complete", "result"}``.
    """
    import asyncio

    state = RoundState({"completed_steps": {}, "_executing_key": key}, host)
    outcome, failure = asyncio.run(_direct(func, key, state, dict(args or {})))
    if failure is not None or outcome is None:
        raise failure or RuntimeError("a direct task ended without an outcome")
    return outcome


async def _direct(
    func: Callable[..., Any], key: str, state: RoundState, args: dict[str, Any]
) -> tuple[CompleteOutcome | None, BaseException | None]:
    token = _round.set(state)
    try:
        await _run_task_body(key, func, args)
    except StepComplete as signal:
        return {"type": "complete", "result": signal.value}, None
    except StepFailure as signal:
        return None, signal.exc
    finally:
        _round.reset(token)
    raise AssertionError("a task body ends with StepComplete or StepFailure")  # pragma: no cover
