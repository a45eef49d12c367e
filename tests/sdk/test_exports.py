"""The public SDK surface is pinned, and ``import wac`` stays light."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import wac
import wac.sdk

SRC = Path(__file__).resolve().parents[2] / "src"


def test_public_sdk_is_exactly_these_names_sorted() -> None:
    assert wac.__all__ == [
        "TaskError",
        "get_resume_urls",
        "parallel",
        "sleep",
        "step",
        "task",
        "task_flow",
        "task_script",
        "wait_for_approval",
        "workflow",
    ]
    assert wac.__all__ == sorted(wac.__all__)
    for name in wac.__all__:
        assert getattr(wac, name) is getattr(wac.sdk, name)


def test_sdk_package_exports_are_sorted_and_present() -> None:
    assert wac.sdk.__all__ == sorted(wac.sdk.__all__)
    for name in wac.sdk.__all__:
        assert hasattr(wac.sdk, name)


def test_task_error_is_an_ordinary_exception_and_signals_are_base_exceptions() -> None:
    from wac.sdk.outcomes import RoundSignal

    assert issubclass(wac.TaskError, Exception)
    assert not issubclass(RoundSignal, Exception)


def test_import_wac_loads_no_heavy_dependency() -> None:
    code = (
        "import sys, json, time; t = time.perf_counter(); import wac; "
        "print(json.dumps({'ms': (time.perf_counter() - t) * 1000, 'mods': sorted(sys.modules)}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    loaded = json.loads(out.stdout)["mods"]
    for heavy in ("typer", "rich", "libcst", "httpx", "psycopg", "psycopg_pool", "asyncio", "wac.cli", "wac.engine", "wac.parser"):
        assert not any(m == heavy or m.startswith(heavy + ".") for m in loaded), heavy
