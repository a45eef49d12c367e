"""A file saved while a push is under way is not recorded as pushed; clones that keep one script
in different layouts push nothing after a pull."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.conftest import Shared, new_repo, put
from wac.engine.backend import open_backend
from wac.project import load_config
from wac.sync.apply import apply_push, read_local, record_push
from wac.sync.push import plan_push
from wac.sync.state import load_state
from wac.workspaces import get_workspace

pytestmark = pytest.mark.slow  # whole pushes and pulls between clones: seconds each

SCRIPT = 'def main():\n    return "{v}"\n'


def test_a_file_saved_during_a_push_is_not_recorded_as_pushed(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "a")
    put(a, "f/x/s.py", SCRIPT.format(v="pushed"))
    refs, local, snapshot = read_local(a, load_config(a))
    backend = open_backend(get_workspace("shared"), a)
    try:
        apply_push(backend, plan_push(local, backend.list_scripts(), load_config(a), layout_recorded=True))
        put(a, "f/x/s.py", SCRIPT.format(v="saved meanwhile"))  # after the read, before the record
        record_push(load_state(a, "shared"), a, refs, snapshot)
    finally:
        backend.close()
    # the workspace holds "pushed"; the local edit must show up as a conflict, not be overwritten
    res = shared.run(a, "sync", "pull", code=1)
    assert "f/x/s.py" in res.stderr and "conflict" in res.stdout
    assert (a / "f/x/s.py").read_text() == SCRIPT.format(v="saved meanwhile")


def test_clones_with_different_layouts_have_nothing_to_push_after_a_pull(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "a")
    put(a, "f/x/wf__mod/script.py", SCRIPT.format(v="wf"))
    put(a, "f/x/wf__mod/helper.py", "def main():\n    return 1\n")
    shared.run(a, "generate-metadata", "--schema-only", "--yes")
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "b")
    put(b, "f/x/wf.py", SCRIPT.format(v="old"))  # b keeps the script flat
    put(b, "f/x/wf__mod/helper.py", "def main():\n    return 0\n")
    shared.run(b, "sync", "pull", "--yes")
    assert (b / "f/x/wf.py").read_text() == SCRIPT.format(v="wf") and not (b / "f/x/wf__mod/script.py").exists()
    assert "Nothing to push" in shared.run(b, "sync", "push", "--yes").stderr
    assert "Nothing to push" in shared.run(a, "sync", "push", "--yes").stderr
