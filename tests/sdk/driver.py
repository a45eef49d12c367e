"""A tiny pure-Python engine for SDK tests: applies round outcomes the way the real engine does.

dispatch → one child round per step (``_executing_key``), value or failure marker stored under
its key; inline_checkpoint → store the value; sleep → store None; approval → store the next
scripted answer. Works with any ``run(main, checkpoint, args)`` (wac's ``run_round`` or the real
``wmill.client._run_workflow``), and records every round's outcome.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

RunFn = Callable[[Callable[..., Any], dict[str, Any], dict[str, Any]], dict[str, Any]]


def failure_marker(key: str, exc: BaseException) -> dict[str, Any]:
    """What an engine stores when a child job fails (wmill's ``wac_failure_record`` shape)."""
    return {
        "__wmill_error": True,
        "message": str(exc),
        "step_key": key,
        "child_job_id": f"job-{key}",
        "result": {"error": {"name": type(exc).__name__, "message": str(exc)}},
    }


@dataclass
class Driver:
    run: RunFn
    main: Callable[..., Any]
    args: dict[str, Any] = field(default_factory=dict)
    approvals: list[Any] = field(default_factory=list)
    key_order: bool = True
    completed: dict[str, Any] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    children: list[str] = field(default_factory=list)  # executing keys, in the order run
    slept: list[tuple[str, int]] = field(default_factory=list)

    def checkpoint(self, executing: str | None = None) -> dict[str, Any]:
        cp: dict[str, Any] = {"completed_steps": json.loads(json.dumps(self.completed))}
        if self.key_order:
            cp["_key_order"] = list(self.order)
        if executing is not None:
            cp["_executing_key"] = executing
        return cp

    def record(self, key: str, value: Any) -> None:
        self.completed[key] = json.loads(json.dumps(value, default=str))
        if key not in self.order:
            self.order.append(key)

    def run_child(self, step: dict[str, Any]) -> None:
        key = step["key"]
        self.children.append(key)
        if step.get("dispatch_type", "inline") != "inline":
            # another script or flow: the engine runs that, not this body
            self.record(key, {"ran": step["script"], "args": step["args"]})
            return
        try:
            out = self.run(self.main, self.checkpoint(key), dict(self.args))
        except Exception as exc:
            self.record(key, failure_marker(key, exc))
            return
        assert out["type"] == "complete", out
        self.record(key, out["result"])

    def round(self) -> dict[str, Any]:
        out = self.run(self.main, self.checkpoint(), dict(self.args))
        self.outcomes.append(out)
        kind = out["type"]
        if kind == "dispatch":
            for step in out["steps"]:
                self.order.append(step["key"]) if step["key"] not in self.order else None
            for step in out["steps"]:
                self.run_child(step)
        elif kind == "inline_checkpoint":
            self.record(out["key"], out["result"])
        elif kind == "sleep":
            self.slept.append((out["key"], out["seconds"]))
            self.record(out["key"], None)
        elif kind == "approval":
            self.record(out["key"], self.approvals.pop(0))
        return out

    def finish(self, max_rounds: int = 60) -> Any:
        for _ in range(max_rounds):
            out = self.round()
            if out["type"] == "complete":
                return out["result"]
        raise AssertionError(f"no completion after {max_rounds} rounds: {self.outcomes[-3:]}")
