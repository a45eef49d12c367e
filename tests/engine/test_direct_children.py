"""Children without replaying the parent (issue 17): a dispatched child of a module-level @task
calls the task with its recorded args; everything else keeps the replay path."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.engine.enginerun import submit, workers, workspace
from wac.engine.worker import WorkerConfig

pytestmark = pytest.mark.slow

COUNTING = """
    import os
    from wac import task, workflow

    BODY = {side!r}

    @task
    def work(i: int) -> int:
        return i * 10

    @workflow
    async def main(n: int):
        with open(BODY, "a") as f:  # once per run of the workflow body, in any process
            f.write(os.environ["WAC_JOB_ID"] + "\\n")
        total = 0
        for i in range(n):
            total += await work(i)
        return total
"""


def _run(repo: Path, rel: str, args: dict, slots: int = 2) -> tuple:
    with workspace(repo) as ws:
        job_id = submit(ws, rel, args)
        with workers(ws, WorkerConfig(slots=slots)):
            job = ws.store.wait_for_result(job_id, 120)
        children = ws.store.children(job_id)
        return job, children


@pytest.mark.parametrize("setting", ["1", "0"])
def test_a_module_level_task_child_calls_the_task_without_replaying_its_parent(repo, write, monkeypatch, setting):
    monkeypatch.setenv("WAC_DIRECT_CHILDREN", setting)
    monkeypatch.setenv("WAC_STICKY_PARENTS", "0")  # a round per dispatch, so body runs can be counted
    side = repo / "body.txt"
    write("f/x/count.py", COUNTING.format(side=str(side)))
    job, children = _run(repo, "f/x/count.py", {"n": 3})
    assert (job.status, job.result) == ("succeeded", 30)
    runs = side.read_text().splitlines()
    parent_runs = [r for r in runs if r == job.id]
    assert len(parent_runs) == 4  # one round per dispatch, one to finish
    if setting == "1":
        assert all(c.options.direct == "f.x.count:work:6" for c in children), [c.options for c in children]
        assert len(runs) == 4  # no child replayed the body
    else:
        assert all(c.options.direct is None for c in children)
        assert len(runs) == 7  # each of the 3 children replayed the body to reach its call


def test_closures_and_non_json_arguments_keep_the_replay_path_with_the_same_values(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_DIRECT_CHILDREN", "1")
    write("f/x/kinds.py", """
        from wac import task, workflow

        @task
        def kind_of(x) -> str:
            return type(x).__name__

        @task
        def plain(x: int) -> int:
            return x + 1

        @workflow
        async def main(base: int):
            @task
            def nested(y: int) -> int:
                return base + y  # a closure over the workflow's argument

            a = await nested(1)
            b = await kind_of((1, 2))  # the body passes a tuple; the recorded copy is a list
            c = await plain(a)
            return [a, b, c]
    """)
    job, children = _run(repo, "f/x/kinds.py", {"base": 100})
    assert (job.status, job.result) == ("succeeded", [101, "tuple", 102])
    direct = {c.parent_key: c.options.direct for c in children}
    assert direct == {"nested": None, "kind_of": None, "plain": "f.x.kinds:plain:7"}


def test_a_task_bound_under_another_name_keeps_the_replay_path(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_DIRECT_CHILDREN", "1")
    write("f/x/alias.py", """
        from wac import task, workflow

        def _impl(i: int) -> str:
            return f"impl-{i}"

        work = task(_impl)  # the module binds the task as `work`, its function is `_impl`

        @workflow
        async def main():
            return await work(1)
    """)
    job, children = _run(repo, "f/x/alias.py", {})
    assert (job.status, job.result) == ("succeeded", "impl-1")
    assert [c.options.direct for c in children] == [None]


def test_a_direct_child_that_cannot_find_its_function_replays_the_parent_from_the_store(repo, write, monkeypatch):
    monkeypatch.setenv("WAC_DIRECT_CHILDREN", "1")
    write("f/x/moved.py", """
        import os
        from wac import task, workflow

        @task
        def work(i: int) -> str:
            return f"ran-{i}"

        if os.environ["WAC_JOB_ID"] != os.environ["WAC_ROOT_JOB_ID"]:
            @task
            def work(i: int) -> str:  # the child's module binds another function (another line)
                return f"child-binding-{i}"

        @workflow
        async def main(x: int):
            return await work(x)
    """)
    job, children = _run(repo, "f/x/moved.py", {"x": 5})
    assert job.status == "succeeded", job.error
    assert [c.options.direct for c in children] == ["f.x.moved:work:4"]
    assert job.result == "child-binding-5"  # replayed with the parent's args from the store


@pytest.mark.parametrize("setting", ["1", "0"])
def test_task_failures_retries_and_logs_are_the_same_on_either_path(repo, write, monkeypatch, setting):
    monkeypatch.setenv("WAC_DIRECT_CHILDREN", setting)
    write("f/x/fails.py", """
        from wac import TaskError, task, workflow

        @task(retry={"attempts": 2, "delay": 0})
        def flaky(i: int) -> int:
            print(f"flaky attempt for {i}")
            raise ValueError(f"bad {i}")

        @workflow
        async def main():
            try:
                await flaky(7)
            except TaskError as exc:
                return str(exc)
            return "no error"
    """)
    with workspace(repo) as ws:
        job_id = submit(ws, "f/x/fails.py", {})
        with workers(ws, WorkerConfig(slots=2)):
            job = ws.store.wait_for_result(job_id, 120)
        children = ws.store.children(job_id)
        logs = ["".join(line.text for line in ws.store.read_logs(c.id)) for c in children]
    assert job.status == "succeeded", job.error
    assert "bad 7" in job.result
    assert [c.parent_key for c in children] == ["flaky", "flaky#2", "flaky#3"]
    assert [c.status for c in children] == ["failed"] * 3
    assert all("flaky attempt for 7" in text for text in logs), logs
    assert all((c.options.direct is not None) == (setting == "1") for c in children)
