"""SIGTERM and SIGHUP end a foreground command the way Ctrl-C does.

``timeout``, CI runners, systemd and a closed terminal stop a process with SIGTERM or SIGHUP. A
preview killed that way used to die at once and leave its job ``running`` until its lease ran
out; now the signal raises :class:`Terminated` (a ``KeyboardInterrupt``) in the main thread, so the
same cleanup as Ctrl-C runs: the rounds are stopped, their jobs given back, a hint printed, and
the process exits with 128 + the signal number (143 for SIGTERM, 129 for SIGHUP; 130 for Ctrl-C).
"""

from __future__ import annotations

import signal
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by a signal other than SIGINT."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def exit_code(exc: BaseException) -> int:
    """128 + the signal that interrupted the command (130 for Ctrl-C)."""
    return 128 + (exc.signum if isinstance(exc, Terminated) else signal.SIGINT)


def interrupt_on_termination() -> None:
    """From now on SIGTERM and SIGHUP raise :class:`Terminated` in the main thread."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise Terminated(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
