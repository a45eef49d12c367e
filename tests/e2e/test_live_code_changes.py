"""Changing code under live runs (issue 14), end to end: real store, real workers and rounds,
the real CLI. Task executions are counted with marker files."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.clirun import wac
from tests.engine.enginerun import workers, workspace
from wac.engine.store.base import TERMINAL
from wac.engine.worker import WorkerConfig

pytestmark = pytest.mark.slow

Write = Callable[[str, str], Path]
PATH = "f/demo/wf"

HEAD = """
    import os, time
    from wac import sleep, step, task, wait_for_approval, workflow

    MARKS = {marks!r}

    def mark(name):
        with open(os.path.join(MARKS, name), "a") as f:
            f.write("x")

    @task
    def a() -> str:
        mark("a")
        return "a"

    @task
    def b() -> str:
        mark("b")
        deadline = time.time() + 60
        while {block} and not os.path.exists(os.path.join(MARKS, "gate")) and time.time() < deadline:
            time.sleep(0.05)
        if os.path.exists(os.path.join(MARKS, "break-b")):
            raise RuntimeError("b broke")
        return "b"

    @task
    def c() -> str:
        mark("c")
        return "c"

    @task
    def first() -> str:
        mark("first")
        return "first"

    @workflow
    async def main(n: int = 1):
"""

# Bodies of main: {wait} is where the run parks (an approval, a sleep, or nothing: it then waits
# on the child b, which blocks until the gate file exists).
BODIES = {
    "same": """
        x = await a() if n > 0 else "-"
        y = await b()
        {wait}
        z = await c()
        return [x, y, z]
    """,
    "added_after": """
        x = await a() if n > 0 else "-"
        y = await b()
        {wait}
        z = await c()
        w = await first()
        return [x, y, z, w]
    """,
    "reordered": """
        y = await b()
        x = await a() if n > 0 else "-"
        {wait}
        z = await c()
        return [x, y, z]
    """,
    "renamed": """
        x = await first() if n > 0 else "-"
        y = await b()
        {wait}
        z = await c()
        return [x, y, z]
    """,
    "branch": """
        x = await a() if n > 5 else "-"
        y = await b()
        {wait}
        z = await c()
        return [x, y, z]
    """,
}
WAITS = {"approval": "await wait_for_approval(timeout=3600)", "sleep": "await sleep(3600)", "children": "pass"}
STANDS = {"approval": "suspended", "sleep": "queued", "children": "waiting"}


def source(marks: Path, body: str, wait: str, block: bool = False) -> str:
    import textwrap

    main = textwrap.indent(textwrap.dedent(BODIES[body].format(wait=WAITS[wait])).strip("\n"), "    ")
    return textwrap.dedent(HEAD.format(marks=str(marks), block=block)).lstrip("\n") + main + "\n"


def counts(marks: Path) -> dict[str, int]:
    return {p.name: len(p.read_text()) for p in marks.iterdir() if p.name not in ("gate", "break-b")}


def parked(ws: Any, job_id: str, states: set[str]) -> bool:
    """In one of ``states``; a run counts as "queued" only once it sleeps (a new run is queued too)."""
    if ws.get_job(job_id).status not in states:
        return False
    if states == {"queued"}:
        return any(s.kind == "sleep" for s in ws.store.get_steps(job_id))
    return True


def wait_for(ws: Any, ids: list[str], states: set[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(parked(ws, i, states) for i in ids):
            return
        time.sleep(0.05)
    raise AssertionError({i: ws.get_job(i).status for i in ids})


@pytest.fixture
def marks(repo: Path) -> Path:
    path = repo / "marks"
    path.mkdir()
    return path


def start(repo: Path, n: int, states: set[str], args: dict[str, Any] | None = None) -> list[str]:
    with workspace(repo) as ws:
        ids = [ws.run_script(PATH, args or {"n": 1}) for _ in range(n)]
        with workers(ws, WorkerConfig(slots=2)):
            wait_for(ws, ids, states)
    return ids


def finish(repo: Path, ids: list[str]) -> list[Any]:
    with workspace(repo) as ws:
        with workers(ws, WorkerConfig(slots=2)):
            wait_for(ws, ids, set(TERMINAL))
        return [ws.get_job(i) for i in ids]


@pytest.fixture
def children_worker(repo: Path) -> Iterator[list[Any]]:
    """Workers kept running while the checks run (b blocks until the gate opens)."""
    held: list[Any] = []
    yield held
    (repo / "marks" / "gate").write_text("")
    for stop in held:
        stop()


@pytest.mark.parametrize("wait", ["approval", "sleep", "children"])
def test_runs_parked_on_an_approval_a_sleep_or_children_are_checked_against_each_kind_of_edit(
    repo: Path, write: Write, marks: Path, wait: str, children_worker: list[Any],
) -> None:
    write(f"{PATH}.py", source(marks, "same", wait, block=wait == "children"))
    wac("script", "push", f"{PATH}.py", cwd=repo)
    if wait == "children":
        ws_cm = workspace(repo)
        ws = ws_cm.__enter__()
        job_id = ws.run_script(PATH, {"n": 1})
        pool = workers(ws, WorkerConfig(slots=2))
        pool.__enter__()
        children_worker.append(lambda: (pool.__exit__(None, None, None), ws_cm.__exit__(None, None, None)))
        wait_for(ws, [job_id], {"waiting"})
    else:
        (job_id,) = start(repo, 1, {STANDS[wait]})
    expected = {
        "same": None, "added_after": None,
        "reordered": ("a", "b"), "renamed": ("a", "first"), "branch": ("a", "b"),
    }
    for body, divergence in expected.items():
        write(f"{PATH}.py", source(marks, body, wait, block=wait == "children"))
        out = wac("script", "check", f"{PATH}.py", "--runs", "0", "--json", cwd=repo,
                  code=0 if divergence is None else 1).json()
        (run,) = out["runs"]
        assert run["job_id"] == job_id and run["status"] == STANDS[wait], (body, run)
        got = None if run["compatible"] else (run["recorded"], run["new"])
        assert got == divergence, (body, run)
    assert counts(marks) == {"a": 1, "b": 1}  # the checks ran no task


def test_push_reports_live_runs_and_migrate_moves_them_to_finish_on_the_new_code_reusing_every_step(
    repo: Path, write: Write, marks: Path,
) -> None:
    write(f"{PATH}.py", source(marks, "same", "approval"))
    old = wac("script", "push", f"{PATH}.py", "--json", cwd=repo).json()["hash"]
    ids = start(repo, 2, {"suspended"})
    write(f"{PATH}.py", source(marks, "reordered", "approval"))
    bad = wac("script", "push", f"{PATH}.py", cwd=repo)
    assert "diverges: recorded 'a', now 'b'" in bad.stderr
    assert "2 live run(s) of f/demo/wf: 0 compatible, 2 diverging; they stay on their version" in bad.stderr
    write(f"{PATH}.py", source(marks, "added_after", "approval"))
    pushed = wac("script", "push", f"{PATH}.py", "--migrate", "--json", cwd=repo).json()
    rows = {r["job_id"]: r for r in pushed["live_runs"]}
    assert set(rows) == set(ids)
    assert all(r["compatible"] and r["moved"] and r["version"] == old for r in rows.values())
    shown = wac("job", "get", ids[0], "--json", cwd=repo).json()
    assert shown["version"] == pushed["hash"] and shown["migrated_from"] == old
    with workspace(repo) as ws:
        for i in ids:
            ws.resume(i, None, None, True, None, "test")
    jobs = finish(repo, ids)
    assert [j.result for j in jobs] == [["a", "b", "c", "first"]] * 2
    assert counts(marks) == {"a": 2, "b": 2, "c": 2, "first": 2}  # nothing ran twice


def test_job_migrate_refuses_an_incompatible_version_and_moves_to_a_compatible_one(
    repo: Path, write: Write, marks: Path,
) -> None:
    write(f"{PATH}.py", source(marks, "same", "approval"))
    wac("script", "push", f"{PATH}.py", cwd=repo)
    (job_id,) = start(repo, 1, {"suspended"})
    write(f"{PATH}.py", source(marks, "added_after", "approval"))
    good = wac("script", "push", f"{PATH}.py", "--json", cwd=repo).json()["hash"]
    write(f"{PATH}.py", source(marks, "renamed", "approval"))
    wac("script", "push", f"{PATH}.py", cwd=repo)
    refused = wac("job", "migrate", job_id, cwd=repo, code=1)
    assert f"error: job {job_id} cannot move to version" in refused.stderr
    assert "recorded 'a', now 'first'" in refused.stderr
    moved = wac("job", "migrate", job_id, "--to", good[:7], cwd=repo)
    assert f"moved job {job_id} to version {good[:7]}" in moved.stderr
    again = wac("job", "migrate", job_id, "--to", good[:7], cwd=repo)
    assert "already on version" in again.stderr
    with workspace(repo) as ws:
        ws.resume(job_id, None, None, True, None, "test")
    (job,) = finish(repo, [job_id])
    assert job.result == ["a", "b", "c", "first"]
    finished = wac("job", "migrate", job_id, cwd=repo, code=1)
    assert "has finished (succeeded)" in finished.stderr


def test_rerun_from_the_first_failure_runs_only_what_failed_and_what_came_after(
    repo: Path, write: Write, marks: Path,
) -> None:
    write(f"{PATH}.py", source(marks, "same", "sleep").replace("await sleep(3600)", "await step('s', lambda: 42)"))
    wac("script", "push", f"{PATH}.py", cwd=repo)
    (marks / "break-b").write_text("")
    (job_id,) = start(repo, 1, {"failed"})
    assert counts(marks) == {"a": 1, "b": 1}
    (marks / "break-b").unlink()
    rerun = wac("job", "rerun", job_id, "--json", cwd=repo).json()
    assert rerun["status"] == "succeeded" and rerun["result"] == ["a", "b", "c"]
    assert counts(marks) == {"a": 1, "b": 2, "c": 1}
    shown = wac("job", "get", rerun["id"], "--json", cwd=repo).json()
    assert (shown["rerun_of"], shown["rerun_from"], shown["reused_steps"]) == (job_id, "b", 1)
    # a succeeded run: where to start from must be said
    refused = wac("job", "rerun", rerun["id"], cwd=repo, code=2)
    assert "say which step to run again with --from KEY" in refused.stderr and "its steps, in order: a, b, s, c" in refused.stderr
    again = wac("job", "rerun", rerun["id"], "--from", "c", "-d", '{"n": 1}', "--json", cwd=repo).json()
    assert again["result"] == ["a", "b", "c"] and counts(marks) == {"a": 1, "b": 2, "c": 2}
    # on the newest version, after the replay check
    write(f"{PATH}.py", source(marks, "renamed", "sleep").replace("await sleep(3600)", "await step('s', lambda: 42)"))
    wac("script", "push", f"{PATH}.py", cwd=repo)
    bad = wac("job", "rerun", job_id, "--latest", cwd=repo, code=1)
    assert "cannot reuse the steps" in bad.stderr and "recorded 'a', now 'first'" in bad.stderr
    ok = wac("job", "rerun", job_id, "--latest", "--from", "a", "--json", cwd=repo).json()
    assert ok["result"] == ["first", "b", "c"]
    assert counts(marks) == {"a": 1, "b": 3, "c": 3, "first": 1}


def test_script_check_replays_the_local_file_over_50_finished_runs_and_exits_1_on_divergence(
    repo: Path, write: Write, marks: Path,
) -> None:
    write(f"{PATH}.py", source(marks, "same", "sleep").replace("await sleep(3600)", "pass"))
    wac("script", "push", f"{PATH}.py", cwd=repo)
    start(repo, 50, {"succeeded"})
    out = wac("script", "check", f"{PATH}.py", "--runs", "50", "--json", cwd=repo).json()
    assert (out["checked"], out["diverging"]) == (50, 0)
    assert all(r["stop"] == "completes" for r in out["runs"])
    write(f"{PATH}.py", source(marks, "reordered", "sleep").replace("await sleep(3600)", "pass"))
    bad = wac("script", "check", f"{PATH}.py", "--runs", "10", cwd=repo, code=1)
    assert len(bad.stdout.splitlines()) == 11 and "diverges: recorded 'a', now 'b'" in bad.stdout
    assert "error: 10 of 10 run(s) of f/demo/wf diverge from f/demo/wf.py" in bad.stderr
    assert counts(marks) == {"a": 50, "b": 50, "c": 50}


def test_sync_push_checks_the_live_runs_of_each_script_it_changes(repo: Path, write: Write, marks: Path) -> None:
    write(f"{PATH}.py", source(marks, "same", "approval"))
    wac("sync", "push", "--yes", cwd=repo)
    (job_id,) = start(repo, 1, {"suspended"})
    write(f"{PATH}.py", source(marks, "added_after", "approval"))
    doc = wac("sync", "push", "--yes", "--json", "--migrate", cwd=repo).json()
    (row,) = doc["live_runs"]
    assert (row["job_id"], row["path"], row["compatible"], row["moved"]) == (job_id, PATH, True, True)


def test_preview_and_push_print_determinism_warnings_before_the_run(repo: Path, write: Write) -> None:
    write("f/demo/lint.py", """
        import uuid
        from wac import workflow

        def new_id():
            return uuid.uuid4().hex

        @workflow
        async def main():
            return len(new_id())
    """)
    preview = wac("script", "preview", "f/demo/lint.py", cwd=repo)
    assert preview.stdout.strip() == "32"
    warning = "warning: f/demo/lint.py:9:16 WAC113 new_id() calls uuid.uuid4() (line 5)"
    assert warning in preview.stderr
    assert preview.stderr.index(warning) < preview.stderr.index("succeeded")
    assert warning in wac("script", "push", "f/demo/lint.py", cwd=repo).stderr


def test_preview_watch_prints_the_determinism_warnings_of_each_save(repo: Path, write: Write) -> None:
    import os
    import selectors
    import signal
    import subprocess
    import sys

    from tests.clirun import SRC

    clean = "from wac import workflow\n\n@workflow\nasync def main():\n    return 'v1'\n"
    dirty = "import random\nfrom wac import workflow\n\n@workflow\nasync def main():\n    return random.random() > 2\n"
    write("f/demo/w.py", clean)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview",
                             "f/demo/w.py", "--watch"], cwd=repo, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    assert proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    seen = ""

    def read_until(text: str) -> None:
        nonlocal seen
        deadline = time.monotonic() + 60
        while text not in seen:
            assert time.monotonic() < deadline, seen
            if sel.select(timeout=0.2):
                chunk = os.read(proc.stderr.fileno(), 65536)  # type: ignore[union-attr]
                assert chunk, seen
                seen += chunk.decode("utf-8", "replace")

    try:
        read_until("waiting for changes")
        assert "warning:" not in seen
        time.sleep(0.3)
        write("f/demo/w.py", dirty)
        read_until("WAC113")
        assert "warning: f/demo/w.py:6:12 WAC113 random.random() in a workflow body" in seen
        seen = seen[seen.index("WAC113"):]
        read_until("waiting for changes")  # Ctrl-C while a run is followed is another story
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.communicate(timeout=20)
        finally:
            proc.kill()
