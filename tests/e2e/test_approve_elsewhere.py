"""`wac job approve ID` from another terminal finds the preview's job (issue 12, item 4).

What made "error: no job ID" right after the hint: the preview always runs on the repo's own
store, while `wac job …` acts on the current workspace, which is machine-wide and can be switched
from any other repo at any moment. The hint names the workspace when it is not the current one,
the error names the workspace it looked in and where the job is, and a repo can pin its workspace.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.clirun import SRC, wac

pytestmark = pytest.mark.slow

GATE = """
    from wac import wait_for_approval, workflow

    @workflow
    async def main():
        d = await wait_for_approval(timeout=600)
        return d["approver"]
"""


def _start_preview(repo: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview",
                             "f/i/gate.py"], cwd=repo, env={**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _suspended_id(repo: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = wac("job", "list", "--status", "suspended", "--json", cwd=repo, env={"WAC_WORKSPACE": "local"}).json()
        if jobs:
            return str(jobs[0]["id"])
        time.sleep(0.1)
    raise AssertionError("the preview never waited for its approval")


def test_a_switch_made_elsewhere_after_the_hint_gives_an_error_that_says_where_the_job_is(
        tmp_path: Path, repo: Path, write) -> None:
    write("f/i/gate.py", GATE)
    wac("workspace", "add", "team", f"sqlite://{tmp_path}/team/wac.db", "--create", cwd=repo)
    proc = _start_preview(repo)
    try:
        job_id = _suspended_id(repo)
        other = tmp_path / "other"
        other.mkdir()
        wac("workspace", "switch", "team", cwd=other)  # another repo, another terminal
        r = wac("job", "approve", job_id, "--approver", "bob", cwd=repo, code=1)
        assert f"error: no job {job_id} in workspace 'team'" in r.stderr
        assert f"WAC_WORKSPACE=local wac job … {job_id}" in r.stderr
        wac("job", "approve", job_id, "--approver", "bob", cwd=repo, env={"WAC_WORKSPACE": "local"})
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert out.strip() == '"bob"'


def test_the_hint_names_the_repos_workspace_when_the_current_one_is_another(tmp_path: Path, repo: Path, write) -> None:
    write("f/i/gate.py", GATE)
    wac("workspace", "add", "team", f"sqlite://{tmp_path}/team/wac.db", "--create", "--switch", cwd=repo)
    proc = _start_preview(repo)
    try:
        job_id = _suspended_id(repo)
        deadline = time.monotonic() + 30
        assert proc.stderr is not None
        line = ""
        while time.monotonic() < deadline and "wac job approve" not in line:
            line = proc.stderr.readline()
        assert f"`WAC_WORKSPACE=local wac job approve {job_id}`" in line, line
        wac("job", "approve", job_id, cwd=repo, env={"WAC_WORKSPACE": "local"})
        proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0


def test_a_relative_state_dir_names_the_same_store_from_any_folder_of_the_repo(repo: Path, write) -> None:
    write("f/i/one.py", "def main():\n    return 1\n")
    env = {"WAC_STATE_DIR": "state"}
    job = wac("script", "preview", "f/i/one.py", "--json", cwd=repo, env=env).json()
    assert (repo / "state" / "wac.db").is_file()
    seen = wac("job", "get", job["id"], "--json", cwd=repo / "f" / "i", env=env).json()
    assert seen["status"] == "succeeded"
    assert not (repo / "f" / "i" / "state").exists()
