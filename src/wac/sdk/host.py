"""The interface the engine implements for a round: :class:`RoundHost`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from wac.sdk.outcomes import DispatchOutcome


class RoundHost(Protocol):
    """What the SDK may ask of the engine while a round runs (the host is None outside one).

    The engine's implementation is :class:`wac.engine.rounds.host.EngineHost` (inside the round
    process); a dry replay uses :class:`wac.sdk.dryrun.DryHost`. Every member is required: a host
    that has nothing to do for one answers False / None / does nothing, as documented below, so
    the SDK never probes with ``getattr``.
    """

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

    def note_direct(self, key: str, target: str) -> None:
        """The child of ``key`` may call the module-level task ``target`` (``"module:name:line"``)
        with its recorded arguments instead of replaying this body; a host may ignore it."""

    def park(self, outcome: DispatchOutcome) -> dict[str, Any] | None:
        """A sticky parent: commit ``outcome`` through the engine and wait, alive, for the
        children's results (``{key: value}``); None ends the round with the dispatch as usual."""
        ...


# The wmill client of the job this process runs (set by the engine's round process; None
# elsewhere). The ``wmill`` package served by the engine calls through it.
_client: Any = None


def set_client(client: Any) -> None:
    global _client
    _client = client


def current_client() -> Any:
    return _client
