"""The wmill client served by the engine, end to end through the real CLI: in a preview (repo
files first), in a deployed `script run`, inside @task children, with both import styles;
secrets masked in logs and absent from the store file; bad input as clear, catchable errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import wac

Write = Callable[[str, str], Path]
pytestmark = pytest.mark.slow

CLIENT_WORKFLOW = """
    import os
    import wmill
    from wmill import TaskError, get_resource, get_variable, task, workflow

    @task
    async def in_child(n: int) -> dict:
        # a @task child job, both import styles
        return {"api": wmill.get_variable("f/demo/api"), "db": get_resource("f/demo/db"),
                "ws": wmill.get_workspace(), "job": wmill.get_job_id() == os.environ["WM_JOB_ID"],
                "root": wmill.get_root_job_id() == os.environ["WM_ROOT_FLOW_JOB_ID"]}

    @workflow
    async def main(conn: dict, who: str = ""):
        try:
            get_variable("f/demo/nope")
            missing = None
        except TaskError as exc:
            missing = str(exc)
        print("token is", wmill.get_variable("f/demo/token"))
        wmill.set_progress(42)
        child = await in_child(1)
        client = wmill.Windmill()
        return {"conn": conn, "who": who, "child": child, "missing": missing,
                "progress": client.get_progress(), "path": os.environ["WM_JOB_PATH"],
                "res_raw": client.get_resource("f/demo/db", interpolated=False),
                "none": wmill.get_resource("f/demo/absent", none_if_undefined=True)}
"""


def _objects(write: Write, host: str = "db.internal") -> None:
    write("f/demo/api.variable.yaml", "description: ''\nvalue: https://api.example.com\nis_secret: false\n")
    write("f/demo/token.variable.yaml", "description: ''\nvalue: tok-9d8e7f6a\nis_secret: true\n")
    write("f/demo/db.resource.yaml",
          f"description: ''\nvalue:\n  host: {host}\n  password: $var:f/demo/token\nresource_type: any\n")


def test_client_calls_in_a_preview_read_the_repo_files_first_and_mask_secrets(repo: Path, write: Write) -> None:
    (repo / "wmill.yaml").write_text("includes:\n  - f/**\nskipSecrets: false\n")
    write("f/demo/flow.py", CLIENT_WORKFLOW)
    _objects(write)
    run = wac("script", "preview", "f/demo/flow.py", "-d",
              '{"conn": "$res:f/demo/db", "who": "$var:f/demo/api"}', "--json", cwd=repo)
    doc = run.json()
    res = {"host": "db.internal", "password": "tok-9d8e7f6a"}
    assert doc["status"] == "succeeded", doc
    out = doc["result"]
    assert out["conn"] == res and out["who"] == "https://api.example.com"
    assert out["child"] == {"api": "https://api.example.com", "db": res, "ws": "local", "job": True, "root": True}
    assert out["missing"] == "variable f/demo/nope not found in the workspace"
    assert out["progress"] == 42 and out["path"] == "f/demo/flow" and out["none"] is None
    assert out["res_raw"] == {"host": "db.internal", "password": "$var:f/demo/token"}
    logs = wac("job", "logs", doc["id"], cwd=repo).stdout
    assert "token is *****" in logs and "tok-9d8e7f6a" not in logs
    assert wac("job", "get", doc["id"], "--json", cwd=repo).json()["progress"] == 42
    # A local edit of a resource is seen by the next preview, without a push.
    _objects(write, host="db2.internal")
    again = wac("script", "preview", "f/demo/flow.py", "-d", '{"conn": {}}', "--json", cwd=repo).json()
    assert again["result"]["child"]["db"]["host"] == "db2.internal"


def test_client_calls_in_a_deployed_run_read_the_workspace_and_state_survives_runs(repo: Path, write: Write) -> None:
    (repo / "wmill.yaml").write_text("includes:\n  - f/**\nskipSecrets: false\n")
    write("f/demo/counter.py", """
        import wmill

        def main():
            state = wmill.get_state() or {"runs": 0}
            state["runs"] += 1
            wmill.set_state(state)
            wmill.set_variable("f/demo/last", "run %d" % state["runs"])
            wmill.set_resource("f/demo/made", {"runs": state["runs"]}, "any")
            print("secret:", wmill.get_resource("f/demo/db")["password"])
            return {"state": state, "api": wmill.get_variable("f/demo/api")}
    """)
    _objects(write)
    wac("sync", "push", "--yes", cwd=repo)
    for f in ("f/demo/api.variable.yaml", "f/demo/token.variable.yaml", "f/demo/db.resource.yaml"):
        (repo / f).unlink()  # a deployed run reads the workspace, not the repo
    first = wac("script", "run", "f/demo/counter", "--json", cwd=repo).json()
    second = wac("script", "run", "f/demo/counter", "--json", cwd=repo).json()
    assert first["result"] == {"state": {"runs": 1}, "api": "https://api.example.com"}
    assert second["result"]["state"] == {"runs": 2}
    assert wac("variable", "get", "f/demo/last", cwd=repo).stdout == "run 2\n"
    assert wac("resource", "get", "f/demo/made", "--json", cwd=repo).json()["value"] == {"runs": 2}
    logs = wac("job", "logs", second["id"], cwd=repo).stdout
    assert "secret: *****" in logs
    for f in (repo / ".wac").glob("wac.db*"):
        assert b"tok-9d8e7f6a" not in f.read_bytes()


def test_run_script_by_path_and_hash_sync_and_async_from_a_job(repo: Path, write: Write) -> None:
    write("f/demo/double.py", "def main(x: int):\n    return x * 2\n")
    deployed = wac("script", "push", "f/demo/double.py", "--json", cwd=repo).json()["hash"]
    write("f/demo/caller.py", f"""
        import wmill
        from wmill import run_script_by_hash, run_script_by_path_async

        def main():
            sync = wmill.run_script_by_path("f/demo/double", args={{"x": 4}})
            by_hash = run_script_by_hash("{deployed}", args={{"x": 5}})
            job = run_script_by_path_async("f/demo/double", args={{"x": 6}})
            waited = wmill.Windmill().wait_job(job, timeout=60)
            return [sync, by_hash, waited, wmill.get_job_status(job), wmill.get_result(job)]
    """)
    out = wac("script", "preview", "f/demo/caller.py", "--json", cwd=repo).json()
    assert out["result"] == [8, 10, 12, "COMPLETED", 12], out


def test_bad_client_input_is_a_clear_error_and_loses_nothing(repo: Path, write: Write) -> None:
    write("f/demo/x.resource.yaml", "description: ''\nvalue:\n  next: $res:f/demo/y\nresource_type: any\n")
    write("f/demo/y.resource.yaml", "description: ''\nvalue:\n  next: $res:f/demo/x\nresource_type: any\n")
    write("u/ada/key.variable.yaml", "description: ''\nvalue: ada-private-key\nis_secret: true\n")
    write("f/demo/bad.py", """
        import wmill

        def main(which: str):
            if which == "cycle":
                return wmill.get_resource("f/demo/x")
            if which == "secret":
                return wmill.get_variable("u/ada/key")
            return wmill.get_variable("f/demo/unknown")
    """)
    for which, message in (("cycle", "reference cycle: $res:f/demo/x -> $res:f/demo/y -> $res:f/demo/x"),
                           ("secret", "f/demo/bad may not read the secret variable u/ada/key"),
                           ("unknown", "variable f/demo/unknown not found in the workspace")):
        run = wac("script", "preview", "f/demo/bad.py", "-d", json.dumps({"which": which}), cwd=repo, code=1)
        assert message in run.stderr and "Traceback" not in run.stderr.split("error:")[-1]
    missing = wac("script", "preview", "f/demo/bad.py", "-d", '{"which": "$var:f/demo/nothing"}', cwd=repo, code=1)
    assert "variable f/demo/nothing not found" in missing.stderr
    write("f/demo/broken.resource.yaml", "value: [1\n")
    push = wac("sync", "push", "--yes", cwd=repo, code=1)
    assert "f/demo/broken.resource.yaml: not valid YAML" in push.stderr
    assert wac("resource", "list", "--json", cwd=repo).json() == []  # nothing was pushed


def test_variable_and_resource_commands_never_print_a_secret(repo: Path) -> None:
    wac("variable", "set", "f/demo/key", "-", "--secret", cwd=repo, input="very-secret-1\n")
    wac("variable", "set", "f/demo/url", "https://x", "--description", "base", cwd=repo)
    listed = wac("variable", "list", "--json", cwd=repo)
    assert listed.json() == [
        {"path": "f/demo/key", "is_secret": True, "description": "", "value": "*****"},
        {"path": "f/demo/url", "is_secret": False, "description": "base", "value": "https://x"},
    ]
    table = wac("variable", "list", cwd=repo).stdout
    got = wac("variable", "get", "f/demo/key", cwd=repo)
    assert got.stdout == "*****\n" and "is secret" in got.stderr
    assert wac("variable", "get", "f/demo/url", cwd=repo).stdout == "https://x\n"
    wac("variable", "set", "f/demo/key", "changed-secret-2", cwd=repo)  # stays secret
    assert wac("variable", "get", "f/demo/key", "--json", cwd=repo).json()["is_secret"] is True
    for text in (listed.stdout, table, got.stdout, got.stderr):
        assert "very-secret-1" not in text
    unknown = wac("resource", "get", "f/demo/nope", cwd=repo, code=1)
    assert unknown.stderr.startswith("error: resource f/demo/nope not found in workspace 'local'")
    bad = wac("variable", "set", "nope", "x", cwd=repo, code=2)
    assert "not a variable path" in bad.stderr


def test_a_preview_reads_the_repo_then_the_current_workspace_then_its_own_store(repo: Path, write: Write,
                                                                               tmp_path: Path) -> None:
    shared = tmp_path / "ws" / "shared.db"
    shared.parent.mkdir()
    wac("workspace", "add", "shared", f"sqlite:///{shared}", cwd=repo)
    wac("variable", "set", "f/demo/only_local", "from the embedded store", cwd=repo)  # local is current
    wac("workspace", "switch", "shared", cwd=repo)
    wac("variable", "set", "f/demo/both", "from the shared workspace", cwd=repo)
    wac("variable", "set", "f/demo/only_shared", "shared only", cwd=repo)
    write("f/demo/both.variable.yaml", "description: ''\nvalue: from the repo file\nis_secret: false\n")
    write("f/demo/read.py", """
        import wmill

        def main():
            return [wmill.get_variable(p) for p in ("f/demo/both", "f/demo/only_shared", "f/demo/only_local")]
    """)
    out = wac("script", "preview", "f/demo/read.py", "--json", cwd=repo).json()
    assert out["result"] == ["from the repo file", "shared only", "from the embedded store"], out


def test_a_secret_quoted_in_an_error_is_masked_in_the_stored_error(repo: Path, write: Write) -> None:
    wac("variable", "set", "f/demo/pw", "pw-0a1b2c3d", "--secret", cwd=repo)
    write("f/demo/leak.py", """
        import wmill

        def main():
            raise ValueError("could not log in with " + wmill.get_variable("f/demo/pw"))
    """)
    run = wac("script", "preview", "f/demo/leak.py", "--json", cwd=repo, code=1)
    assert "could not log in with *****" in run.stdout + run.stderr
    assert "pw-0a1b2c3d" not in run.stdout + run.stderr


def test_flow_user_state_is_shared_by_a_run_and_its_children_and_state_helpers_work(repo: Path, write: Write) -> None:
    write("f/demo/r.resource.yaml", "description: ''\nvalue: {}\nresource_type: pg\n")
    write("f/demo/shared.py", """
        import wmill
        from wmill import get_flow_user_state, set_flow_user_state, task, workflow

        @task
        async def mark(n: int) -> int:
            set_flow_user_state("seen", n)
            return n

        @workflow
        async def main():
            await mark(7)
            client = wmill.Windmill()
            client.state = {"k": 1}
            return {"seen": get_flow_user_state("seen"), "state": client.state,
                    "state_path": wmill.get_state_path(), "unset": get_flow_user_state("nothing")}
    """)
    out = wac("script", "preview", "f/demo/shared.py", "--json", cwd=repo).json()
    assert out["result"] == {"seen": 7, "state": {"k": 1}, "state_path": "f/demo/shared", "unset": None}, out


def test_a_script_waiting_for_another_job_is_refused_with_a_single_worker_slot(repo: Path, write: Write) -> None:
    write("f/demo/one.py", "def main():\n    return 1\n")
    wac("script", "push", "f/demo/one.py", cwd=repo)
    write("f/demo/waits.py", "import wmill\n\ndef main():\n    return wmill.run_script_by_path('f/demo/one')\n")
    run = wac("script", "preview", "f/demo/waits.py", "--workers", "1", cwd=repo, code=1)
    assert "needs a free worker slot" in run.stderr
