"""Step keys: one allocator per round, shared by tasks, steps, sleeps and approvals.

The n-th use of a name gets ``name`` (n = 1) or ``name_n``, skipping keys already handed out in
this round (``step("x"), step("x"), step("x_2"), step("x")`` → ``x``, ``x_2``, ``x_2_2``, ``x_3``),
exactly as ``wmill`` 1.850 does, so a replay maps cached results to the same calls.

The allocator also keeps a log of when each key was allocated and first awaited, which the
non-determinism check (:mod:`wac.sdk.determinism`) compares with the engine's recorded order.
"""

from __future__ import annotations


class KeyAllocator:
    """Hands out the keys of one round and remembers when each was allocated and awaited."""

    def __init__(self) -> None:
        self._counters: dict[str, int] = {}
        self._used: set[str] = set()
        self._clock = 0
        self.allocated_at: dict[str, int] = {}
        self.awaited_at: dict[str, int] = {}
        self.primary: list[str] = []  # one key per call, in allocation order (no retry reservations)

    def _tick(self) -> int:
        self._clock += 1
        return self._clock

    def _next(self, name: str) -> tuple[str, int]:
        n = self._counters.get(name, 0) + 1
        key = name if n == 1 else f"{name}_{n}"
        while key in self._used:
            n += 1
            key = f"{name}_{n}"
        return key, n

    def alloc(self, name: str, *, reserved: bool = False) -> str:
        """The next key for ``name``; ``reserved`` for keys claimed up front (retry attempts)."""
        key, n = self._next(name)
        self._counters[name] = n
        self._used.add(key)
        self.allocated_at[key] = self._tick()
        if not reserved:
            self.primary.append(key)
        return key

    def peek(self, name: str) -> str:
        """The key :meth:`alloc` would hand out for ``name`` next, without consuming it."""
        return self._next(name)[0]

    def awaited(self, key: str) -> None:
        """Note that the call holding ``key`` was awaited (first time only)."""
        if key not in self.awaited_at:
            self.awaited_at[key] = self._tick()

    def is_used(self, key: str) -> bool:
        return key in self._used
