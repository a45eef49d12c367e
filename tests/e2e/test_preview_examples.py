"""The spec's workflow examples, previewed for real: CLI subprocess, zygote, rounds, SQLite."""

from __future__ import annotations

import time

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each


def test_sequential_tasks_feed_each_other(repo, write):
    write("f/demo/seq.py", """
        from wac import task, workflow

        @task
        async def double(x: int) -> int:
            return x * 2

        @task
        def add(a: int, b: int) -> int:
            return a + b

        @workflow
        async def main(x: int):
            d = await double(x)
            return await add(d, 1)
    """)
    assert wac("script", "preview", "f/demo/seq.py", "-d", '{"x": 20}', cwd=repo).json() == 41


def test_parallel_with_gather_and_parallel_keeps_input_order(repo, write):
    write("f/demo/par.py", """
        import asyncio
        from wac import task, workflow, parallel

        @task
        async def square(x: int) -> int:
            await asyncio.sleep(0.05 * (5 - x))
            return x * x

        @workflow
        async def main():
            a = await asyncio.gather(*[square(i) for i in range(5)])
            b = await parallel([1, 2, 3], square)
            return a + b
    """)
    assert wac("script", "preview", "f/demo/par.py", cwd=repo).json() == [0, 1, 4, 9, 16, 1, 4, 9]


def test_conditional_on_a_task_result(repo, write):
    write("f/demo/cond.py", """
        from wac import task, workflow

        @task
        def classify(n: int) -> str:
            return "big" if n > 10 else "small"

        @task
        def shout(s: str) -> str:
            return s.upper()

        @task
        def whisper(s: str) -> str:
            return s.lower()

        @workflow
        async def main(n: int):
            kind = await classify(n)
            if kind == "big":
                return await shout("Big")
            return await whisper("Small")
    """)
    assert wac("script", "preview", "f/demo/cond.py", "-d", '{"n": 50}', cwd=repo).json() == "BIG"
    assert wac("script", "preview", "f/demo/cond.py", "-d", '{"n": 5}', cwd=repo).json() == "small"


def test_step_runs_exactly_once_across_rounds(repo, write):
    counter = repo / "count.txt"
    write("f/demo/once.py", f"""
        import random
        from wac import step, task, workflow

        def draw():
            with open({str(counter)!r}, "a") as f:
                f.write("x")
            return random.randint(1, 10**9)

        @task
        def echo(v: int) -> int:
            return v

        @workflow
        async def main():
            v = await step("draw", draw)
            a = await echo(v)
            b = await echo(v)
            return [v, a, b]
    """)
    v, a, b = wac("script", "preview", "f/demo/once.py", cwd=repo).json()
    assert v == a == b
    assert counter.read_text() == "x"


def test_task_error_is_caught_and_a_fallback_runs(repo, write):
    write("f/demo/fallback.py", """
        from wac import task, workflow, TaskError

        @task
        def flaky() -> int:
            raise ValueError("upstream down")

        @task
        def fallback() -> int:
            return -1

        @workflow
        async def main():
            try:
                return await flaky()
            except TaskError as exc:
                return {"fallback": await fallback(), "error": str(exc)}
    """)
    out = wac("script", "preview", "f/demo/fallback.py", cwd=repo).json()
    assert out["fallback"] == -1
    assert "upstream down" in out["error"]


def test_uncaught_task_failure_fails_the_workflow_with_exit_1(repo, write):
    write("f/demo/boom.py", """
        from wac import task, workflow

        @task
        def boom() -> int:
            raise RuntimeError("kaput")

        @workflow
        async def main():
            return await boom()
    """)
    r = wac("script", "preview", "f/demo/boom.py", cwd=repo, code=1)
    assert r.stdout == ""
    assert "kaput" in r.stderr


def test_retry_with_backoff_succeeds_on_the_third_attempt(repo, write):
    attempts = repo / "attempts.txt"
    write("f/demo/retry.py", f"""
        from wac import task, workflow

        @task(retry={{"attempts": 3, "delay": 1, "multiplier": 1}})
        def flaky() -> str:
            with open({str(attempts)!r}, "a") as f:
                f.write("a")
            if len(open({str(attempts)!r}).read()) < 3:
                raise RuntimeError("not yet")
            return "ok"

        @workflow
        async def main():
            return await flaky()
    """)
    r = wac("script", "preview", "f/demo/retry.py", "--skip-sleeps", "--json", cwd=repo)
    doc = r.json()
    assert doc["result"] == "ok" and attempts.read_text() == "aaa"
    timeline = wac("job", "timeline", doc["id"], "--json", cwd=repo).json()
    keys = [e["key"] for e in timeline["entries"]]
    assert keys == ["flaky", "flaky#retry2", "flaky#2", "flaky#retry3", "flaky#3"]


def test_sleep_skipped_in_preview_and_for_real(repo, write):
    write("f/demo/nap.py", """
        from wac import sleep, task, workflow

        @task
        def hello() -> str:
            return "hi"

        @workflow
        async def main(seconds: int = 1):
            await sleep(seconds)
            return await hello()
    """)
    t0 = time.monotonic()
    assert wac("script", "preview", "f/demo/nap.py", "-d", '{"seconds": 30}', "--skip-sleeps", cwd=repo).json() == "hi"
    assert time.monotonic() - t0 < 15
    t0 = time.monotonic()
    doc = wac("script", "preview", "f/demo/nap.py", "--json", cwd=repo).json()
    assert doc["result"] == "hi"
    assert time.monotonic() - t0 >= 1.0
    sleep_entry = [e for e in wac("job", "timeline", doc["id"], "--json", cwd=repo).json()["entries"]
                   if e["kind"] == "sleep"][0]
    from datetime import datetime

    took = datetime.fromisoformat(sleep_entry["finished_at"]) - datetime.fromisoformat(sleep_entry["started_at"])
    assert took.total_seconds() >= 0.99


APPROVAL = """
    from wac import task, workflow, wait_for_approval, get_resume_urls, step

    @task
    def notify(urls: dict) -> bool:
        print("approve at", urls["approvalPage"])
        return True

    @workflow
    async def main():
        urls = await step("urls", lambda: get_resume_urls())
        await notify(urls)
        decision = await wait_for_approval(timeout=600)
        return {"approved": decision["approved"], "value": decision["value"], "by": decision["approver"]}
"""


def test_approval_approved_and_rejected_in_preview(repo, write):
    write("f/demo/gate.py", APPROVAL)
    out = wac("script", "preview", "f/demo/gate.py", "--approve", cwd=repo).json()
    assert out == {"approved": True, "value": None, "by": "preview"}
    out = wac("script", "preview", "f/demo/gate.py", "--reject", cwd=repo).json()
    assert out["approved"] is False


def test_bounded_parallel_keeps_at_most_n_in_flight_and_preserves_order(repo, write):
    log = repo / "inflight.log"
    write("f/demo/bounded.py", f"""
        import time
        from wac import task, workflow, parallel

        @task
        def work(i: int) -> int:
            with open({str(log)!r}, "a") as f:
                f.write(f"{{time.time()}} +1\\n")
            time.sleep(0.25)
            with open({str(log)!r}, "a") as f:
                f.write(f"{{time.time()}} -1\\n")
            return i * 10

        @workflow
        async def main():
            return await parallel(list(range(9)), work, concurrency=3)
    """)
    out = wac("script", "preview", "f/demo/bounded.py", "--workers", "6", cwd=repo).json()
    assert out == [i * 10 for i in range(9)]
    events = sorted((float(t), int(d)) for t, d in (line.split() for line in log.read_text().splitlines()))
    level = peak = 0
    for _t, delta in events:
        level += delta
        peak = max(peak, level)
    assert 2 <= peak <= 3


def test_task_script_runs_a_module_in_the_flat_layout(repo, write):
    write("f/demo/etl.py", """
        from wac import task_script, workflow

        @workflow
        async def main(x: int):
            return await task_script("./extract.py")(x=x)
    """)
    write("f/demo/etl__mod/extract.py", """
        from helpers import triple

        def main(x: int):
            return triple(x)
    """)
    write("f/demo/etl__mod/helpers.py", """
        def triple(x):
            return 3 * x
    """)
    assert wac("script", "preview", "f/demo/etl.py", "-d", '{"x": 4}', cwd=repo).json() == 12


def test_task_script_runs_a_module_in_the_folder_layout(repo, write):
    write("f/demo/wf__mod/script.py", """
        from wac import task_script, workflow

        @workflow
        async def main(x: int):
            return await task_script("./lib/util.py")(x=x)
    """)
    write("f/demo/wf__mod/lib/util.py", """
        def main(x: int):
            return {"got": x}
    """)
    assert wac("script", "preview", "f/demo/wf__mod/script.py", "-d", '{"x": 7}', cwd=repo).json() == {"got": 7}
    # the remote-style path finds the same script
    assert wac("script", "preview", "f/demo/wf", "-d", '{"x": 8}', cwd=repo).json() == {"got": 8}


def test_plain_script_with_main_runs_as_one_job(repo, write):
    write("f/demo/plain.py", """
        def main(name: str = "world"):
            print("greeting", name)
            return f"hello {name}"
    """)
    r = wac("script", "preview", "f/demo/plain.py", "-d", '{"name": "ada"}', "--json", cwd=repo)
    assert r.json()["result"] == "hello ada"
    logs = wac("job", "logs", r.json()["id"], cwd=repo).stdout
    assert "greeting ada" in logs


def test_wmill_imports_run_unchanged(repo, write):
    write("f/demo/wm.py", """
        from wmill import task, workflow, step

        @task()
        def inc(x: int) -> int:
            return x + 1

        @workflow
        async def main(x: int = 1):
            y = await step("y", lambda: x * 100)
            return await inc(y)
    """)
    assert wac("script", "preview", "f/demo/wm.py", cwd=repo).json() == 101
    # the same script through the real wmill package from PyPI, hosted by the engine
    assert wac("script", "preview", "f/demo/wm.py", "--wmill-sdk", cwd=repo).json() == 101
