"""What one keyed call does in a round: replay, dispatch, run (child mode) or park.

Task calls allocate their keys when called (so ``asyncio.gather(a(), b())`` dispatches both at
once); the coroutine they return decides when awaited. A stored failure marker raises
:class:`TaskError` when the call is awaited.
"""

from __future__ import annotations

from wac.sdk.context import _in_task_body
from wac.sdk.failures import is_marker, task_error_from_marker
from wac.sdk.jsonvalue import NotJsonSerializableError, to_json
from wac.sdk.outcomes import StepComplete, StepFailure, Suspend, log
from wac.sdk.retry import delay_seconds, max_retries

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Coroutine
    from typing import Any

    from wac.sdk.context import RoundState
    from wac.sdk.outcomes import DispatchStep, OptionKey

# Task options copied into a dispatched step, in wmill's order (``concurrent_limit`` is wmill's
# wire name for ``concurrency_limit``).
OPTION_KEYS: tuple[OptionKey, ...] = (
    "timeout",
    "tag",
    "cache_ttl",
    "priority",
    "concurrent_limit",
    "concurrency_key",
    "concurrency_time_window_s",
)


def next_step(
    state: RoundState,
    name: str,
    script: str,
    func: Callable[..., Any] | None,
    dispatch_type: str,
    options: dict[str, Any] | None,
    args: dict[str, Any],
) -> Coroutine[Any, Any, Any]:
    """A task call inside a workflow round: the awaitable that replays, dispatches or runs it."""
    retry = (options or {}).get("retry") or {}
    retries = max_retries(retry)
    # All attempts' keys are claimed up front, named off the first attempt's key, so a later
    # allocation never shifts the keys of the calls beside it.
    base_key = state.keys.alloc(name or script or "step")
    attempt_keys = [base_key]
    backoff_keys: list[str] = []
    for i in range(retries):
        backoff_keys.append(state.keys.alloc(f"{base_key}#retry{i + 2}", reserved=True))
        attempt_keys.append(state.keys.alloc(f"{base_key}#{i + 2}", reserved=True))

    call = (name, script, func, dispatch_type, options, args, retry, retries, base_key, attempt_keys, backoff_keys)
    return _resolve(state, call, 0)


def _resolve(state: RoundState, call: tuple[Any, ...], attempt: int) -> Coroutine[Any, Any, Any]:
    """The awaitable of attempt ``attempt`` of a task call (and the attempts after it)."""
    name, script, func, dispatch_type, options, args, retry, retries, base_key, attempt_keys, backoff_keys = call
    while True:
        key = attempt_keys[attempt]
        if key in state.completed:
            value = state.completed[key]
            if is_marker(value):
                if attempt < retries:
                    _retry_backoff(state, backoff_keys[attempt], base_key, retry, attempt)
                    attempt += 1
                    continue
                error = task_error_from_marker(value, f"Task '{name}' failed")
                return state.track_failure(_raise_when_awaited(state, base_key, error), error)
            return state.track(_replayed(state, base_key, value))
        if state.child:
            if key != state.executing_key:
                return state.track(_parked(state, base_key))
            if func is None:
                raise StepFailure(
                    RuntimeError(f"'{key}' is a {dispatch_type} step: the engine runs {script}, not this body")
                )
            return state.track(_executing_call(state, base_key, key, func, args))
        log(f"\n--- WAC: {key} ---")
        info: DispatchStep = {
            "name": name or key,
            "script": script or key,
            "args": to_json(args, f"task '{key}'", "was called with arguments that are"),
            "key": key,
            "dispatch_type": dispatch_type,
        }
        for option in OPTION_KEYS:
            if options and options.get(option) is not None:
                info[option] = options[option]
        if func is not None and dispatch_type == "inline":
            _note_direct(state, key, name, func, args)
        state.pending.append(info)
        return state.track(_pending(state, call, attempt))


def _note_direct(state: RoundState, key: str, name: str, func: Callable[..., Any], args: dict[str, Any]) -> None:
    """Tell the engine that the child of ``key`` may call ``func`` directly instead of replaying
    this body: only when that is provably the same call (see :func:`direct_target`)."""
    if state.host is None or state.dry:
        return
    target = direct_target(func, name, args)
    if target is not None:
        state.host.note_direct(key, target)


def direct_target(func: Callable[..., Any], name: str, args: dict[str, Any]) -> str | None:
    """``"module:name:line"`` when a child can run ``func(**args)`` from its recorded args, else None.

    The function must be a module-level ``@task`` that the module still binds under its own
    name (not a closure, a lambda, a nested function or a method: those exist only while the
    body runs; the line it starts on is recorded so a module that binds the name to another
    function in the child is caught), and the arguments must be plain JSON (dict with str keys, list, str, int,
    float, bool, None) so the recorded copy the child reads equals what the body passed.
    """
    import sys

    from wac.sdk.task import task_def  # here: wac.sdk.task imports this module

    qualname = getattr(func, "__qualname__", None)
    module_name = getattr(func, "__module__", None)
    if qualname != name or getattr(func, "__name__", None) != name or not module_name:
        return None
    wrapper = getattr(sys.modules.get(module_name), name, None)
    if getattr(wrapper, "__wrapped__", None) is not func or task_def(wrapper) is None:
        return None
    code = getattr(func, "__code__", None)
    if code is None or not _plain_json(args, 0):
        return None
    return f"{module_name}:{name}:{code.co_firstlineno}"


def _plain_json(value: Any, depth: int) -> bool:
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return True
    if depth > 50:
        return False
    if kind is list:
        return all(_plain_json(v, depth + 1) for v in value)
    if kind is dict:
        return all(type(k) is str and _plain_json(v, depth + 1) for k, v in value.items())
    return False


def _retry_backoff(state: RoundState, key: str, base_key: str, retry: dict[str, Any], attempt: int) -> None:
    """Sleep durably between two attempts, raising where it stands (also for unawaited calls)."""
    seconds = delay_seconds(retry, attempt)
    if seconds < 1 or key in state.completed or state.child:
        return
    log(f"\n--- WAC: sleep({key}, {seconds}s) before retrying {base_key} ---")
    raise Suspend({"type": "sleep", "key": key, "seconds": seconds})


async def _replayed(state: RoundState, key: str, value: Any) -> Any:
    state.keys.awaited(key)
    return value


async def _raise_when_awaited(state: RoundState, key: str, error: BaseException) -> Any:
    state.keys.awaited(key)
    raise error


async def _pending(state: RoundState, call: tuple[Any, ...], attempt: int) -> Any:
    """A dispatched call, awaited: the round ends with the dispatch — unless the engine keeps
    this process alive while the children run (a sticky parent, issue 17): then the host commits
    the dispatch, hands back the results once every child is done, and the body goes on."""
    state.keys.awaited(call[8])
    if state.pending:
        outcome = state.take_dispatch()
        results = state.host.park(outcome) if state.host is not None and not state.dry else None
        if results is None:
            raise Suspend(outcome)
        state.completed.update(results)
        state.last_dispatch = outcome
    if call[9][attempt] not in state.completed:
        # Never expected (a parent is re-queued once all its children are done), but if a
        # resumed body finds a result missing, it ends the round with its last dispatch again:
        # the store waits on the children still running, and the next round replays.
        if not state.pending and state.last_dispatch is not None:
            raise Suspend(state.last_dispatch)
        raise Suspend(state.take_dispatch())
    return await _resolve(state, call, attempt)


def _executing_call(
    state: RoundState, base_key: str, key: str, func: Callable[..., Any], args: dict[str, Any]
) -> Coroutine[Any, Any, Any]:
    state.exec_call = (key, func, args)
    if state.exec_ready is not None and not state.exec_ready.done():
        state.exec_ready.set_result(None)
    return _join_exec(state, base_key)


async def _join_exec(state: RoundState, key: str) -> Any:
    state.keys.awaited(key)
    return await exec_task(state)


def exec_task(state: RoundState) -> asyncio.Future[Any]:
    """The one task running the executing key's function (started by whoever awaits first)."""
    import asyncio

    if state.exec_task is None:
        assert state.exec_call is not None
        state.exec_task = asyncio.ensure_future(_run_task_body(*state.exec_call))
    return state.exec_task


async def _run_task_body(key: str, func: Callable[..., Any], args: dict[str, Any]) -> Any:
    import inspect

    token = _in_task_body.set("async" if inspect.iscoroutinefunction(func) else "sync")
    try:
        result = func(**args)
        if inspect.isawaitable(result):
            result = await result
    except Exception as exc:
        raise StepFailure(exc) from None
    finally:
        _in_task_body.reset(token)
    try:
        value = to_json(result, f"task '{key}'")
    except NotJsonSerializableError as exc:
        raise StepFailure(exc) from None
    raise StepComplete(value)


async def _parked(state: RoundState, key: str) -> Any:
    state.keys.awaited(key)
    return await park(state, key)


async def park(state: RoundState, key: str) -> Any:
    """Child mode, a call this child does not run: wait for the executing call instead.

    ``wmill`` awaits forever here, which deadlocks ``x = a(); y = b(); await x; await y`` in the
    child of ``b``. Joining the executing call (once it has been made) finishes the round instead;
    if the body can no longer make it (every task waits), the child fails as non-deterministic.
    """
    import asyncio

    if state.parked_key is None:
        state.parked_key = key
    while True:
        if state.exec_call is not None:
            return await exec_task(state)
        if state.exec_ready is None or state.exec_ready.done():
            state.exec_ready = asyncio.get_running_loop().create_future()
            if state.watchdog is None:
                state.watchdog = asyncio.ensure_future(_watch_for_deadlock(state))
        await state.exec_ready


async def _watch_for_deadlock(state: RoundState) -> None:
    """Fail the parked calls once the loop has nothing left to run and no timer to wait for.

    Reads the loop's ready queue and timer heap (CPython's ``BaseEventLoop``); on another loop it
    does nothing and a diverging child waits like ``wmill``'s does, until the engine's timeout.
    """
    import asyncio

    from wac.errors import NonDeterminismError

    loop = asyncio.get_running_loop()
    idle = 0
    while state.exec_call is None:
        await asyncio.sleep(0)
        ready = getattr(loop, "_ready", None)
        timers = getattr(loop, "_scheduled", None)
        if ready is None or timers is None:
            return
        if ready:
            idle = 0
        elif timers:
            idle = 0
            await asyncio.sleep(max(0.0, min(t.when() for t in timers) - loop.time()))
        else:
            idle += 1
            if idle >= 3 and state.exec_call is None:
                error = NonDeterminismError(
                    f"workflow is not deterministic: earlier rounds called '{state.executing_key}' here, "
                    f"this round called '{state.parked_key}'"
                )
                if state.exec_ready is not None and not state.exec_ready.done():
                    state.exec_ready.set_exception(StepFailure(error))
                return
