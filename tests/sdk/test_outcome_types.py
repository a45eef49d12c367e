"""The outcome TypedDicts of wac.sdk.outcomes name exactly the keys the SDK puts on the wire.

The TypedDicts exist only for the type checker (the module imports no typing at run time), so
this test reads them from the source and compares them with the dicts real rounds return.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

from wac import parallel, sleep, step, task, wait_for_approval, workflow
from wac.sdk import run_round
from wac.sdk.outcomes import OUTCOME_TYPES

SOURCE = Path(__file__).resolve().parents[2] / "src" / "wac" / "sdk" / "outcomes.py"


def _declared() -> dict[str, tuple[set[str], set[str]]]:
    """``{type literal: (required keys, optional keys)}`` of the outcome TypedDicts."""
    found = {}
    for node in ast.walk(ast.parse(SOURCE.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.ClassDef) and node.name.endswith("Outcome")):
            continue
        required, optional, literal = set(), set(), None
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                text = ast.unparse(item.annotation)
                (optional if text.startswith("NotRequired[") else required).add(item.target.id)
                if item.target.id == "type":
                    literal = ast.literal_eval(item.annotation.slice)  # type: ignore[attr-defined]
        found[literal] = (required, optional)
    return found


@task
async def work(x: int) -> int:
    return x


def _outcomes() -> dict[str, dict[str, Any]]:
    @workflow
    async def gather() -> Any:
        return await parallel([1, 2, 3], work, concurrency=2)

    @workflow
    async def checkpoint() -> Any:
        return await step("now", lambda: 1)

    @workflow
    async def nap() -> Any:
        await sleep(5)

    @workflow
    async def gate() -> Any:
        return await wait_for_approval(timeout=60, form={"x": {"type": "string"}}, self_approval=False)

    @workflow
    async def done() -> Any:
        return 7

    return {o["type"]: o for o in (run_round(f, {"completed_steps": {}}, {})
                                    for f in (gather, checkpoint, nap, gate, done))}


def test_the_five_outcomes_carry_exactly_the_keys_their_typeddicts_declare() -> None:
    declared = _declared()
    outcomes = _outcomes()
    assert set(outcomes) == OUTCOME_TYPES == set(declared) - {"step"}
    for kind, outcome in outcomes.items():
        required, optional = declared[kind]
        assert required <= set(outcome) <= required | optional, kind


def test_a_dispatched_step_carries_only_keys_its_typeddict_declares() -> None:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == "DispatchStep")
    keys = {i.target.id for i in cls.body if isinstance(i, ast.AnnAssign) and isinstance(i.target, ast.Name)}

    @task(timeout=5, tag="gpu", priority=2, cache_ttl=9, concurrency_limit=1, concurrency_key="k",
          concurrency_time_window_s=3)
    async def busy(x: int) -> int:
        return x

    @workflow
    async def main() -> Any:
        return await busy(1)

    (sent,) = run_round(main, {"completed_steps": {}}, {})["steps"]
    assert set(sent) <= keys and {"name", "script", "args", "key", "dispatch_type", "timeout", "tag"} <= set(sent)
