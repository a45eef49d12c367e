"""Flows, apps, raw apps, schedules, triggers and folders through push and pull (issue 18 point 2)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.sync.conftest import Shared, new_repo, put, tree

pytestmark = pytest.mark.slow

FLOWS = Path(__file__).parent.parent / "data" / "wmill-cli" / "39-rehash-flows-apps-undotted-v2" / "tree-after-run1"
WMILL_YAML = "defaultTs: bun\nincludes:\n  - f/**\nincludeSchedules: true\nincludeTriggers: true\n"


def every_kind(root: Path) -> Path:
    """A repo holding every kind: scripts, flows (both layouts), apps, raw apps, schedules, triggers, folders."""
    shutil.copytree(FLOWS / "f", root / "f")
    shutil.copytree(root / "f/flows/second__flow", root / "f/flows/dotted.flow")
    (root / "wmill.yaml").write_text(WMILL_YAML)
    (root / "f/flows/undotted__flow/.hidden.py").unlink()  # `f/**` leaves dot files out of sync, as in wmill
    put(root, "f/flows/folder.meta.yaml", "summary: null\ndisplay_name: flows\nowners:\n  - u/admin\nextra_perms: {}\n")
    put(root, "f/s/nightly.schedule.yaml", "schedule: '0 0 3 * * *'\ntimezone: Europe/Paris\n"
        "script_path: f/s/plain\nis_flow: false\nargs: {}\nenabled: true\n")
    (root / "f/s/hook.http_trigger.yaml").write_bytes(b"script_path: f/s/plain\r\nis_flow: false\r\n"
                                                      b"route_path: 'hook'\r\nhttp_method: post\r\n")
    put(root, "f/s/plain.script.lock", "")
    return root


def rehashed(root: Path, shared: Shared) -> Path:
    shared.run(root, "generate-metadata", "rehash")
    return root


def test_push_then_pull_into_an_empty_clone_reproduces_every_kind_byte_for_byte(tmp_path: Path, shared: Shared) -> None:
    a = rehashed(every_kind(tmp_path / "A"), shared)
    pushed = shared.run(a, "sync", "push", "--yes")
    for line in ("+ flow f/flows/undotted\n", "+ flow f/flows/dotted\n", "+ app f/apps/dash\n",
                 "+ raw app f/apps/raw\n", "+ schedule f/s/nightly\n", "+ http trigger f/s/hook\n",
                 "+ folder f/flows\n", "+ script f/s/plain\n"):
        assert line in pushed.stdout
    assert "and 9 items (9 added, 0 changed, 0 archived)" in pushed.stderr
    again = shared.run(a, "sync", "push", "--yes")
    assert "Nothing to push: 1 script and 9 items up to date" in again.stderr

    b = new_repo(tmp_path / "B")
    (b / "wmill.yaml").write_text(WMILL_YAML)
    shared.run(b, "sync", "pull", "--yes")
    assert set(tree(a)) - set(tree(b)) == set()
    assert tree(b) == tree(a)


def test_skip_and_include_options_leave_kinds_out(tmp_path: Path, shared: Shared) -> None:
    a = every_kind(tmp_path / "A")
    (a / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\nskipFlows: true\nskipApps: true\n")
    pushed = shared.run(a, "sync", "push", "--yes")
    assert "+ flow" not in pushed.stdout and "app " not in pushed.stdout and "schedule" not in pushed.stdout
    assert "+ folder f/flows\n" in pushed.stdout
    assert "note: 3 flow(s) left out by wmill.yaml (skipFlows)" in pushed.stderr
    assert "note: 1 schedule(s) left out by wmill.yaml (includeSchedules)" in pushed.stderr


def test_a_pulled_item_edited_locally_is_a_conflict_and_a_deleted_one_is_archived(tmp_path: Path, shared: Shared) -> None:
    a = every_kind(tmp_path / "A")
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "B")
    (b / "wmill.yaml").write_text(WMILL_YAML)
    shared.run(b, "sync", "pull", "--yes")
    (b / "f/flows/undotted__flow/step.py").write_text("def main():\n    return 'mine'\n")
    (a / "f/flows/undotted__flow/step.py").write_text("def main():\n    return 'theirs'\n")
    shutil.rmtree(a / "f/apps/dash__app")
    pushed = shared.run(a, "sync", "push", "--yes")
    assert "~ flow f/flows/undotted\n" in pushed.stdout and "- app f/apps/dash\n" in pushed.stdout
    refused = shared.run(b, "sync", "pull", code=1)
    assert "! f/flows/undotted__flow/step.py" in refused.stderr
    assert (b / "f/flows/undotted__flow/step.py").read_text() == "def main():\n    return 'mine'\n"
    shared.run(b, "sync", "pull", "--yes")
    assert (b / "f/flows/undotted__flow/step.py").read_text() == "def main():\n    return 'theirs'\n"
    assert not (b / "f/apps/dash__app").exists()


def test_schedule_list_shows_pushed_schedules_with_a_note_that_they_do_not_fire(tmp_path: Path, shared: Shared) -> None:
    a = every_kind(tmp_path / "A")
    shared.run(a, "sync", "push", "--yes")
    listed = shared.run(a, "schedule", "list")
    assert listed.stdout == "f/s/nightly  0 0 3 * * *  Europe/Paris  script f/s/plain  enabled\n"
    assert "the embedded workers do not fire them yet" in listed.stderr
    doc = shared.run(a, "schedule", "list", "--json").json()
    assert doc["schedules"][0]["path"] == "f/s/nightly" and doc["schedules"][0]["fired_by_wac"] is False


def test_task_flow_of_a_pushed_flow_says_flows_do_not_run_on_the_embedded_engine(tmp_path: Path, shared: Shared) -> None:
    a = every_kind(tmp_path / "A")
    put(a, "f/s/caller.py", """
        from wac import task_flow, workflow

        @workflow
        async def main():
            run = task_flow("f/flows/undotted")
            return await run()
    """)
    shared.run(a, "sync", "push", "--yes")
    failed = shared.run(a, "script", "run", "f/s/caller", code=1)
    assert "f/flows/undotted is a flow" in failed.stderr
    assert "running flows on the embedded engine is not supported yet" in failed.stderr
