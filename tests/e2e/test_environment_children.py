"""A script running in its own environment starts deployed scripts (wmill.run_script_*,
task_script): the round process has only the environment's packages and wac's own package, so it
never resolves a lock itself; the worker pins each child's environment when the child starts.
Real uv against a local wheel folder (offline), the real CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import wac
from tests.metadata.wheels import write_wheel

pytestmark = pytest.mark.slow

Write = Callable[[str, str], Path]

PLAIN = """
    def main(x: int):
        return x * 2
"""
WITH_PKG = """
    import tinypkg

    def main(x: int):
        return f"{tinypkg.VERSION}/{x}"
"""
BROKEN = """
    import nosuchpkg

    def main(x: int):
        return x
"""


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(folder, "tinypkg", "1.0.0")
    write_wheel(folder, "wmill", "9.9.9")  # the requirements inferred for `import wmill` name it
    return folder


def offline(wheels: Path) -> dict[str, str]:
    return {"WAC_FIND_LINKS": str(wheels), "WAC_NO_INDEX": "1"}


def push_unlocked(repo: Path, write: Write, path: str, code: str) -> str:
    """Push ``path`` (no ``.script.lock``: it is deployed without a lock); its version hash."""
    write(f"{path}.py", code)
    pushed = wac("script", "push", f"{path}.py", "--json", cwd=repo).json()
    assert not (repo / f"{path}.script.lock").exists()
    return str(pushed["hash"])


def test_a_script_in_an_environment_runs_deployed_scripts_pushed_without_a_lock_by_every_wmill_call(
        repo: Path, write: Write, wheels: Path) -> None:
    push_unlocked(repo, write, "f/demo/plain", PLAIN)
    with_pkg = push_unlocked(repo, write, "f/demo/withpkg", WITH_PKG)
    write("f/demo/caller.py", f"""
        import tinypkg
        import wmill

        def main():
            client = wmill.Windmill()
            a = client.run_script_async(path="f/demo/plain", args={{"x": 3}})
            b = wmill.run_script_async("f/demo/withpkg", args={{"x": 4}})
            c = wmill.run_script_by_path_async("f/demo/withpkg", args={{"x": 5}})
            d = wmill.run_script_by_hash_async("{with_pkg}", args={{"x": 6}})
            waited = [client.wait_job(j, timeout=240) for j in (a, b, c, d)]
            sync = [wmill.run_script_by_path("f/demo/withpkg", args={{"x": 7}}),
                    wmill.run_script_by_hash("{with_pkg}", args={{"x": 8}}),
                    wmill.run_script_by_path("f/demo/plain", args={{"x": 9}}),
                    wmill.run_script(path="f/demo/withpkg", args={{"x": 10}}),
                    wmill.run_script_sync("{with_pkg}", args={{"x": 11}})]
            return {{"top": tinypkg.VERSION, "waited": waited, "sync": sync}}
    """)
    run = wac("script", "preview", "f/demo/caller.py", "--json", cwd=repo, env=offline(wheels), timeout=300)
    assert run.json()["result"] == {"top": "1.0.0", "waited": [6, "1.0.0/4", "1.0.0/5", "1.0.0/6"],
                                    "sync": ["1.0.0/7", "1.0.0/8", 18, "1.0.0/10", "1.0.0/11"]}, run.stderr
    assert "No module named" not in run.stderr


def test_a_deployed_script_in_an_environment_runs_a_deployed_script_without_a_lock_from_a_worker(
        repo: Path, write: Write, wheels: Path) -> None:
    push_unlocked(repo, write, "f/demo/withpkg", WITH_PKG)
    push_unlocked(repo, write, "f/demo/caller", """
        import tinypkg
        import wmill

        def main(x: int):
            return [tinypkg.VERSION, wmill.run_script_by_path("f/demo/withpkg", args={"x": x})]
    """)
    run = wac("script", "run", "f/demo/caller", "-d", '{"x": 2}', cwd=repo, env=offline(wheels), timeout=300)
    assert run.json() == ["1.0.0", "1.0.0/2"], run.stderr


def test_task_script_from_an_environment_runs_deployed_scripts_pushed_without_a_lock_and_flows_fail_clearly(
        repo: Path, write: Write, wheels: Path) -> None:
    push_unlocked(repo, write, "f/demo/plain", PLAIN)
    push_unlocked(repo, write, "f/demo/withpkg", WITH_PKG)
    write("f/demo/flow.py", """
        import tinypkg
        import wmill
        from wac import TaskError, task_flow, task_script, workflow

        @workflow
        async def main():
            plain = await task_script("f/demo/plain")(x=3)
            pkg = await task_script("f/demo/withpkg")(x=4)
            refused = []
            try:
                await task_flow("f/demo/withpkg")(x=5)
            except TaskError as exc:
                refused.append(str(exc))
            try:
                wmill.run_flow_async("f/demo/withpkg", args={})
            except Exception as exc:
                refused.append(f"{type(exc).__name__}: {exc}")
            return [tinypkg.VERSION, plain, pkg, refused]
    """)
    run = wac("script", "preview", "f/demo/flow.py", cwd=repo, env=offline(wheels), timeout=300)
    top, plain, pkg, refused = run.json()
    assert [top, plain, pkg] == ["1.0.0", 6, "1.0.0/4"], run.stderr
    assert "f/demo/withpkg is a script, not a flow" in refused[0]
    assert refused[1].startswith("WmillNotSupportedError: wmill.run_flow_async() is not served")


def test_a_child_whose_requirements_cannot_be_resolved_fails_with_the_uv_error_and_its_parent_catches_it(
        repo: Path, write: Write, wheels: Path) -> None:
    push_unlocked(repo, write, "f/demo/broken", BROKEN)
    write("f/demo/calls.py", """
        import tinypkg
        import wmill
        from wmill import TaskError

        def main():
            caught = []
            try:
                wmill.run_script_by_path("f/demo/broken", args={"x": 1})
            except TaskError as exc:
                caught.append(str(exc))
            job = wmill.run_script_by_path_async("f/demo/broken", args={"x": 2})
            try:
                wmill.Windmill().wait_job(job, timeout=240)
            except TaskError as exc:
                caught.append(str(exc))
            return {"top": tinypkg.VERSION, "caught": caught, "job": job,
                    "status": wmill.get_job_status(job), "result": wmill.get_result(job)}
    """)
    write("f/demo/flow.py", """
        import tinypkg
        from wac import TaskError, task_script, workflow

        @workflow
        async def main():
            try:
                await task_script("f/demo/broken")(x=3)
            except TaskError as exc:
                return [tinypkg.VERSION, str(exc)]
            return "not failed"
    """)
    run = wac("script", "preview", "f/demo/calls.py", "--json", cwd=repo, env=offline(wheels), timeout=300)
    out = run.json()["result"]
    flow = wac("script", "preview", "f/demo/flow.py", cwd=repo, env=offline(wheels), timeout=300).json()
    assert out["top"] == "1.0.0" and len(out["caught"]) == 2 and flow[0] == "1.0.0", (out, flow)
    for message in [*out["caught"], flow[1]]:
        assert "EnvBuildError" in message or "cannot resolve" in message, message
        assert "f/demo/broken" in message and "nosuchpkg" in message, message
    assert out["status"] == "COMPLETED"
    error = out["result"]["error"]
    assert error["name"] == "EnvBuildError" and "nosuchpkg" in error["message"], error
    assert "--find-links" in error["message"]  # the hint, kept with the job's error
    assert "No module named" not in run.stderr
    shown = wac("job", "get", out["job"], "--json", cwd=repo).json()
    assert shown["status"] == "failed" and shown["error"]["name"] == "EnvBuildError", shown
