"""Retry policies of tasks: validation where written, backoff delays (as ``wmill`` 1.850)."""

from __future__ import annotations

from wac.sdk.failures import TaskOptionError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

# The engine stores a sleep as a u32 of seconds (Windmill fails the job on anything wider).
MAX_SLEEP_SECONDS = 2**32 - 1
RETRY_KEYS = ("attempts", "delay", "multiplier", "max_delay")
# Every attempt claims its keys up front, so the count is bounded.
MAX_RETRY_ATTEMPTS = 100


def checked_retry(retry: dict[str, Any] | None) -> dict[str, Any] | None:
    """``retry`` if valid, else :class:`TaskOptionError` at decoration time."""
    if retry is None:
        return None
    if not isinstance(retry, dict):
        raise TaskOptionError(f"retry must be a dict, got {type(retry).__name__}")
    unknown = sorted(str(k) for k in retry if k not in RETRY_KEYS)
    if unknown:
        raise TaskOptionError(
            f"unknown retry option(s): {', '.join(unknown)}. Expected any of: {', '.join(RETRY_KEYS)}"
        )
    attempts = retry.get("attempts")
    if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts <= MAX_RETRY_ATTEMPTS:
        raise TaskOptionError(
            f"retry attempts must be a whole number between 0 and {MAX_RETRY_ATTEMPTS}, got {attempts!r}"
        )
    for name in ("delay", "multiplier", "max_delay"):
        value = retry.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise TaskOptionError(f"retry {name} must be a number of seconds, got {value!r}")
    return retry


def max_retries(retry: dict[str, Any]) -> int:
    return min(max(0, int(retry.get("attempts") or 0)), MAX_RETRY_ATTEMPTS)


def delay_seconds(retry: dict[str, Any], attempt: int) -> int:
    """Seconds to wait before retry number ``attempt`` (0 is the first retry)."""
    base = retry.get("delay") or 0
    if base <= 0:
        return 0
    multiplier = retry.get("multiplier")
    if multiplier is None:
        multiplier = 1
    try:
        grown = base * multiplier**attempt
    except OverflowError:
        grown = MAX_SLEEP_SECONDS
    max_delay = retry.get("max_delay")
    if max_delay is not None:
        grown = min(grown, max_delay)
    return max(0, int(min(grown, MAX_SLEEP_SECONDS)))
