"""What a worker tells a round process: one :class:`RoundSpec` per round.

The worker builds it (engine/worker.py) and sends it as one JSON line on the round's channel;
the round process (:mod:`wac.engine.rounds.round`) reads it back with :meth:`RoundSpec.from_json`.
Both sides use the dataclass, so a field added, renamed or mistyped on one side is a type error,
not a key silently missing on the other. Stdlib only (the zygote imports it before forking).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

#: The folder of wac's ``wmill`` shim, put on a round's ``sys.path`` unless it runs the real package.
SHIM_DIR = str(Path(__file__).resolve().parent.parent.parent / "_shims")


@dataclass
class RoundSpec:
    """One round of one job, as the worker hands it to the round process."""

    job_id: str
    bundle_dir: str  # the job's code bundle, materialized on this machine
    entry: str  # the bundle's file to run (its main, or a task_script module)
    mod_dir: str  # the bundle's module folder (``x__mod``), put on sys.path
    args: dict[str, Any]  # main's arguments (a replaying child: its parent's)
    checkpoint: dict[str, Any]  # completed_steps, _key_order, _executing_key (a child)
    store_url: str  # where the round commits step() values and reads objects
    #: the claim token ``[job_id, attempt, worker_id]`` fencing the round's commits (None: no claim)
    token: list[Any] | None
    workspace: str
    cwd: str  # the worker's working folder (the round runs there)
    env: dict[str, str]  # WAC_* and WM_* variables of the job
    script_path: str
    root_id: str
    parent_id: str | None = None
    lease_s: float = 10.0  # the claim's lease: the round's claim watch checks it every quarter
    slots: int = 1  # the worker's slots (a one-slot worker cannot wait on a job it started itself)
    fast_path: bool = True  # step() commits from inside the round
    real_wmill: bool = False  # run the round through the real ``wmill`` package
    shim_dir: str = SHIM_DIR
    base_url: str | None = None  # resume URLs' root from the worker's environment (else the store's)
    direct_children: bool = False  # children of module-level @task may call their task directly
    sticky: bool = False  # a dispatch parks the process instead of ending the round
    direct: str | None = None  # this child calls its task ``module:name:line`` directly
    warm: bool = False  # a direct child's process may be kept for the next one
    repo_root: str | None = None  # a preview's client reads the repo's object files first,
    objects_workspace: str | None = None  # then this workspace's objects, then the store's
    round_id: str = ""  # the worker's id of this round in its process (a resume or a drop names it)
    extra: dict[str, Any] = field(default_factory=dict)  # fields of a newer worker, kept as they came

    def to_json(self) -> dict[str, Any]:
        """The spec as the JSON object sent on the channel (shallow: it is serialised at once)."""
        data = {name: getattr(self, name) for name in _NAMES}
        data.update(self.extra)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RoundSpec:
        """The spec the worker sent (unknown keys go to ``extra``)."""
        names = {f.name for f in fields(cls)} - {"extra"}
        known = {k: v for k, v in data.items() if k in names}
        return cls(**known, extra={k: v for k, v in data.items() if k not in names})


_NAMES = tuple(f.name for f in fields(RoundSpec) if f.name != "extra")

__all__ = ["SHIM_DIR", "RoundSpec"]
