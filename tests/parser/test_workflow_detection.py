"""@workflow / @task / step / task_script detection and WAC1xx diagnostics."""

from __future__ import annotations

import textwrap

import pytest

from wac.parser import parse_script


def parse(source: str):
    return parse_script(textwrap.dedent(source).lstrip("\n"), "wf.py")


def codes(info) -> list[tuple[str, int]]:
    return [(d.code, d.line) for d in info.diagnostics]


@pytest.mark.parametrize(
    "header",
    [
        "import wac as w\n\n@w.workflow",
        "from wac import workflow\n\n@workflow",
        "from wmill import workflow as wf\n\n@wf",
        "import wmill\n\n@wmill.workflow",
        "import wac\n\n@wac.workflow",
        "from wmill.client import workflow\n\n@workflow",
    ],
)
def test_workflow_is_recognised_however_it_is_imported(header: str) -> None:
    info = parse_script(f"{header}\nasync def main(x: int):\n    return x\n")
    assert info.is_workflow
    assert info.diagnostics == ()


@pytest.mark.parametrize(
    "source",
    [
        "@workflow\nasync def main():\n    pass\n",  # no import at all
        "def workflow(f):\n    return f\n\n@workflow\nasync def main():\n    pass\n",
        "import wmill\n# @workflow\nasync def main():\n    pass\n",
        "from wmill import task\n\ndef main():\n    s = '@workflow'\n",
        "from other import workflow\n\n@workflow\nasync def main():\n    pass\n",
    ],
)
def test_workflow_look_alikes_are_not_workflows(source: str) -> None:
    assert not parse_script(source).is_workflow


def test_tasks_are_listed_with_names_and_literal_options() -> None:
    info = parse("""
        from wmill import task as t, workflow, step, task_script, task_flow
        import wac

        @t(timeout=5, tag="gpu", retry={"attempts": 3, "delay": 2})
        async def fetch(url: str) -> str:
            return url

        @wac.task
        def plain(x):
            return x

        extract = task_script("./extract.py", priority=3)
        pipeline = task_flow("f/etl/pipeline")

        @workflow
        async def main(url: str):
            stamp = await step("stamp", lambda: 1)
            return await fetch(url)
    """)
    assert info.is_workflow
    assert [(t.kind, t.name, t.line, dict(t.options), t.is_async) for t in info.tasks] == [
        ("task", "fetch", 5, {"timeout": 5, "tag": "gpu",
                              "retry": {"attempts": 3, "delay": 2}}, True),
        ("task", "plain", 9, {}, False),
        ("task_script", "./extract.py", 12, {"priority": 3}, False),
        ("task_flow", "f/etl/pipeline", 13, {}, False),
        ("step", "stamp", 17, {}, False),
    ]
    assert info.diagnostics == ()


def test_a_local_function_named_task_is_not_a_task() -> None:
    info = parse("""
        from wac import workflow

        def task(f):
            return f

        @task
        def helper():
            pass

        @workflow
        async def main():
            pass
    """)
    assert info.tasks == ()


def test_task_defined_inside_a_function_is_reported() -> None:
    info = parse("""
        from wac import task, workflow

        @workflow
        async def main():
            @task
            async def inner():
                return 1
            return await inner()
    """)
    assert codes(info) == [("WAC101", 6)]
    assert str(info.diagnostics[0]).startswith("wf.py:6:15 WAC101 task 'inner'")


def test_dynamic_step_name_is_reported_with_its_position() -> None:
    info = parse("""
        from wac import workflow, step

        @workflow
        async def main(n: int):
            for i in range(n):
                await step(f"item_{i}", lambda: i)
    """)
    assert codes(info) == [("WAC102", 6)]
    assert info.diagnostics[0].col == 20
    assert info.tasks[0].name is None


def test_workflow_on_a_sync_function_is_an_error() -> None:
    info = parse("""
        from wmill import workflow

        @workflow
        def main():
            pass
    """)
    assert codes(info) == [("WAC103", 4)]
    assert info.diagnostics[0].severity == "error"


def test_workflow_with_parentheses_is_an_error() -> None:
    info = parse("""
        from wmill import workflow

        @workflow()
        async def main():
            pass
    """)
    assert codes(info) == [("WAC104", 3)]


@pytest.mark.parametrize(
    ("decorator", "code"),
    [
        ("@task(timeot=5)", "WAC105"),
        ("@task(timeout=LIMIT)", "WAC106"),
        ("@task(timeout='5')", "WAC107"),
        ("@task(timeout=0)", "WAC107"),
        ("@task(retry={'attempts': 101})", "WAC107"),
        ("@task(retry={'tries': 3})", "WAC107"),
        ("@task(5)", "WAC107"),
    ],
)
def test_bad_task_options_are_reported(decorator: str, code: str) -> None:
    info = parse_script(f"from wac import task\nLIMIT = 5\n\n{decorator}\ndef f():\n    pass\n")
    assert codes(info) == [(code, 4)]


@pytest.mark.parametrize(
    ("call", "code"),
    [
        ("wait_for_approval(key='a/b')", "WAC108"),
        ("step('', f)", "WAC108"),
        ("sleep(5, key='..')", "WAC108"),
        ("task_script('extract.py')", "WAC109"),
        ("task_flow('./flow.py')", "WAC109"),
        ("task_script(PATH)", "WAC102"),
    ],
)
def test_bad_keys_and_paths_are_reported(call: str, code: str) -> None:
    source = (
        "from wac import workflow, step, sleep, task_script, task_flow, wait_for_approval\n"
        "PATH = 'f/a/b'\n\n"
        f"@workflow\nasync def main():\n    await {call}\n"
    )
    assert codes(parse_script(source)) == [(code, 6)]


def test_second_workflow_and_workflow_not_on_main_are_reported() -> None:
    info = parse("""
        from wac import workflow

        @workflow
        async def helper():
            pass

        @workflow
        async def main():
            pass
    """)
    assert codes(info) == [("WAC110", 4), ("WAC111", 8)]


def test_workflow_assigned_to_main_is_a_workflow_that_wmill_gives_no_arguments() -> None:
    info = parse("""
        from wmill import workflow

        async def inner(x: int):
            return x

        main = workflow(inner)
    """)
    assert info.is_workflow and not info.main_found
    assert codes(info) == [("WAC201", 6)]


def test_metadata_detail_skips_the_workflow_analysis_but_guesses_is_workflow() -> None:
    source = "from wac import workflow, task\n\n@task(timeot=1)\ndef t():\n    pass\n\n" \
             "@workflow\nasync def main():\n    pass\n"
    full = parse_script(source)
    fast = parse_script(source, detail="metadata")
    assert full.is_workflow and fast.is_workflow
    assert fast.tasks == () and fast.diagnostics == ()
    assert full.schema == fast.schema and full.requirements == fast.requirements


@pytest.mark.parametrize(
    # wmill's parser reports auto_kind "wac" by a substring test; wac's one answer, is_workflow,
    # resolves names. The column in the middle is what wmill says, for the record.
    ("name", "wmill_auto_kind", "is_workflow"),
    [
        ("wac_marker_in_comment", "wac", False),
        ("wac_string_marker_only", "wac", False),
        ("workflow_async_main", "wac", True),
        ("wac_parens_decorator", "wac", True),
        ("workflow_called_decorator", None, True),
        ("wac_alias_decorator", None, True),
        ("wac_no_import", None, False),
        ("wac_workflow_call_no_main", "wac", True),
        ("no_main", "lib", False),
        ("ann_int", None, False),
    ],
)
def test_is_workflow_resolves_names_where_wmills_text_rule_only_guesses(
    name: str, wmill_auto_kind: str | None, is_workflow: bool
) -> None:
    from tests.parser.helpers import corpus_source

    info = parse_script(corpus_source(name))
    assert info.is_workflow == is_workflow
    assert not hasattr(info, "auto_kind")


def test_non_deterministic_calls_in_a_workflow_body_are_reported() -> None:
    info = parse("""
        import random
        import time as t
        from datetime import datetime
        import requests
        from wac import workflow, step, task

        @task
        async def fetch():
            return requests.get("https://x").json()

        @workflow
        async def main():
            a = t.time()
            b = datetime.now()
            c = random.randint(1, 6)
            d = await step("stamp", lambda: t.time())
            e = requests.post("https://x")
            rng = random.Random(42)
            return a, b, c, d, e
    """)
    assert [(d.code, d.line) for d in info.diagnostics] == [
        ("WAC113", 13), ("WAC113", 14), ("WAC113", 15), ("WAC113", 17)]
    assert "datetime.datetime.now()" in info.diagnostics[1].message


def test_blocking_sleep_in_a_workflow_body_is_reported() -> None:
    info = parse("""
        import asyncio
        from wmill import workflow, task

        @task
        async def slow():
            await asyncio.sleep(1)

        @workflow
        async def main():
            await asyncio.sleep(60)
            return await slow()
    """)
    assert codes(info) == [("WAC114", 10)]
