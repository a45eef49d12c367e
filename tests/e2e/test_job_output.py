"""What people read from `wac job …` and the preview (issue 12, items 3, 5, 6, 7, 12)."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from tests.clirun import SRC, wac, wac_on_terminal

pytestmark = pytest.mark.slow

WF = """
    from wac import step, task, workflow

    @task
    def first(name: str) -> str:
        print("first says", name)
        return name

    @task
    def second(name: str) -> str:
        print("second says", name)
        return name.upper()

    @workflow
    async def main(name: str = "ada"):
        a = await first(name)
        n = await step("n", lambda: print("inside the step") or len(a))
        return {"b": await second(a), "n": n}
"""

NAP = """
    from wac import sleep, workflow

    @workflow
    async def main(seconds: int = 30):
        await sleep(seconds)
        return "woke"
"""

_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def test_job_logs_shows_each_tasks_output_under_its_task_in_order_without_protocol_lines(repo, write):
    write("f/j/wf.py", WF)
    job = wac("script", "preview", "f/j/wf.py", "--json", cwd=repo).json()
    out = wac("job", "logs", job["id"], cwd=repo).stdout
    assert "--- WAC" not in out and "WM_WAC_STEP" not in out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("== f/j/wf / first ("))
    step = lines.index("inside the step")
    second = next(i for i, line in enumerate(lines) if line.startswith("== f/j/wf / second ("))
    assert lines[first + 1] == "first says ada"
    assert first < step < second
    assert lines[second + 1] == "second says ada"
    raw = wac("job", "logs", job["id"], "--raw", cwd=repo).stdout
    assert "--- WAC: first ---" in raw and "WM_WAC_STEP:" in raw


def test_job_get_shows_local_times_and_durations_and_json_uses_rfc3339(repo, write):
    write("f/j/wf.py", WF)
    job = wac("script", "preview", "f/j/wf.py", "--json", cwd=repo).json()
    for key in ("created_at", "started_at", "finished_at"):
        assert _RFC3339.match(job[key]), job[key]
    human = wac("job", "get", job["id"], cwd=repo).stdout
    assert "None" not in human
    assert not re.search(r"\b1\d{9}\.\d+", human), human  # no epoch floats
    assert re.search(r"^created +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", human, re.M), human
    assert re.search(r"^duration +\d+(\.\d)? (ms|s)$", human, re.M), human
    assert re.search(r'^result +\{"b": "ADA", "n": 3\}$', human, re.M), human
    got = wac("job", "get", job["id"], "--json", cwd=repo).json()
    assert _RFC3339.match(got["created_at"]) and got["parent_id"] is None
    listed = wac("job", "list", "--json", cwd=repo).json()
    assert _RFC3339.match(listed[0]["finished_at"])
    entries = wac("job", "timeline", job["id"], "--json", cwd=repo).json()["entries"]
    assert all(_RFC3339.match(e["started_at"]) for e in entries)


def test_a_sleeping_run_is_shown_sleeping_with_its_wake_time(repo, write):
    write("f/j/nap.py", NAP)
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview",
                             "f/j/nap.py"], cwd=repo, env={**__import__("os").environ, "PYTHONPATH": str(SRC)},
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        jobs: list = []
        while time.monotonic() < deadline:
            jobs = wac("job", "list", "--json", cwd=repo).json()
            if jobs and jobs[0]["status"] == "sleeping":
                break
            time.sleep(0.2)
        assert jobs and jobs[0]["status"] == "sleeping", jobs
        table = wac("job", "list", cwd=repo).stdout
        assert "sleeping" in table and "queued" not in table
        assert [j["id"] for j in wac("job", "list", "--status", "sleeping", "--json", cwd=repo).json()] == [jobs[0]["id"]]
        human = wac("job", "get", jobs[0]["id"], cwd=repo).stdout
        assert re.search(r"^status +sleeping$", human, re.M) and re.search(r"^wakes +\d{4}-", human, re.M), human
        timeline = wac("job", "timeline", jobs[0]["id"], cwd=repo).stdout
        assert timeline.startswith("f/j/nap  sleeping  rounds 1"), timeline
        assert re.search(r"sleep +sleep +sleeping +start +\+[\d.]+ (ms|s|min) +wakes at \d{4}-", timeline), timeline
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def test_the_live_tree_shows_a_sleep_in_progress_with_a_countdown_and_the_root_sleeping(repo, write):
    write("f/j/nap.py", NAP)
    code, screen = wac_on_terminal("script", "preview", "f/j/nap.py", "-d", '{"seconds": 2}', cwd=repo,
                                   answer=None, when=b"", timeout=60)
    assert code == 0, screen
    assert re.search(r"☾ f/j/nap  sleeping", screen), screen
    assert re.search(r"sleep \(sleep\)  sleeping, \d+(\.\d)? (s|ms) left \(wakes at \d\d:\d\d:\d\d\)", screen), screen
    assert "done -" not in screen


def test_a_skipped_sleep_shows_skipped(repo, write):
    write("f/j/nap.py", NAP)
    r = wac("script", "preview", "f/j/nap.py", "--skip-sleeps", cwd=repo)
    assert "sleep (sleep)  skipped" in r.stderr
    assert "done -" not in r.stderr
    job = wac("job", "list", "--json", cwd=repo).json()[0]
    assert re.search(r"sleep +sleep +skipped", wac("job", "timeline", job["id"], cwd=repo).stdout)


def test_version_debug_in_help_one_round_and_one_error_style(repo, write):
    assert re.fullmatch(r"wac \d+\.\d+\.\d+\S*\n", wac("--version", cwd=repo).stdout)
    assert "--debug" in wac("--help", cwd=repo).stdout
    write("f/j/one.py", "def main():\n    return 1\n")
    r = wac("script", "preview", "f/j/one.py", cwd=repo)
    assert "(job " in r.stderr and ", 1 round)" in r.stderr
    bad = wac("job", "list", "--lmit", "2", cwd=repo, code=2)
    assert bad.stderr.startswith("error: no such option: --lmit"), bad.stderr
    assert "Error:" not in bad.stderr and "Usage:" not in bad.stderr
    assert "hint: see: wac job list --help" in bad.stderr
    assert wac("job", "get", cwd=repo, code=2).stderr.startswith("error: missing argument")


def test_job_list_refuses_an_unknown_status_naming_the_valid_ones(repo):
    r = wac("job", "list", "--status", "bogus", cwd=repo, code=2)
    assert r.stderr.startswith("error: unknown status 'bogus'")
    assert "succeeded" in r.stderr and "sleeping" in r.stderr and r.stdout == ""


CHATTY = """
    import sys
    from wac import task, workflow

    @task
    def chatty(n: int) -> int:
        print("FIRST LINE")
        for i in range(n):
            sys.stdout.write(f"{i:07d} " + "x" * 71 + "\\n")
        print("LAST LINE")
        return n

    @workflow
    async def main(n: int = 40000):
        return await chatty(n)
"""


def test_a_task_printing_megabytes_is_capped_in_the_store_and_in_the_view(repo, write):
    write("f/j/chatty.py", CHATTY)  # 40,000 lines of 80 bytes: 3.2 MB
    r = wac("script", "preview", "f/j/chatty.py", cwd=repo)
    assert r.stdout.strip() == "40000"
    assert len(r.stderr) < 16_000, len(r.stderr)
    job = wac("job", "list", "--json", cwd=repo).json()[0]
    assert re.search(r"│ … \d+\.\d MB more, see `wac job logs \w+`", r.stderr), r.stderr[:500]
    assert "LAST LINE" in r.stderr
    logs = wac("job", "logs", job["id"], cwd=repo).stdout
    assert 1_000_000 < len(logs) < 1_100_000
    assert "FIRST LINE" in logs and "LAST LINE" in logs
    assert re.search(r"\[wac: \d+\.\d MB of output left out here", logs)


def test_deployed_scripts_json_uses_rfc3339_too(repo, write):
    write("f/j/one.py", "def main():\n    return 1\n")
    wac("script", "push", "f/j/one.py", cwd=repo)
    assert _RFC3339.match(wac("script", "list", "--json", cwd=repo).json()[0]["created_at"])
    assert _RFC3339.match(wac("script", "show", "f/j/one", "--json", cwd=repo).json()["created_at"])
    assert _RFC3339.match(wac("script", "history", "f/j/one", "--json", cwd=repo).json()[0]["created_at"])
