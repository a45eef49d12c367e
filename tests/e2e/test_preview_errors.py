"""Bad input gets one clear error line, a hint, a non-zero exit, and no traceback."""

from __future__ import annotations

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each

OK_SCRIPT = """
    def main(x: int = 1):
        return x
"""


def _no_traceback(r):
    assert "Traceback" not in r.stderr and "Traceback" not in r.stdout


def test_malformed_json_args_are_a_usage_error(repo, write):
    write("f/a/ok.py", OK_SCRIPT)
    r = wac("script", "preview", "f/a/ok.py", "-d", '{"x": ', cwd=repo, code=2)
    assert "error: -d is not valid JSON" in r.stderr and "hint:" in r.stderr
    _no_traceback(r)


def test_args_from_a_missing_file(repo, write):
    write("f/a/ok.py", OK_SCRIPT)
    r = wac("script", "preview", "f/a/ok.py", "-d", "@nope.json", cwd=repo, code=2)
    assert "no such file: nope.json" in r.stderr
    _no_traceback(r)


def test_args_that_are_not_an_object(repo, write):
    write("f/a/ok.py", OK_SCRIPT)
    r = wac("script", "preview", "f/a/ok.py", "-d", "[1, 2]", cwd=repo, code=2)
    assert "must be a JSON object of arguments, got an array" in r.stderr


def test_args_from_a_file(repo, write):
    write("f/a/ok.py", OK_SCRIPT)
    (repo / "args.json").write_text('{"x": 5}')
    assert wac("script", "preview", "f/a/ok.py", "-d", "@args.json", cwd=repo).json() == 5


def test_unknown_path(repo):
    r = wac("script", "preview", "f/nowhere/x", cwd=repo, code=2)
    assert "no script at f/nowhere/x" in r.stderr and "hint:" in r.stderr


def test_syntax_error_shows_file_and_line_and_submits_nothing(repo, write):
    write("f/a/bad.py", """
        def main(x):
            return (x +
    """)
    r = wac("script", "preview", "f/a/bad.py", cwd=repo, code=1)
    assert "f/a/bad.py:2:" in r.stderr and "syntax error" in r.stderr
    _no_traceback(r)
    assert wac("job", "list", "--json", cwd=repo).json() == []


def test_exception_at_import_time_fails_the_job_clearly(repo, write):
    # imported dynamically: a top-level `import x` of a missing package is a requirement that fails
    # to resolve before the run (tests/e2e/test_environments.py)
    write("f/a/imp.py", """
        import importlib
        importlib.import_module("definitely_not_installed_pkg")

        def main():
            return 1
    """)
    r = wac("script", "preview", "f/a/imp.py", cwd=repo, code=1)
    assert "ModuleNotFoundError" in r.stderr and "definitely_not_installed_pkg" in r.stderr
    _no_traceback(r)


def test_task_returning_a_non_json_value_names_the_task(repo, write):
    write("f/a/obj.py", """
        from wac import task, workflow

        class Thing:
            pass

        @task
        def make_thing():
            return Thing()

        @workflow
        async def main():
            return await make_thing()
    """)
    r = wac("script", "preview", "f/a/obj.py", cwd=repo, code=1)
    assert "make_thing" in r.stderr and "JSON" in r.stderr


def test_reusing_a_step_name_with_another_function_is_fine(repo, write):
    write("f/a/reuse.py", """
        from wac import step, workflow

        @workflow
        async def main():
            a = await step("v", lambda: 1)
            b = await step("v", lambda: 2)
            return [a, b]
    """)
    assert wac("script", "preview", "f/a/reuse.py", cwd=repo).json() == [1, 2]


def test_workflow_whose_keys_change_between_rounds_fails_naming_both_keys(repo, write):
    flag = repo / "flag"
    write("f/a/nondet.py", f"""
        import os
        from wac import task, workflow

        @task
        def fetch() -> int:
            return 1

        @task
        def other() -> int:
            return 2

        @workflow
        async def main():
            if os.path.exists({str(flag)!r}):
                return await other()
            open({str(flag)!r}, "w").close()
            return await fetch()
    """)
    # Divergence shows when a round replays the body. Direct children and sticky parents
    # (issue 17) replay only after an eviction or a crash, so this run forces replays.
    replaying = {"WAC_DIRECT_CHILDREN": "0", "WAC_STICKY_PARENTS": "0"}
    r = wac("script", "preview", "f/a/nondet.py", cwd=repo, code=1, env=replaying)
    assert "'fetch'" in r.stderr and "'other'" in r.stderr and "determin" in r.stderr


def test_a_run_that_never_replays_does_not_trip_on_keys_that_would_change(repo, write):
    flag = repo / "flag"
    write("f/a/nondet.py", f"""
        import os
        from wac import task, workflow

        @task
        def fetch() -> int:
            return 1

        @task
        def other() -> int:
            return 2

        @workflow
        async def main():
            if os.path.exists({str(flag)!r}):
                return await other()
            open({str(flag)!r}, "w").close()
            return await fetch()
    """)
    # the parent stays alive while fetch runs and fetch is called directly: the body runs once
    r = wac("script", "preview", "f/a/nondet.py", "--json", cwd=repo,
            env={"WAC_DIRECT_CHILDREN": "1", "WAC_STICKY_PARENTS": "1"})
    assert r.json()["result"] == 1


def test_approve_a_job_that_is_not_waiting_is_a_clear_error(repo, write):
    write("f/a/ok.py", OK_SCRIPT)
    job = wac("script", "preview", "f/a/ok.py", "--json", cwd=repo).json()["id"]
    r = wac("job", "approve", job, cwd=repo, code=1)
    assert r.stderr.startswith("error:")
    r = wac("job", "get", "nonexistent", cwd=repo, code=1)
    assert "error:" in r.stderr
