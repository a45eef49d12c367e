"""The real ``wac`` CLI, in a subprocess, against the fake Windmill: a workspace added by URL is
pushed to, run on and read from through the HTTP API (every request checked by the fake)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import wac
from tests.remote.fakewindmill import FakeWindmill

pytestmark = pytest.mark.slow

WF = """
    def main(name: str = "ada"):
        return {"hello": name}
"""


def test_push_run_and_read_a_script_on_a_windmill_workspace(repo: Path, write: Callable[[str, str], Path],
                                                            wm: FakeWindmill, tmp_path: Path) -> None:
    env = {"WAC_CONFIG_DIR": str(tmp_path / "config")}
    write("f/demo/hello.py", WF)
    wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", "test", "--switch",
        cwd=repo, env=env)

    pushed = wac("script", "push", "f/demo/hello", cwd=repo, env=env)
    run = wac("script", "run", "f/demo/hello", "-d", '{"name": "bob"}', cwd=repo, env=env)

    assert "pushed f/demo/hello" in pushed.stderr and wm.head("f/demo/hello") is not None
    assert run.json() == {"path": "f/demo/hello", "args": {"name": "bob"}}
    ops = [r.op for r in wm.requests]
    assert ops[:2] == ["getScriptByPath", "createScript"] and ops.count("runScriptByPath") == 1
    assert wm.token not in pushed.stderr + run.stderr


def test_a_refused_token_and_a_dead_server_exit_3_and_7(repo: Path, wm: FakeWindmill, tmp_path: Path) -> None:
    env = {"WAC_CONFIG_DIR": str(tmp_path / "config"), "WAC_WORKSPACE": "prod"}
    wac("workspace", "add", "prod", wm.url, "--token", "not-the-token", "--workspace-id", "test", cwd=repo, env=env)

    refused = wac("script", "list", cwd=repo, env=env, code=3)
    wm.stop()
    unreachable = wac("script", "list", cwd=repo, env=env, code=7)

    assert refused.stderr.startswith("error: workspace 'prod' refused the token") and "not-the-token" not in refused.stderr
    assert "hint: set a valid token: wac workspace add prod" in refused.stderr
    assert f"cannot reach workspace 'prod' at {wm.url}" in unreachable.stderr and "Traceback" not in unreachable.stderr
