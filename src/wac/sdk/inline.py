"""``step()`` inside a round: run the body once, checkpoint its value (fast path or round end)."""

from __future__ import annotations

from datetime import UTC

from wac.sdk.failures import is_marker, safe_str, step_error_marker, task_error_from_marker
from wac.sdk.jsonvalue import to_json
from wac.sdk.outcomes import Suspend, log
from wac.sdk.replay import park

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from wac.sdk.context import RoundState


async def run_inline_step(state: RoundState, name: str, fn: Callable[[], Any]) -> Any:
    """Replay the stored value, or run ``fn`` and checkpoint it.

    With a host whose ``commit_step`` succeeds the body continues in this round with the JSON
    round-tripped value (or the :class:`TaskError` a replay would raise); otherwise the round ends
    with an ``inline_checkpoint`` outcome.
    """
    import inspect
    import json
    import time
    from datetime import datetime

    key = state.keys.alloc(name or "step")
    state.keys.awaited(key)
    if key in state.completed:
        value = state.completed[key]
        if is_marker(value):
            raise task_error_from_marker(value, f"Step '{name}' failed")
        return value
    if state.child:
        return await park(state, key)
    if state.dry:
        raise Suspend({"type": "step", "key": key})

    log(f"\n--- WAC: {key} ---")
    started = time.time()
    started_at = datetime.fromtimestamp(started, UTC).isoformat()
    log(f"WM_WAC_STEP: {json.dumps({'key': key, 'started_at': started_at})}")
    t0 = time.monotonic()
    failed = False
    try:
        result = fn()
        if inspect.isawaitable(result):
            result = await result
        value = to_json(result, f"step '{key}'")
    except Exception as exc:
        failed = True
        value = step_error_marker(key, exc)
        log(f"--- WAC: {key} failed ---")
        log(f"{type(exc).__name__}: {safe_str(exc)}")
        stack = value["result"]["error"].get("stack")
        if stack:
            log(stack)
    duration_ms = int((time.monotonic() - t0) * 1000)

    if state.host is not None:
        try:
            committed = bool(state.host.commit_step(key, value, started, duration_ms, failed))
        except Exception as exc:  # any host failure falls back to ending the round
            log(f"--- WAC: fast path for {key} unavailable ({type(exc).__name__}: {safe_str(exc)}) ---")
            committed = False
        if committed:
            if failed:
                raise task_error_from_marker(value, f"Step '{name}' failed")
            return value
    raise Suspend(
        {
            "type": "inline_checkpoint",
            "key": key,
            "result": value,
            "started_at": started_at,
            "duration_ms": duration_ms,
        }
    )
