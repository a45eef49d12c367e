"""Off a terminal, a preview prints one line per finished item, nested workflows indented under
their own line, and each task's log under it (cli/runview.py line mode)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow

Write = Callable[[str, str], Path]


def test_a_nested_workflows_items_are_printed_once_each_under_it_with_their_logs(repo: Path, write: Write) -> None:
    write("f/x/outer.py", """
        from wac import step, task, task_script, workflow

        @task
        def t1(i: int) -> int:
            print("t1 says", i)
            return i

        @workflow
        async def main():
            a = await t1(1)
            b = await task_script("./inner.py")(n=2)
            c = await step("s", lambda: 3)
            return [a, b, c]
    """)
    write("f/x/outer__mod/inner.py", """
        from wac import step, task, workflow

        @task
        def leaf(i: int) -> int:
            print("leaf", i)
            return i * 10

        @workflow
        async def main(n: int):
            return await leaf(n) + await step("inner_step", lambda: 5)
    """)
    run = wac("script", "preview", "f/x/outer.py", "--json", cwd=repo)
    assert run.json()["result"] == [1, 25, 3]
    lines = [re.sub(r"done \d+ ms", "done N ms", line) for line in run.stderr.splitlines()]
    assert lines[:6] == [
        "  ✓ t1  done N ms",
        "    │ t1 says 1",
        "    ✓ leaf  done N ms",
        "      │ leaf 2",
        "    ✓ inner_step (step)  done N ms",
        "  ✓ inner.py (script)  done N ms",
    ]
    assert lines.count("  ✓ s (step)  done N ms") == 1
    assert all("-" not in line.split("done")[-1] for line in lines if "done" in line)
