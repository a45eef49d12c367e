"""A dry round: replay (new) code over a run's recorded steps, running nothing (issue 14 §1).

The body runs through the same :func:`~wac.sdk.runtime` machinery as a real round, with the run's
completed steps as its checkpoint and ``_dry`` set: task calls and sleeps end the round as they
always do (they are never executed in a workflow round), and a ``step()`` without a stored value
ends it too instead of running its function. The verdict says whether the code can carry the run
on:

* compatible: no :class:`~wac.errors.NonDeterminismError` (every completed key is called, in the
  recorded order, as :mod:`wac.sdk.determinism` checks after every real round), and every key the
  run is still waiting on (children in flight, an approval) is where the code now stops;
* otherwise the first diverging key, as recorded and as the code now calls it.

Stdlib only: it runs in the replay process beside user code.
"""

from __future__ import annotations

import re

from wac.errors import NonDeterminismError
from wac.sdk import determinism
from wac.sdk.context import RoundState

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from wac.sdk.outcomes import CompleteOutcome, DispatchOutcome, SuspendOutcome

END = "(end of workflow)"
_CALLED = re.compile(r"called '(?P<rec>.*?)' here, this round (?:called '(?P<new>.*?)'|ended without calling it)")


class DryHost:
    """The round host of a dry round: nothing is committed, resume URLs are placeholders."""

    def commit_step(self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool) -> bool:
        return False

    def resume_urls(self, approval_key: str, approver: str | None) -> dict[str, str]:
        url = f"about:blank#dry-run/{approval_key}"
        return {"approvalPage": url, "resume": url, "cancel": url}

    def note_direct(self, key: str, target: str) -> None:
        return None  # nothing runs in a dry round

    def park(self, outcome: DispatchOutcome) -> dict[str, Any] | None:
        return None  # the round ends at the dispatch


def stop_of(outcome: SuspendOutcome | CompleteOutcome | None, failure: BaseException | None) -> tuple[list[str], str]:
    """The keys a dry round stopped at and a short description of where (``"approval 'a'"``)."""
    if failure is not None or outcome is None:
        return [], f"raises {type(failure).__name__}"
    if outcome["type"] == "dispatch":
        keys = [str(s.get("key")) for s in outcome["steps"]]
        return keys, "task " + ", ".join(f"'{k}'" for k in keys)
    if outcome["type"] == "complete":
        return [], "completes"
    key = str(outcome["key"])  # sleep, approval, step, inline_checkpoint
    kind = "step" if outcome["type"] == "inline_checkpoint" else outcome["type"]
    return [key], f"{kind} '{key}'"


def dry_replay(
    main: Callable[..., Any], steps: Sequence[Sequence[Any]], args: dict[str, Any], loop: Any = None,
) -> dict[str, Any]:
    """Replay ``main`` over ``steps`` (``[key, done, value]`` in recorded order) without running
    any task, step body or sleep.

    Returns ``{"compatible", "stop", "recorded", "new", "message"}``: ``stop`` says where the code
    stops; on a divergence ``recorded``/``new`` name the first key that differs. ``loop``: an event
    loop to reuse across many replays (:func:`run_on`), instead of a new one per replay.
    """
    import asyncio
    import contextlib
    import io

    from wac.sdk.runtime import _run

    completed = {str(s[0]): s[2] for s in steps if s[1]}
    order = [str(s[0]) for s in steps]
    state = RoundState({"completed_steps": completed, "_key_order": order, "_dry": True}, DryHost())
    sink = io.StringIO()
    failure: BaseException | None
    outcome: SuspendOutcome | CompleteOutcome | None
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            coro = _run(main, state, dict(args or {}))
            outcome, failure = run_on(loop, coro) if loop is not None else asyncio.run(coro)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # the body raised: where it stands, not a crash of the check
            outcome, failure = None, exc
    stop_keys, stop = stop_of(outcome, failure)
    if isinstance(failure, NonDeterminismError):
        return _diverged(failure, stop)
    try:
        determinism.check(state)
    except NonDeterminismError as exc:
        return _diverged(exc, stop)
    for key in order:
        if key not in completed and key not in stop_keys:
            new = stop_keys[0] if stop_keys else END if failure is None else stop
            return {
                "compatible": False, "stop": stop, "recorded": key, "new": new,
                "message": f"the run waits on '{key}'; the code now stops at {stop}",
            }
    return {"compatible": True, "stop": stop, "recorded": None, "new": None, "message": None}


def run_on(loop: Any, coro: Any) -> Any:
    """``asyncio.run`` on a loop kept for many replays: tasks left pending are cancelled after."""
    import asyncio

    try:
        return loop.run_until_complete(coro)
    finally:
        left = asyncio.all_tasks(loop)
        for task in left:
            task.cancel()
        if left:
            loop.run_until_complete(asyncio.gather(*left, return_exceptions=True))


def _diverged(exc: NonDeterminismError, stop: str) -> dict[str, Any]:
    found = _CALLED.search(exc.message)
    recorded = found.group("rec") if found else None
    new = (found.group("new") or END) if found else None
    return {"compatible": False, "stop": stop, "recorded": recorded, "new": new, "message": exc.message}
