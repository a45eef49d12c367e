"""Preview on a terminal (a real pseudo-terminal), Ctrl-C, approval timeouts, argument checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirun import SRC, wac, wac_on_terminal

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each

GATE = """
    from wac import task, wait_for_approval, workflow

    @task
    def before() -> int:
        return 1

    @workflow
    async def main():
        await before()
        d = await wait_for_approval(timeout={timeout})
        return {{"approved": d["approved"], "by": d["approver"]}}
"""


def _run_on_a_terminal(repo: Path, args: list[str], answer: bytes | None, timeout: float = 30) -> tuple[int, str]:
    """Run wac on a pty (colours on); type ``answer`` when it asks; return (code, screen)."""
    return wac_on_terminal(*args, cwd=repo, answer=answer, when=b"Approve?", color=True, timeout=timeout)


def test_on_a_terminal_preview_draws_the_run_and_asks_for_the_approval(repo, write):
    write("f/i/gate.py", GATE.format(timeout=600))
    code, screen = _run_on_a_terminal(repo, ["script", "preview", "f/i/gate.py"], answer=b"y\n")
    assert code == 0, screen
    assert "waits for approval 'approval'" in screen and "Approve? [y/n]" in screen
    assert "before" in screen and "succeeded" in screen  # the live tree
    assert '"approved": true' in screen and '"by": "preview"' in screen


def test_on_a_terminal_answering_no_rejects(repo, write):
    write("f/i/gate.py", GATE.format(timeout=600))
    code, screen = _run_on_a_terminal(repo, ["script", "preview", "f/i/gate.py"], answer=b"n\n")
    assert code == 0, screen
    assert '"approved": false' in screen


def test_an_approval_that_times_out_fails_the_workflow_clearly(repo, write):
    write("f/i/gate.py", GATE.format(timeout=1))
    r = wac("script", "preview", "f/i/gate.py", cwd=repo, code=1)
    assert "wac job approve" in r.stderr  # not a terminal: it says how to answer, then waits
    assert "approval 'approval' timed out" in r.stderr


def test_ctrl_c_leaves_the_run_in_the_store_and_wac_worker_finishes_it(repo, write):
    write("f/i/slow.py", """
        import time
        from wac import step, task, workflow

        @task
        def slow(i: int) -> int:
            time.sleep(0.5)
            return i

        @workflow
        async def main():
            total = 0
            for i in range(4):
                total += await slow(i)
            return total
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview",
                             "f/i/slow.py"], cwd=repo, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        jobs = wac("job", "list", "--all", "--json", cwd=repo).json()
        if len(jobs) >= 2:  # the workflow and its first task exist
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "stays in the workspace" in err and "wac worker" in err
    root = wac("job", "list", "--json", cwd=repo).json()[0]
    assert root["status"] not in ("succeeded", "failed", "cancelled")
    worker = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "--lease", "1"],
                              cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = wac("job", "get", root["id"], "--json", cwd=repo).json()
            if job["status"] in ("succeeded", "failed"):
                break
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGINT)
        worker.communicate(timeout=30)
    assert job["status"] == "succeeded" and job["result"] == 6


def test_task_script_of_a_workspace_path_says_it_is_not_deployed(repo, write):
    write("f/i/remote.py", """
        from wac import task_script, workflow

        @workflow
        async def main():
            return await task_script("f/shared/cleanup")(days=3)
    """)
    r = wac("script", "preview", "f/i/remote.py", cwd=repo, code=1)
    assert "f/shared/cleanup is not deployed" in r.stderr


def test_arguments_are_checked_against_the_inferred_schema_naming_each_bad_field(repo, write):
    write("f/i/typed.py", """
        def main(name: str, count: int = 1, tags: list[str] = []):
            return name
    """)
    r = wac("script", "preview", "f/i/typed.py", "-d", '{"count": "many", "tags": "x"}', cwd=repo, code=2)
    assert "'count': expected integer" in r.stderr and "'tags': expected array" in r.stderr
    assert "name" in r.stderr  # missing required
    assert wac("job", "list", "--json", cwd=repo).json() == []  # nothing was submitted
    assert wac("script", "preview", "f/i/typed.py", "-d", '{"name": "ada"}', cwd=repo).json() == "ada"


def test_arguments_are_checked_against_a_fresh_script_yaml(repo, write):
    write("f/i/typed.py", """
        def main(name: str):
            return name
    """)
    wac("generate-metadata", "--schema-only", "--yes", cwd=repo)
    meta = repo / "f/i/typed.script.yaml"
    assert meta.exists()
    # the user narrows the input in the UI-side metadata: an enum the code does not know about
    meta.write_text(meta.read_text().replace("type: string", "type: string\n      enum:\n        - ada\n        - bob", 1))
    wac("generate-metadata", "rehash", cwd=repo)  # records the edited metadata as current
    r = wac("script", "preview", "f/i/typed.py", "-d", '{"name": "eve"}', cwd=repo, code=2)
    assert "'name'" in r.stderr
    assert wac("script", "preview", "f/i/typed.py", "-d", '{"name": "bob"}', cwd=repo).json() == "bob"
