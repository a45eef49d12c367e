"""A worker's settings (:class:`WorkerConfig`), with the ``WAC_*`` environment variables that
set the defaults of issue 17's shortcuts (docs/reference/cli.md, ``wac worker``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    return default if not raw else raw not in ("0", "false", "no", "off")


def _number(name: str, default: float, low: float) -> float:
    try:
        return max(low, float(os.environ.get(name, "") or default))
    except ValueError:
        return default


def direct_children_default() -> bool:
    """``WAC_DIRECT_CHILDREN``: ``0`` (or ``false``/``no``/``off``) replays every child; on by default."""
    return _flag("WAC_DIRECT_CHILDREN", True)


def warm_tasks_default() -> bool:
    """``WAC_WARM_TASKS``: ``0`` forks a fresh process for every direct child; on by default."""
    return _flag("WAC_WARM_TASKS", True)


def chain_claims_default() -> bool:
    """``WAC_CHAIN_CLAIMS``: ``0`` applies a round's outcome and claims the slot's next job in two
    commits (and lets any idle slot take it); on by default."""
    return _flag("WAC_CHAIN_CLAIMS", True)


def sticky_parents_default() -> bool:
    """``WAC_STICKY_PARENTS``: ``0`` ends a parent's round at each dispatch; on by default."""
    return _flag("WAC_STICKY_PARENTS", True)


@dataclass
class WorkerConfig:
    slots: int = 1
    tags: frozenset[str] = frozenset({"*"})
    lease_s: float = 10.0
    skip_sleeps: bool = False  # preview --skip-sleeps: sleeps of preview jobs end at once
    real_wmill: bool = False  # run rounds through the real ``wmill`` package instead of wac's SDK
    fast_path: bool = True  # step() commits from inside the round
    workspace: str = "local"
    repo_root: str | None = None  # preview jobs read the repo's variable/resource files first,
    objects_workspace: str | None = None  # then this (the current) workspace's objects, then the store's
    # A dispatched child of a module-level @task calls the task directly with its recorded args
    # instead of replaying its parent's body (issue 17); WAC_DIRECT_CHILDREN=0 turns it off.
    direct_children: bool = field(default_factory=direct_children_default)
    # A parent whose round dispatched children stays alive awaiting their results (issue 17),
    # at most sticky_max of them per worker, each for at most sticky_idle_s seconds.
    sticky_parents: bool = field(default_factory=sticky_parents_default)
    sticky_max: int = field(default_factory=lambda: int(_number("WAC_STICKY_MAX", 100, 0)))
    sticky_idle_s: float = field(default_factory=lambda: _number("WAC_STICKY_IDLE_S", 30.0, 0.0))
    # A process that parked a parent holds up to sticky_share of them (engine/rounds/sharing.py):
    # new rounds of the same code run in it while its parents wait; 1 gives each its own process.
    sticky_share: int = field(default_factory=lambda: int(_number("WAC_STICKY_SHARE", 16, 1)))
    # A direct child's round process is kept for the next direct child of the same code instead of
    # exiting (engine/rounds/warm.py), at most one per slot, each for at most warm_idle_s seconds.
    warm_tasks: bool = field(default_factory=warm_tasks_default)
    warm_idle_s: float = field(default_factory=lambda: _number("WAC_WARM_IDLE_S", 30.0, 0.0))
    # A slot applies a round's outcome and claims its next job (the queue's head, often the child
    # just dispatched or the parent just made runnable) in one commit, then runs it.
    chain_claims: bool = field(default_factory=chain_claims_default)
