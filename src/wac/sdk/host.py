"""The interface the engine implements for a round: :class:`RoundHost`."""

from __future__ import annotations

from typing import Any, Protocol


class RoundHost(Protocol):
    """What the SDK may ask of the engine while a round runs."""

    def commit_step(
        self, key: str, value: Any, started_at: float, duration_ms: int, failed: bool
    ) -> bool:
        """The ``step()`` fast path: commit ``value`` under ``key`` durably now.

        ``value`` is JSON (a failure marker when ``failed``); ``started_at`` is a Unix timestamp.
        Return True to let the body continue in the same round; False (or raising) ends the round
        with an ``inline_checkpoint`` outcome instead.
        """
        ...

    def resume_urls(self, approval_key: str, approver: str | None) -> dict[str, str]:
        """``{"approvalPage", "resume", "cancel"}`` for the approval that will use ``approval_key``."""
        ...


# The wmill client of the job this process runs (set by the engine's round process; None
# elsewhere). The ``wmill`` package served by the engine calls through it.
_client: Any = None


def set_client(client: Any) -> None:
    global _client
    _client = client


def current_client() -> Any:
    return _client
