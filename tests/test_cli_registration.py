"""Commands are registered in one place, wac/cli/app.py, never as a side effect of an import."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parent.parent / "src" / "wac" / "cli"

_NAMES = """
import json, sys
import typer
def names(group):
    return [c.name for c in group.registered_commands]
from wac.cli import script, job
before = {"script": names(script.script_app), "job": names(job.job_app)}
import wac.cli.deployed, wac.cli.jobevolve, wac.cli.init
after = {"script": names(script.script_app), "job": names(job.job_app)}
from wac.cli.app import app
import typer.main
root = typer.main.get_command(app)
tree = {name: list(getattr(cmd, "commands", {})) for name, cmd in root.commands.items()}
print(json.dumps({"before": before, "after": after, "tree": tree}))
"""


@pytest.fixture(scope="module")
def registration() -> dict[str, dict[str, list[str]]]:
    """What a fresh interpreter sees (no other test's imports interfere)."""
    proc = subprocess.run([sys.executable, "-c", _NAMES], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(proc.stdout)


@pytest.mark.slow
def test_importing_a_command_module_adds_no_command_to_another_modules_group(
    registration: dict[str, dict[str, list[str]]],
) -> None:
    seen = registration
    assert seen["before"] == seen["after"] == {"script": ["preview"], "job": [
        "list", "get", "result", "logs", "timeline", "cancel", "approve", "reject"]}


@pytest.mark.slow
def test_the_app_registers_every_command_in_the_order_help_lists_them(
    registration: dict[str, dict[str, list[str]]],
) -> None:
    tree = registration["tree"]
    assert tree["script"] == ["preview", "push", "list", "show", "history", "run", "bootstrap", "check"]
    assert tree["job"] == ["list", "get", "result", "logs", "timeline", "cancel", "approve", "reject",
                           "migrate", "rerun"]
    assert list(tree) == ["worker", "init", "server", "script", "job", "generate-metadata", "workspace", "sync",
                          "cache", "variable", "resource", "store", "schedule"]


def test_every_command_module_with_a_register_function_is_registered_by_the_app() -> None:
    app_source = (CLI / "app.py").read_text()
    called = {node.func.value.id for node in ast.walk(ast.parse(app_source))
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr == "register" and isinstance(node.func.value, ast.Name)}
    defining = {path.stem for path in CLI.glob("*.py")
                if any(isinstance(n, ast.FunctionDef) and n.name == "register"
                       for n in ast.parse(path.read_text()).body)}
    assert defining == called


def test_no_command_module_registers_on_a_group_it_imports_from_another_module() -> None:
    for path in CLI.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in tree.body:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("wac.cli."):
                imported = {alias.name for alias in node.names}
                assert not {n for n in imported if n.endswith("_app")}, f"{path.name} imports {imported} from {node.module}"
