"""The ``wmill`` shim, imported the way the engine's round process does (``_shims`` first on the
path), in a subprocess so the real ``wmill`` of this test process is left alone."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
SHIMS = SRC / "wac" / "_shims"


def run_with_shim(code: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
        env={"PYTHONPATH": f"{SHIMS}:{SRC}", "PATH": ""},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_wmill_workflow_script_runs_unchanged_on_the_shim() -> None:
    result = run_with_shim(
        """
        import json, asyncio
        import wmill
        from wmill import task, workflow, step, TaskError
        from wmill.client import _run_workflow
        import wac, wac.sdk

        @task
        async def double(x: int) -> int:
            return x * 2

        @workflow
        async def main(n: int):
            a = await double(n)
            b = await step("b", lambda: a + 1)
            return [a, b]

        done = {}
        while True:
            out = _run_workflow(main, {"completed_steps": done}, {"n": 4})
            if out["type"] == "complete":
                break
            if out["type"] == "dispatch":
                for s in out["steps"]:
                    done[s["key"]] = _run_workflow(main, {"completed_steps": done, "_executing_key": s["key"]}, {"n": 4})["result"]
            else:
                done[out["key"]] = out["result"]
        print(json.dumps({
            "result": out["result"], "shim": wmill.__wac_shim__, "client_shim": wmill.client.__wac_shim__,
            "same_task": wmill.task is wac.task, "same_error": wmill.TaskError is wac.TaskError,
            "run": _run_workflow is wac.sdk.run_round,
        }))
        """
    )
    assert result == {"result": [8, 9], "shim": True, "client_shim": True, "same_task": True, "same_error": True, "run": True}


def test_unsupported_wmill_functions_raise_a_clear_error_naming_them_and_the_reference() -> None:
    result = run_with_shim(
        """
        import json
        import wmill
        from wmill import get_variable
        errors = []
        for call in (lambda: wmill.load_s3_file("s3://x"), lambda: wmill.whoami(),
                     lambda: wmill.Windmill().get_duckdb_connection_settings()):
            try:
                call()
            except NotImplementedError as exc:
                errors.append(str(exc))
        try:
            wmill.definitely_not_a_wmill_name
        except AttributeError:
            errors.append("AttributeError")
        print(json.dumps({"errors": errors}))
        """
    )
    assert result["errors"] == [
        "wmill.load_s3_file() is not served by the wac engine (see docs/reference/client.md)",
        "wmill.whoami() is not served by the wac engine (see docs/reference/client.md)",
        "wmill.Windmill.get_duckdb_connection_settings() is not served by the wac engine (see docs/reference/client.md)",
        "AttributeError",
    ]


def test_served_client_calls_outside_a_job_say_they_need_the_engine() -> None:
    result = run_with_shim(
        """
        import json
        import wmill
        try:
            wmill.get_variable("f/x/y")
        except RuntimeError as exc:
            print(json.dumps({"error": str(exc)}))
        """
    )
    assert result == {"error": "wmill.get_variable() works only inside a job run by the wac engine"}


def test_get_resume_urls_flow_level_is_refused_clearly() -> None:
    result = run_with_shim(
        """
        import json
        import wmill
        try:
            wmill.get_resume_urls(flow_level=True)
        except NotImplementedError as exc:
            print(json.dumps({"error": str(exc)}))
        """
    )
    assert result == {"error": "wmill.get_resume_urls(flow_level=True) is not served by the wac engine "
                               "(see docs/reference/client.md)"}


def test_every_served_client_call_is_exported_and_none_is_also_listed_as_unsupported() -> None:
    result = run_with_shim(
        """
        import json
        import wmill
        from wmill import client
        print(json.dumps({"missing": sorted(set(client.SERVED) - set(client.__all__)),
                          "both": sorted(set(client.SERVED) & set(client.UNSUPPORTED)),
                          "callable": all(callable(getattr(wmill, n)) for n in client.SERVED)}))
        """
    )
    assert result == {"missing": [], "both": [], "callable": True}
