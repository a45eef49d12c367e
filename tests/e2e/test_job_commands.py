"""`wac job …` against runs made by `wac script preview`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.clirun import SRC, wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each

WF = """
    from wac import step, task, workflow

    @task
    def hello(name: str) -> str:
        print("saying hello to", name)
        return f"hello {name}"

    @workflow
    async def main(name: str = "ada"):
        n = await step("n", lambda: len(name))
        return {"greeting": await hello(name), "n": n}
"""


def test_list_get_result_logs_timeline_of_a_preview_run(repo, write):
    write("f/j/wf.py", WF)
    job = wac("script", "preview", "f/j/wf.py", "--json", cwd=repo).json()
    assert job["status"] == "succeeded" and job["result"] == {"greeting": "hello ada", "n": 3}
    listed = wac("job", "list", "--json", cwd=repo).json()
    assert [j["id"] for j in listed] == [job["id"]]
    table = wac("job", "list", cwd=repo).stdout
    assert job["id"] in table and "succeeded" in table and "f/j/wf" in table
    assert wac("job", "get", job["id"], "--json", cwd=repo).json()["status"] == "succeeded"
    assert wac("job", "result", job["id"], cwd=repo).json() == {"greeting": "hello ada", "n": 3}
    assert "saying hello to ada" in wac("job", "logs", job["id"], cwd=repo).stdout
    tl = wac("job", "timeline", job["id"], "--json", cwd=repo).json()
    assert [(e["key"], e["kind"]) for e in tl["entries"]] == [("n", "step"), ("hello", "task")]
    assert tl["rounds"] >= 2 and tl["replays"] == tl["rounds"] - 1
    text = wac("job", "timeline", job["id"], cwd=repo).stdout
    assert "replays" in text and "hello" in text


def test_result_of_a_failed_job_exits_1(repo, write):
    write("f/j/bad.py", """
        def main():
            raise ValueError("nope")
    """)
    job = wac("script", "preview", "f/j/bad.py", "--json", cwd=repo, code=1).json()
    assert job["status"] == "failed" and job["error"]["name"] == "ValueError"
    r = wac("job", "result", job["id"], cwd=repo, code=1)
    assert "nope" in r.stderr


def test_approval_answered_from_another_terminal_with_a_resume_url(repo, write):
    write("f/j/gate.py", """
        from wac import get_resume_urls, step, task, workflow, wait_for_approval

        @task
        def send(url: str) -> str:
            print("RESUME", url)
            return url

        @workflow
        async def main():
            urls = await step("urls", lambda: get_resume_urls())
            await send(urls["resume"])
            d = await wait_for_approval(timeout=600)
            return d
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview", "f/j/gate.py"],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        job = None
        while time.monotonic() < deadline:
            jobs = wac("job", "list", "--json", cwd=repo).json()
            if jobs and jobs[0]["status"] == "suspended":
                job = jobs[0]
                break
            time.sleep(0.1)
        assert job is not None, "the run never waited for approval"
        logs = wac("job", "logs", job["id"], cwd=repo).stdout
        url = [line.split()[1] for line in logs.splitlines() if line.startswith("RESUME")][0]
        bad = url.replace("token=", "token=0")
        assert wac("job", "approve", bad, cwd=repo, code=1).stderr.startswith("error:")
        wac("job", "approve", url, "--value", '{"ok": 1}', "--approver", "bob", cwd=repo)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    assert proc.returncode == 0, err
    assert "wac job approve" in err
    import json
    assert json.loads(out) == {"value": {"ok": 1}, "approver": "bob", "approved": True}


def test_cancel_a_job_from_the_cli(repo, write):
    write("f/j/long.py", """
        from wac import sleep, workflow

        @workflow
        async def main():
            await sleep(3600)
            return 1
    """)
    env = {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview", "f/j/long.py"],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            jobs = wac("job", "list", "--json", cwd=repo).json()
            if jobs and any(e["kind"] == "sleep" for e in
                            wac("job", "timeline", jobs[0]["id"], "--json", cwd=repo).json()["entries"]):
                break
            time.sleep(0.1)
        r = wac("job", "cancel", jobs[0]["id"], cwd=repo)
        assert "cancelled 1 job" in r.stderr
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    assert proc.returncode == 1 and "cancelled" in err
    assert wac("job", "get", jobs[0]["id"], "--json", cwd=repo).json()["status"] == "cancelled"
