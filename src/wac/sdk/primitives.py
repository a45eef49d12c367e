"""The workflow primitives: ``workflow``, ``step``, ``sleep``, ``wait_for_approval``, ``parallel``,
``get_resume_urls``. Task decorators live in :mod:`wac.sdk.task`."""

from __future__ import annotations

from wac.sdk.context import current_round, dispatch_round, task_body_kind
from wac.sdk.failures import NotInWorkflowError, StepKeyError, is_marker, task_error_from_marker
from wac.sdk.jsonvalue import to_json
from wac.sdk.outcomes import Suspend, log
from wac.sdk.replay import park
from wac.sdk.task import task_def

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
    from typing import Any, TypeVar

    from wac.sdk.outcomes import ApprovalOutcome


    F = TypeVar("F", bound=Callable[..., Any])


def workflow(func: F) -> F:
    """Mark ``func`` as a workflow entry point (it is run round by round by the engine).

    The body must be deterministic: given the same inputs and task results it must make the same
    calls in the same order every round. Wrap clocks, random values and I/O in :func:`step`.
    """
    func._is_workflow = True  # type: ignore[attr-defined]
    return func


async def step(name: str, fn: Callable[[], Any]) -> Any:
    """Run ``fn`` once and checkpoint its value; replays return the stored value.

    The value is JSON round-tripped (a tuple comes back as a list, a datetime as an ISO string)
    in the round that runs ``fn`` too. If ``fn`` raises, awaiting the step raises
    :class:`TaskError`. Outside a workflow, or inside a task body, ``fn`` just runs.
    """
    state = dispatch_round()
    if state is not None:
        from wac.sdk.inline import run_inline_step

        return await run_inline_step(state, name, fn)
    import inspect

    result = fn()
    if inspect.isawaitable(result):
        result = await result
    return to_json(result, f"step '{name}'")


async def sleep(seconds: int | float) -> None:
    """Suspend the workflow durably for ``seconds`` (at least 1) without holding a worker.

    Outside a workflow, or inside a task body, this is ``asyncio.sleep``.
    """
    state = dispatch_round()
    if state is None:
        import asyncio

        await asyncio.sleep(seconds)
        return None
    key = state.keys.alloc("sleep")
    state.keys.awaited(key)
    if key in state.completed:
        return None
    if state.child:
        await park(state, key)
    log(f"\n--- WAC: sleep({key}, {seconds}s) ---")
    raise Suspend({"type": "sleep", "key": key, "seconds": max(1, int(seconds))})


def _assert_not_in_task_body(what: str) -> None:
    if task_body_kind():
        raise NotInWorkflowError(
            f"{what} cannot be called from inside a task: a task runs as a single job and cannot "
            "suspend or dispatch steps. Call it from the @workflow body instead."
        )


def _check_key(key: str, what: str) -> None:
    stripped = key.strip() if isinstance(key, str) else ""
    if not stripped or stripped in (".", "..") or "/" in key or "\\" in key:
        raise StepKeyError(f"{what} must be a non-empty step name without `/` or dot segments")


async def wait_for_approval(
    timeout: int = 1800,
    form: dict[str, Any] | None = None,
    self_approval: bool = True,
    key: str | None = None,
    skin: str | None = None,
    description: str | dict[str, Any] | None = None,
) -> Any:
    """Suspend the workflow until someone approves or rejects it (or ``timeout`` seconds pass).

    Returns the stored payload ``{"value", "approver", "approved"}``. A timed-out approval
    (stored as a failure marker) raises :class:`TaskError`.
    """
    _assert_not_in_task_body("wait_for_approval()")
    state = current_round()
    if state is None:
        raise NotInWorkflowError("wait_for_approval can only be called inside a @workflow")
    if key is not None:
        _check_key(key, "wait_for_approval key")
    allocated = state.keys.alloc(key or "approval")
    state.keys.awaited(allocated)
    if key and allocated != key:
        raise StepKeyError(
            f'WAC step key "{key}" is already used in this workflow. '
            "Give each wait_for_approval() its own key so its URLs can address it."
        )
    if allocated in state.completed:
        value = state.completed[allocated]
        if is_marker(value):
            raise task_error_from_marker(value, f"Approval '{allocated}' failed")
        return value
    if state.child:
        await park(state, allocated)
    log(f"\n--- WAC: wait_for_approval({allocated}) ---")
    outcome: ApprovalOutcome = {
        "type": "approval",
        "key": allocated,
        "timeout": timeout,
        "form": form,
        "skin": skin,
        "description": description,
    }
    if not self_approval:
        outcome["self_approval_disabled"] = True
    raise Suspend(outcome)


async def parallel(
    items: Iterable[Any], fn: Callable[[Any], Any], *, concurrency: int | None = None
) -> list[Any]:
    """``fn(item)`` for every item, results in input order.

    With ``concurrency=N`` and a task as ``fn``, all items are dispatched at once and the engine
    keeps at most N running (a sliding window); otherwise items go in batches of N like ``wmill``.
    """
    import asyncio

    items = list(items)
    if not items:
        return []
    state = dispatch_round()
    window = concurrency if isinstance(concurrency, int) and concurrency > 0 else None
    if state is not None and window is not None and task_def(fn) is not None:
        previous = state.max_in_flight
        state.max_in_flight = window
        try:
            calls = [_awaitable(fn(item)) for item in items]
            return list(await asyncio.gather(*calls))
        finally:
            state.max_in_flight = previous
    batch = window or len(items)
    results: list[Any] = []
    for i in range(0, len(items), batch):
        results.extend(await asyncio.gather(*(_awaitable(fn(item)) for item in items[i : i + batch])))
    return results


def _awaitable(value: Any) -> Awaitable[Any]:
    import inspect

    if inspect.isawaitable(value):
        return value

    async def done() -> Any:
        return value

    return done()


def get_resume_urls(approver: str | None = None) -> dict[str, str]:
    """URLs that resume (approve) or cancel the next :func:`wait_for_approval` of this workflow.

    Each approval gets its own secret-token URLs: these are for the key the next unnamed
    ``wait_for_approval()`` will use. Needs the wac engine; raises ``RuntimeError`` elsewhere.
    """
    state = current_round()
    if state is None or state.host is None:
        raise NotInWorkflowError(
            "get_resume_urls() can only be called inside a @workflow run by the wac engine"
        )
    return state.host.resume_urls(state.keys.peek("approval"), approver)


def get_approval_urls(step_key: str = "approval", approver: str | None = None) -> dict[str, str]:
    """URLs bound to the approval whose key is ``step_key`` (``wait_for_approval(key=...)``)."""
    _check_key(step_key, "get_approval_urls step_key")
    state = current_round()
    if state is None or state.host is None:
        raise NotInWorkflowError(
            "get_approval_urls() can only be called inside a @workflow run by the wac engine"
        )
    return state.host.resume_urls(step_key, approver)
