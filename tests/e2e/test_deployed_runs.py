"""Deployed scripts on the embedded workspace, through the real CLI: push, list, show, history,
run (the deployed version, pinned for the whole run), task_script of workspace paths, --watch."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import SRC, wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each

Write = Callable[[str, str], Path]

GREET = """
    def main(name: str = "world"):
        return "{word} " + name
"""


def test_script_run_runs_the_deployed_version_and_ignores_local_edits(repo: Path, write: Write) -> None:
    write("f/demo/greet.py", GREET.format(word="hello"))
    pushed = wac("script", "push", "f/demo/greet.py", "--json", cwd=repo).json()
    assert pushed["created"] and pushed["parent_hash"] is None and len(pushed["hash"]) == 16
    write("f/demo/greet.py", GREET.format(word="HELLO"))
    assert wac("script", "run", "f/demo/greet", "-d", '{"name": "ada"}', cwd=repo).json() == "hello ada"
    second = wac("script", "push", "f/demo/greet", "-m", "shout", "--json", cwd=repo).json()
    assert second["created"] and second["parent_hash"] == pushed["hash"]
    run = wac("script", "run", "f/demo/greet", "-d", '{"name": "ada"}', cwd=repo)
    assert run.json() == "HELLO ada"
    assert f"version {second['hash'][:7]}" in run.stderr
    again = wac("script", "push", "f/demo/greet.py", "--json", cwd=repo).json()
    assert not again["created"] and again["hash"] == second["hash"]


def test_history_lists_versions_newest_first_and_show_reads_any_of_them(repo: Path, write: Write) -> None:
    write("f/demo/greet.py", GREET.format(word="hello"))
    first = wac("script", "push", "f/demo/greet.py", "-m", "first", "--json", cwd=repo).json()["hash"]
    write("f/demo/greet.py", GREET.format(word="hi"))
    second = wac("script", "push", "f/demo/greet.py", "-m", "second", "--json", cwd=repo).json()["hash"]
    history = wac("script", "history", "f/demo/greet", "--json", cwd=repo).json()
    assert [(h["hash"], h["deployment_message"]) for h in history] == [(second, "second"), (first, "first")]
    lines = wac("script", "history", "f/demo/greet", cwd=repo).stdout.splitlines()
    assert lines[0].startswith(second[:7]) and "current" in lines[0] and lines[1].startswith(first[:7])
    old = wac("script", "show", "f/demo/greet", "--version", first[:7], "--json", cwd=repo).json()
    assert old["hash"] == first and '"hello "' in old["content"]
    shown = wac("script", "show", "f/demo/greet", cwd=repo).stdout
    assert f"version      {second}" in shown and "inputs       name?: string" in shown and '"hi "' in shown
    listed = wac("script", "list", "--json", cwd=repo).json()
    assert [(s["path"], s["hash"]) for s in listed] == [("f/demo/greet", second)]


def test_texts_from_the_workspace_are_printed_with_control_characters_escaped(repo: Path, write: Write) -> None:
    write("f/demo/greet.py", GREET.format(word="hello"))
    write("f/demo/greet.script.yaml", "summary: \"\\e[31mred\\nforged line\"\ndescription: ''\n")
    wac("script", "push", "f/demo/greet.py", "-m", "\x1b[2Jcleared", cwd=repo)
    for out in (wac("script", "list", cwd=repo).stdout, wac("script", "history", "f/demo/greet", cwd=repo).stdout,
                wac("script", "show", "f/demo/greet", cwd=repo).stdout):
        assert "\x1b" not in out
    assert "\\x1b[31mred\\nforged line" in wac("script", "list", cwd=repo).stdout
    assert "\\x1b[2Jcleared" in wac("script", "history", "f/demo/greet", cwd=repo).stdout
    assert wac("script", "history", "f/demo/greet", "--json", cwd=repo).json()[0]["deployment_message"] == "\x1b[2Jcleared"


def test_a_run_keeps_the_version_it_started_on_when_a_new_one_is_pushed(repo: Path, write: Write) -> None:
    gate = """
        from wac import task, wait_for_approval, workflow

        @task
        def which() -> str:
            return "{v}"

        @workflow
        async def main():
            before = await which()
            await wait_for_approval(timeout=60)
            after = await which()
            return [before, after]
    """
    write("f/demo/gate.py", gate.format(v="v1"))
    wac("script", "push", "f/demo/gate.py", cwd=repo)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "run",
                             "f/demo/gate"], cwd=repo, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 30
        job_id = None
        while time.monotonic() < deadline and job_id is None:
            jobs = wac("job", "list", "--json", "--status", "suspended", cwd=repo).json()
            job_id = jobs[0]["id"] if jobs else None
            time.sleep(0.05)
        assert job_id, "the run never reached its approval"
        write("f/demo/gate.py", gate.format(v="v2"))
        wac("script", "push", "f/demo/gate.py", cwd=repo)
        wac("job", "approve", job_id, cwd=repo)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert out.split() == ["[", '"v1",', '"v1"', "]"]
    assert wac("script", "run", "f/demo/gate", "--approve", cwd=repo).json() == ["v2", "v2"]


def test_task_script_of_a_workspace_path_runs_its_deployed_head(repo: Path, write: Write) -> None:
    write("f/demo/greet.py", GREET.format(word="hello"))
    write("f/demo/flow.py", """
        from wac import task_script, workflow

        @workflow
        async def main(who: str):
            greet = task_script("f/demo/greet")
            return await greet(name=who)
    """)
    failed = wac("script", "preview", "f/demo/flow.py", "-d", '{"who": "ada"}', cwd=repo, code=1)
    assert "f/demo/greet is not deployed in workspace 'local'" in failed.stderr
    wac("script", "push", "f/demo/greet.py", cwd=repo)
    assert wac("script", "preview", "f/demo/flow.py", "-d", '{"who": "ada"}', cwd=repo).json() == "hello ada"
    write("f/demo/greet.py", GREET.format(word="hi"))
    assert wac("script", "preview", "f/demo/flow.py", "-d", '{"who": "ada"}', cwd=repo).json() == "hello ada"
    wac("script", "push", "f/demo/greet.py", cwd=repo)
    wac("script", "push", "f/demo/flow.py", cwd=repo)
    assert wac("script", "run", "f/demo/flow", "-d", '{"who": "bo"}', cwd=repo).json() == "hi bo"


def test_running_an_undeployed_path_or_bad_args_fails_clearly(repo: Path, write: Write) -> None:
    missing = wac("script", "run", "f/demo/nothing", cwd=repo, code=1)
    assert "error: f/demo/nothing is not deployed in workspace 'local'" in missing.stderr
    assert "hint: deploy it with: wac script push" in missing.stderr
    write("f/demo/greet.py", GREET.format(word="hello"))
    wac("script", "push", "f/demo/greet.py", cwd=repo)
    bad = wac("script", "run", "f/demo/greet", "-d", '{"name": 3}', cwd=repo, code=2)
    assert "name" in bad.stderr and "Traceback" not in bad.stderr
    assert wac("script", "history", "f/demo/nothing", cwd=repo, code=1).stderr.startswith("error:")


def test_push_of_a_script_with_broken_metadata_names_the_file_and_deploys_nothing(repo: Path, write: Write) -> None:
    write("f/demo/greet.py", GREET.format(word="hello"))
    write("f/demo/greet.script.yaml", "summary: [unclosed\n")
    res = wac("script", "push", "f/demo/greet.py", cwd=repo, code=1)
    assert "f/demo/greet.script.yaml" in res.stderr and "Traceback" not in res.stderr
    assert wac("script", "list", "--json", cwd=repo).json() == []


def test_push_warns_when_metadata_is_stale(repo: Path, write: Write) -> None:
    write("f/demo/greet.py", GREET.format(word="hello"))
    res = wac("script", "push", "f/demo/greet.py", cwd=repo)
    assert "wac generate-metadata f/demo/greet.py" in res.stderr
    wac("generate-metadata", "--schema-only", "--yes", cwd=repo)
    write("f/demo/greet.py", GREET.format(word="hey"))
    wac("generate-metadata", "--schema-only", "--yes", cwd=repo)
    assert "generate-metadata" not in wac("script", "push", "f/demo/greet.py", cwd=repo).stderr


def _read_until(proc: subprocess.Popen[str], sel: selectors.BaseSelector, want: str, timeout: float) -> str:
    seen = ""
    deadline = time.monotonic() + timeout
    while want not in seen and time.monotonic() < deadline:
        for _key, _ in sel.select(0.1):
            line = proc.stdout.readline() if proc.stdout else ""
            seen += line
    assert want in seen, f"never printed {want!r}; got {seen!r}"
    return seen


SLOW = """from wac import sleep, workflow


@workflow
async def main():
    await sleep(60)
    return "v2"
"""


def test_ctrl_c_while_watch_follows_a_run_stops_watching(repo: Path, write: Write) -> None:
    write("f/demo/w.py", "import time\n\ndef main():\n    time.sleep(60)\n    return 1\n")
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview",
                             "f/demo/w.py", "--watch"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the run is in flight
            if wac("job", "list", "--json", "--status", "running", cwd=repo).json():
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)  # it used to swallow the interrupt and go on watching
    finally:
        proc.kill()
    assert proc.returncode == 130 and "stopped watching" in err and "Traceback" not in err


def test_preview_watch_runs_again_after_a_save_and_cancels_the_run_in_flight(repo: Path, write: Write) -> None:
    write("f/demo/w.py", 'def main():\n    return "v1"\n')
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview",
                             "f/demo/w.py", "--watch"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None
    sel.register(proc.stdout, selectors.EVENT_READ)
    try:
        _read_until(proc, sel, '"v1"', 30)
        time.sleep(0.3)  # let the watcher settle before the save
        write("f/demo/w.py", SLOW)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the slow run is in flight (sleeping)
            if wac("job", "list", "--json", "--status", "queued", cwd=repo).json():
                break
            time.sleep(0.05)
        # an editor's atomic save: a new file renamed over the old one
        (repo / "f/demo/.w.py.tmp").write_text('def main():\n    return "v3"\n')
        os.replace(repo / "f/demo/.w.py.tmp", repo / "f/demo/w.py")
        _read_until(proc, sel, '"v3"', 30)
        time.sleep(0.3)
        (repo / "f/demo/.w.py.tmp").write_text('def main():\n    return "v4"\n')
        os.replace(repo / "f/demo/.w.py.tmp", repo / "f/demo/w.py")
        _read_until(proc, sel, '"v4"', 30)
        (repo / "f/demo/other.py").write_text("x = 1\n")  # another script's file is not ours
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert err.count("change detected") == 3 and "stopped watching" in err and "Traceback" not in err
    assert "the script changed" in err
    statuses = [j["status"] for j in wac("job", "list", "--json", cwd=repo).json()]
    assert statuses == ["succeeded", "succeeded", "cancelled", "succeeded"]


def test_push_of_a_folder_layout_script_carries_its_modules_and_their_locks(repo: Path, write: Write) -> None:
    write("f/demo/etl__mod/script.py", """
        from wac import task_script, workflow

        @workflow
        async def main(n: int = 2):
            double = task_script("./lib/double.py")
            return await double(x=n)
    """)
    write("f/demo/etl__mod/lib/double.py", "def main(x: int):\n    return 2 * x\n")
    write("f/demo/etl__mod/lib/double.lock", "# py: 3.11\nsix==1.16.0\n")
    write("f/demo/etl__mod/script.yaml", "summary: etl\ndescription: ''\nlock: ''\nkind: script\ntimeout: 30\n")
    wac("script", "push", "f/demo/etl__mod/script.py", cwd=repo)
    shown = wac("script", "show", "f/demo/etl", "--json", cwd=repo).json()
    assert shown["layout"] == "folder" and shown["summary"] == "etl" and shown["options"] == {"timeout": 30}
    assert shown["modules"] == {"lib/double.py": {"content": "def main(x: int):\n    return 2 * x\n",
                                                  "language": "python3", "lock": "# py: 3.11\nsix==1.16.0\n"}}
    assert wac("script", "run", "f/demo/etl", "-d", '{"n": 21}', cwd=repo).json() == 42
    # the module is pinned too: a local edit of it changes nothing until the next push
    write("f/demo/etl__mod/lib/double.py", "def main(x: int):\n    return 3 * x\n")
    assert wac("script", "run", "f/demo/etl", "-d", '{"n": 21}', cwd=repo).json() == 42
