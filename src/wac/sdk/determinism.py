"""Non-determinism detection (a wac addition): compare a round's keys with the recorded order.

The engine passes ``_key_order``: every key of the job in the order it first saw them. Replaying
a deterministic body against recorded (completed) keys makes the same calls in the same order, so
at the end of a round that is not in child mode:

* a recorded key that this round never allocated means the body took another path — unless the
  nearest recorded key before it that this round did reach holds a failure marker (a failed
  attempt that now retries, or a caught failure that legitimately changes the path);
* a recorded key allocated after this round already awaited a key recorded later than it means
  the calls came in another order. Task keys are allocated when called but may be awaited much
  later, so only an allocation after the other call's await counts.

Keys allocated but never recorded (reserved retry keys, a suspension another branch swallowed)
never trigger it.
"""

from __future__ import annotations

from wac.errors import NonDeterminismError
from wac.sdk.failures import is_marker

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from wac.sdk.context import RoundState


def _error(expected: str, actual: str | None) -> NonDeterminismError:
    if actual is None:
        return NonDeterminismError(
            f"workflow is not deterministic: earlier rounds called '{expected}' here, "
            "this round ended without calling it"
        )
    return NonDeterminismError(
        f"workflow is not deterministic: earlier rounds called '{expected}' here, "
        f"this round called '{actual}'"
    )


def check(state: RoundState) -> None:
    """Raise :class:`NonDeterminismError` if this round's keys contradict the recorded order."""
    if state.child or not state.key_order:
        return
    completed = state.completed
    position: dict[str, int] = {}
    order: list[str] = []
    for key in state.key_order:
        if isinstance(key, str) and key in completed and key not in position:
            position[key] = len(order)
            order.append(key)
    if not order:
        return
    keys = state.keys

    events: list[tuple[int, int, str]] = []
    for key in keys.primary:
        if key in position:
            events.append((keys.allocated_at[key], 0, key))
            if key in keys.awaited_at:
                events.append((keys.awaited_at[key], 1, key))
    events.sort()
    latest = -1
    latest_key = ""
    for _, kind, key in events:
        if kind == 1:
            if position[key] > latest:
                latest, latest_key = position[key], key
        elif latest > position[key]:
            raise _error(key, latest_key)

    last_used: str | None = None
    for key in order:
        if keys.is_used(key):
            last_used = key
        elif last_used is None or not is_marker(completed[last_used]):
            raise _error(key, _called_instead(state, last_used, position, key))


def _called_instead(
    state: RoundState, last_used: str | None, position: dict[str, int], missing: str
) -> str | None:
    """The first call this round made where the recorded ``missing`` key used to be."""
    keys = state.keys
    after = keys.allocated_at[last_used] if last_used is not None else 0
    for key in keys.primary:
        if keys.allocated_at[key] > after and position.get(key, len(position)) > position[missing]:
            return key
    return None
