"""The whole repo ⇄ workspace loop through the real CLI, as a new user meets it:
init → bootstrap → generate-metadata → sync push → script run → local edit → run (still the
deployed version) → sync push → run (the new one)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each


def test_init_bootstrap_generate_push_run_edit_push_run(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    wac("init", cwd=repo)
    wac("script", "bootstrap", "f/demo/flow", "--template", "workflow-with-modules", cwd=repo)
    wac("script", "bootstrap", "f/demo/greet", "--template", "script", cwd=repo)
    wac("generate-metadata", "--yes", cwd=repo)
    fresh = wac("generate-metadata", "--dry-run", cwd=repo)
    assert "All metadata up-to-date" in fresh.stdout + fresh.stderr

    plan = wac("sync", "push", "--dry-run", "--json", cwd=repo).json()["plan"]
    assert sorted(p["path"] for p in plan["added"]) == ["f/demo/flow", "f/demo/greet", "f/examples/hello_workflow"]
    assert wac("script", "list", "--json", cwd=repo).json() == []  # a dry run deploys nothing
    pushed = wac("sync", "push", "--yes", cwd=repo)
    assert "generate-metadata" not in pushed.stderr  # metadata is fresh: no staleness warning
    deployed = {s["path"] for s in wac("script", "list", "--json", cwd=repo).json()}
    assert deployed == {"f/demo/flow", "f/demo/greet", "f/examples/hello_workflow"}

    first = wac("script", "run", "f/demo/greet", "-d", '{"name": "Ada"}', cwd=repo).json()
    assert first == "Hello, Ada."
    flow = wac("script", "run", "f/demo/flow", cwd=repo)
    assert flow.code == 0 and flow.stdout.strip()

    greet = repo / "f" / "demo" / "greet.py"
    greet.write_text(greet.read_text().replace("Hello, ", "Hi, "))
    assert wac("script", "run", "f/demo/greet", "-d", '{"name": "Ada"}', cwd=repo).json() == "Hello, Ada."
    assert wac("script", "preview", "f/demo/greet.py", "-d", '{"name": "Ada"}', cwd=repo).json() == "Hi, Ada."

    stale = wac("sync", "push", "--yes", cwd=repo)
    assert "f/demo/greet" in stale.stderr and "generate-metadata" in stale.stderr
    assert wac("script", "run", "f/demo/greet", "-d", '{"name": "Ada"}', cwd=repo).json() == "Hi, Ada."
    history = wac("script", "history", "f/demo/greet", "--json", cwd=repo).json()
    assert len(history) == 2
    again = wac("sync", "push", "--dry-run", "--json", cwd=repo).json()["plan"]
    assert again["added"] == again["changed"] == again["deleted"] == []
