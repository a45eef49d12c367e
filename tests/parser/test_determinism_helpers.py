"""WAC113 through helpers of the module (one level deep) and for os.environ (issue 14 §3)."""

from __future__ import annotations

import textwrap

from wac.parser import parse_script

HEADER = """
import os, random, secrets, uuid
from os import environ
from datetime import datetime
from wac import step, task, workflow
"""


def wac113(body: str) -> list[tuple[int, str]]:
    source = textwrap.dedent(HEADER).lstrip("\n") + textwrap.dedent(body)
    info = parse_script(source, "wf.py")
    return [(d.line, d.message) for d in info.diagnostics if d.code == "WAC113"]


def test_a_helper_reading_uuid_random_secrets_or_the_clock_is_reported_at_its_call_in_the_body() -> None:
    found = wac113("""
        def new_id():
            return uuid.uuid4().hex

        def pick():
            return random.choice([1, 2]) + secrets.randbelow(3)

        def stamp():
            return datetime.now().isoformat()

        @workflow
        async def main():
            return [new_id(), pick(), stamp()]
    """)
    assert [line for line, _ in found] == [17, 17, 17]
    messages = " | ".join(m for _, m in found)
    assert "new_id() calls uuid.uuid4() (line 7)" in messages
    assert "pick() calls random.choice() (line 10) (and 1 more)" in messages
    assert "stamp() calls datetime.datetime.now() (line 13)" in messages


def test_os_environ_is_reported_in_the_body_and_through_a_helper_however_it_is_imported() -> None:
    found = wac113("""
        def token():
            return os.environ.get("TOKEN", "") + environ["X"]

        @workflow
        async def main():
            home = os.environ["HOME"]
            user = os.getenv("USER")
            return token(), home, user
    """)
    assert [line for line, _ in found] == [11, 12, 13]
    assert found[0][1].startswith("os.environ in a workflow body")
    assert found[1][1].startswith("os.getenv() in a workflow body")
    assert found[2][1].startswith("token() reads os.environ (line 7) (and 1 more)")


def test_helpers_inside_step_or_tasks_and_pure_or_deeper_helpers_are_not_reported() -> None:
    found = wac113("""
        def new_id():
            return uuid.uuid4().hex

        def pure(x):
            return x * 2

        def deeper():  # calls a helper that is not deterministic: one level only is seen
            return new_id()

        class Box:
            def new_id(self):
                return 1

        @task
        def in_task():
            return new_id()

        @workflow
        async def main():
            a = await step("a", new_id)
            b = await step("b", lambda: new_id())
            return a, b, pure(2), deeper(), await in_task()
    """)
    assert found == []
