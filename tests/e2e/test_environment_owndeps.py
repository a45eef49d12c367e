"""wac's own code inside an environment's round uses wac's dependencies (PyYAML for the repo's
object files, psycopg for a PostgreSQL store) while the user's code there sees only its lock:
real uv, a local wheel folder built here (offline), the real CLI, a real PostgreSQL server."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import SRC, wac
from tests.e2e.postgres_machines import pg_url_or_skip, stop_workers
from tests.metadata.wheels import write_wheel

pytestmark = pytest.mark.slow

Write = Callable[[str, str], Path]

READS_OBJECTS = """
    import tinypkg
    import wmill

    def main():
        return {"api": wmill.get_variable("f/demo/api"), "db": wmill.get_resource("f/demo/db"),
                "pkg": tinypkg.VERSION}
"""


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(folder, "tinypkg", "1.0.0")
    write_wheel(folder, "wmill", "9.9.9")  # inferred from `import wmill`; wac's client is used instead
    return folder


def offline(wheels: Path) -> dict[str, str]:
    return {"WAC_FIND_LINKS": str(wheels), "WAC_NO_INDEX": "1"}


def _objects(write: Write) -> None:
    write("f/demo/api.variable.yaml", "description: ''\nis_secret: false\nvalue: https://api.example.com\n")
    write("f/demo/db.resource.yaml", "description: ''\nresource_type: postgresql\nvalue:\n  host: db.local\n"
                                     "  port: 5432\n")


def test_a_preview_of_a_script_with_an_environment_reads_the_repos_variable_and_resource_files(
        repo: Path, write: Write, wheels: Path) -> None:
    write("f/demo/objs.py", READS_OBJECTS)
    _objects(write)
    result = wac("script", "preview", "f/demo/objs.py", cwd=repo, env=offline(wheels)).json()
    assert result == {"api": "https://api.example.com", "db": {"host": "db.local", "port": 5432}, "pkg": "1.0.0"}


def test_user_code_in_an_environment_never_sees_wacs_yaml_even_after_wac_read_a_yaml_file(
        repo: Path, write: Write, wheels: Path) -> None:
    write("f/demo/iso.py", """
        import sys
        import tinypkg
        import wmill

        def main():
            api = wmill.get_variable("f/demo/api")  # wac reads the .variable.yaml with its PyYAML
            try:
                import yaml
                seen = yaml.__file__
            except ModuleNotFoundError as exc:
                seen = f"not found: {exc.name}"
            again = wmill.get_resource("f/demo/db")  # and again, after the user's failed import
            return {"api": api, "seen": seen, "again": again["host"], "loaded": "yaml" in sys.modules,
                    "path": [p for p in sys.path if "site-packages" in p]}
    """)
    _objects(write)
    result = wac("script", "preview", "f/demo/iso.py", cwd=repo, env=offline(wheels)).json()
    assert result["api"] == "https://api.example.com" and result["again"] == "db.local"
    assert result["seen"] == "not found: yaml", result
    assert result["loaded"] is False
    assert len(result["path"]) == 1 and "/wac/envs/" in result["path"][0]  # the environment's only


def test_user_code_whose_lock_has_a_yaml_package_gets_the_locks_and_wac_still_reads_with_its_own(
        repo: Path, write: Write, wheels: Path) -> None:
    write_wheel(wheels, "pyyaml", "0.0.1", module="yaml")  # not a YAML parser: only VERSION
    write("f/demo/lockyaml.py", """
        import yaml
        import wmill

        def main():
            before = yaml.VERSION
            api = wmill.get_variable("f/demo/api")
            import yaml as after
            return {"before": before, "after": after.VERSION, "same": after is yaml, "api": api}
    """)
    _objects(write)
    result = wac("script", "preview", "f/demo/lockyaml.py", cwd=repo, env=offline(wheels)).json()
    assert result == {"before": "0.0.1", "after": "0.0.1", "same": True, "api": "https://api.example.com"}


@pytest.fixture
def pg_url() -> str:
    return pg_url_or_skip()


def test_a_worker_on_a_postgresql_store_runs_a_script_with_an_environment_that_reads_objects_and_steps(
        tmp_path: Path, repo: Path, write: Write, wheels: Path, pg_url: str) -> None:
    wac("workspace", "add", "prod", pg_url, "--switch", cwd=repo)
    (repo / "wmill.yaml").write_text("includes:\n  - f/**\nskipSecrets: false\n")
    write("f/demo/pgenv.py", """
        import sys
        import tinypkg
        import wmill
        from wmill import step, workflow

        @workflow
        async def main():
            first = await step("first", lambda: tinypkg.VERSION)
            wmill.set_state({"seen": first})
            try:
                import psycopg
                seen = psycopg.__file__
            except ModuleNotFoundError as exc:
                seen = f"not found: {exc.name}"
            return {"api": wmill.get_variable("f/demo/api"), "db": wmill.get_resource("f/demo/db")["host"],
                    "state": wmill.get_state(), "first": first, "psycopg": seen,
                    "loaded": sorted(m for m in sys.modules if m.split(".")[0] in ("psycopg", "yaml"))}
    """)
    _objects(write)
    wac("sync", "push", "--yes", cwd=repo, env=offline(wheels))
    job_id = wac("script", "run", "f/demo/pgenv", "--no-wait", cwd=repo, env=offline(wheels)).stdout.strip()
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC), **offline(wheels)}
    wd = tmp_path / "wd"
    wd.mkdir()
    with open(tmp_path / "worker.log", "w") as log:
        worker = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "-c", "2"],
                                  cwd=wd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    try:
        deadline = time.monotonic() + 120
        got: dict[str, object] = {}
        while time.monotonic() < deadline:
            got = wac("job", "get", job_id, "--json", cwd=repo).json()
            if got["status"] in ("succeeded", "failed", "cancelled"):
                break
            time.sleep(0.3)
    finally:
        stop_workers([worker])
    logs = (tmp_path / "worker.log").read_text()
    assert got.get("status") == "succeeded", (got, logs)
    assert got["result"] == {"api": "https://api.example.com", "db": "db.local", "state": {"seen": "1.0.0"},
                             "first": "1.0.0", "psycopg": "not found: psycopg", "loaded": []}, logs
    assert "worker stopped after 1 round(s)" in logs  # the step committed from inside the round


def test_a_preview_of_a_script_with_an_environment_reads_a_variable_of_the_current_windmill_workspace(
        repo: Path, write: Write, wheels: Path, tmp_path: Path) -> None:
    from tests.remote.fakewindmill import FakeWindmill

    wm = FakeWindmill().start()
    try:
        wm.variables["f/demo/remote"] = {"workspace_id": wm.workspace, "path": "f/demo/remote", "value": "from wm",
                                         "is_secret": False, "description": "", "extra_perms": {},
                                         "account": None, "is_oauth": False}
        env = {**offline(wheels), "WAC_CONFIG_DIR": str(tmp_path / "config")}
        wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", "test", "--switch",
            cwd=repo, env=env)
        write("f/demo/remote.py", """
            import tinypkg
            import wmill

            def main():
                return {"remote": wmill.get_variable("f/demo/remote"), "pkg": tinypkg.VERSION}
        """)
        result = wac("script", "preview", "f/demo/remote.py", cwd=repo, env=env).json()
    finally:
        wm.stop()
    assert result == {"remote": "from wm", "pkg": "1.0.0"}
    assert wm.violations == []
