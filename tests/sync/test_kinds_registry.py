"""The sync registry: how a kind plugs in, and what each built-in kind finds on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from wac.project.config import load_config
from wac.sync import kinds
from wac.sync.kinds import Kind, local_items
from wac.sync.kinds_files import register_file_kind


def put(root: Path, rel: str, text: str = "x: 1\n") -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def test_a_kind_plugs_in_with_one_register_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kinds, "KINDS", dict(kinds.all_kinds()))
    register_file_kind("widget", "widget", ".widget.yaml", skip_key="skipWidgets")
    register_file_kind("secretish", "secretish", ".secretish.yaml", stored="own")
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\n")
    put(tmp_path, "f/a/one.widget.yaml")
    put(tmp_path, "f/a/two.secretish.yaml")
    found, notes = local_items(tmp_path, load_config(tmp_path))
    assert [(i.kind, i.path, i.files) for i in found] == [("widget", "f/a/one", ("f/a/one.widget.yaml",))]
    assert notes == []
    assert isinstance(kinds.KINDS["widget"], Kind) and kinds.KINDS["widget"].owns("f/a/one", "f/a/one.widget.yaml")
    assert not kinds.KINDS["widget"].owns("f/a/one", "f/a/other.widget.yaml")
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nskipWidgets: true\n")
    found, notes = local_items(tmp_path, load_config(tmp_path))
    assert found == [] and notes == ["1 widget(s) left out by wmill.yaml (skipWidgets)"]


def test_built_in_kinds_find_their_items_and_own_only_their_files(tmp_path: Path) -> None:
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nincludeSchedules: true\nincludeTriggers: true\n")
    put(tmp_path, "f/a/etl.flow/flow.yaml")
    put(tmp_path, "f/a/etl.flow/a.py", "def main():\n    return 1\n")
    put(tmp_path, "f/a/load__flow/flow.yaml")
    put(tmp_path, "f/a/dash__app/app.yaml")
    put(tmp_path, "f/a/ui.raw_app/raw_app.yaml")
    put(tmp_path, "f/a/ui.raw_app/backend/q.py")
    put(tmp_path, "f/a/nightly.schedule.yaml")
    put(tmp_path, "f/a/hook.kafka_trigger.yaml")
    put(tmp_path, "f/a/folder.meta.yaml")
    put(tmp_path, "f/a/not_a_flow/flow.yaml")  # a flow.yaml outside a .flow/__flow folder
    found, _ = local_items(tmp_path, load_config(tmp_path))
    got = {(i.kind, i.path, len(i.files)) for i in found}
    assert got == {("flow", "f/a/etl", 2), ("flow", "f/a/load", 1), ("folder", "f/a", 1), ("app", "f/a/dash", 1),
                   ("kafka_trigger", "f/a/hook", 1), ("raw_app", "f/a/ui", 2), ("schedule", "f/a/nightly", 1)}
    flow = kinds.KINDS["flow"]
    assert flow.owns("f/a/etl", "f/a/etl.flow/a.py") and flow.owns("f/a/etl", "f/a/etl__flow/flow.yaml")
    assert not flow.owns("f/a/etl", "f/a/etl.flowx/a.py") and not flow.owns("f/a/etl", "f/a/etl.flow/")
    assert not kinds.KINDS["folder"].owns("f/a", "f/b/folder.meta.yaml")
