"""Inputs that gave tracebacks or silently wrong results (issue 12, items 13, 18-21)."""

from __future__ import annotations

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow


def test_an_unknown_argument_name_is_refused_before_any_job_is_created(repo, write):
    write("f/a/greet.py", "def main(name: str = 'x', n: int = 1):\n    return name * n\n")
    r = wac("script", "preview", "f/a/greet.py", "-d", '{"nmae": "ada"}', cwd=repo, code=2)
    assert r.stderr.startswith("error: arguments do not match the inputs of f/a/greet: unknown argument 'nmae'")
    assert "main takes: n, name" in r.stderr and r.stdout == ""
    assert wac("job", "list", "--json", cwd=repo).json() == []


def test_an_unknown_argument_name_is_refused_by_script_run_too(repo, write):
    write("f/a/greet.py", "def main(name: str = 'x'):\n    return name\n")
    wac("script", "push", "f/a/greet.py", cwd=repo)
    r = wac("script", "run", "f/a/greet", "-d", '{"nmae": "ada"}', cwd=repo, code=2)
    assert "unknown argument 'nmae'" in r.stderr
    assert wac("job", "list", "--json", cwd=repo).json() == []


def test_a_main_with_kwargs_takes_any_argument_name(repo, write):
    write("f/a/any.py", "def main(name: str = 'x', **rest):\n    return sorted(rest)\n")
    assert wac("script", "preview", "f/a/any.py", "-d", '{"other": 1}', cwd=repo).json() == ["other"]


def test_a_latin1_source_file_is_refused_with_a_diagnostic(repo, write):
    (repo / "f" / "a").mkdir(parents=True)
    (repo / "f/a/latin.py").write_bytes(b'def main():\n    return "caf\xe9"\n')
    r = wac("script", "preview", "f/a/latin.py", cwd=repo, code=1)
    assert r.stderr.startswith("error: f/a/latin.py:2:16 WAC002 source cannot be decoded: byte 0xe9 is not UTF-8")
    assert "save the file as UTF-8" in r.stderr and r.stdout == ""
    assert "WAC002" in wac("script", "push", "f/a/latin.py", cwd=repo, code=1).stderr


def test_a_latin1_module_of_a_script_is_refused_too(repo, write):
    write("f/a/uses__mod/script.py", "from .helper import word\n\ndef main():\n    return word()\n")
    (repo / "f/a/uses__mod/helper.py").write_bytes(b'def word():\n    return "caf\xe9"\n')
    r = wac("script", "preview", "f/a/uses__mod/script.py", cwd=repo, code=1)
    assert "helper.py:2:16 WAC002" in r.stderr


def test_awaiting_task_script_without_calling_it_says_what_to_write(repo, write):
    write("f/a/wf.py", """
        from wac import task_script, workflow

        @workflow
        async def main():
            return await task_script("f/a/other")
    """)
    r = wac("script", "preview", "f/a/wf.py", cwd=repo, code=1)
    assert 'task_script("f/a/other") is a task, not a result' in r.stderr
    assert 'await task_script("f/a/other")(x=1)' in r.stderr


def test_a_task_calling_sys_exit_fails_saying_it_exited_with_that_code(repo, write):
    write("f/a/wf.py", """
        import sys
        from wac import task, workflow

        @task
        def quit() -> int:
            sys.exit(3)

        @workflow
        async def main():
            return await quit()
    """)
    r = wac("script", "preview", "f/a/wf.py", cwd=repo, code=1)
    assert "exited with code 3" in r.stderr


def test_previewing_a_typescript_file_says_which_languages_wac_runs(repo, write):
    write("f/a/x.ts", "export async function main() { return 1 }\n")
    r = wac("script", "preview", "f/a/x.ts", cwd=repo, code=2)
    assert r.stderr.startswith("error: f/a/x.ts is a bun script; wac runs Python scripts only (.py)")
    assert "syntax error" not in r.stderr


def test_task_flow_on_a_deployed_script_says_it_is_a_script(repo, write):
    write("f/lib/adder.py", "def main(x: int = 1):\n    return x + 1\n")
    wac("script", "push", "f/lib/adder.py", cwd=repo)
    write("f/a/wf.py", """
        from wac import task_flow, task_script, workflow

        @workflow
        async def main():
            ok = await task_script("f/lib/adder")(x=1)
            return await task_flow("f/lib/adder")(x=ok)
    """)
    r = wac("script", "preview", "f/a/wf.py", cwd=repo, code=1)
    assert 'f/lib/adder is a script, not a flow: call it with task_script("f/lib/adder")' in r.stderr


_CHECK_IN_A_PROCESS = """
import json, sys
from pathlib import Path
from wac.cli.prepare import check_args
from wac.errors import ArgsError
from wac.project import resolve_script
ref = resolve_script(Path.cwd(), "f/a/greet.py")
try:
    check_args(ref, ref.main_file.read_text(), json.loads(sys.argv[1]))
    verdict = "ok"
except ArgsError as exc:
    verdict = exc.message
print(json.dumps({"verdict": verdict, "parser_imported": "libcst" in sys.modules}))
"""


def test_a_preview_of_an_unchanged_script_checks_its_arguments_without_importing_the_parser(repo, write):
    import json
    import subprocess
    import sys

    write("f/a/greet.py", "def main(name: str = 'x', n: int = 1):\n    return name * n\n")

    def check(args: dict[str, object]) -> dict[str, object]:
        out = subprocess.run([sys.executable, "-c", _CHECK_IN_A_PROCESS, json.dumps(args)], cwd=repo,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    first = check({"name": "ada"})
    assert first == {"verdict": "ok", "parser_imported": True}  # parsed once, cached by content
    again = check({"nmae": "ada", "n": "two"})
    assert again["parser_imported"] is False
    assert "unknown argument 'nmae'" in again["verdict"] and "'n': expected integer" in again["verdict"]
    write("f/a/greet.py", "def main(name: str = 'x', n: int = 1, **rest):\n    return name * n\n")
    edited = check({"nmae": "ada"})  # new code: parsed again, and now any name is taken
    assert edited == {"verdict": "ok", "parser_imported": True}
    r = wac("script", "preview", "f/a/greet.py", "-d", '{"nmae": "ada"}', cwd=repo)
    assert r.json() == "x"
