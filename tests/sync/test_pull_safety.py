"""A workspace cannot make ``wac sync pull`` write outside the repo: each bad name is refused first."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.conftest import Shared, new_repo, put, tree
from wac.engine.backend import NewScript, ScriptModule

pytestmark = pytest.mark.slow

GOOD = NewScript(path="f/ok/fine", content="def main():\n    return 1\n")


def deploy(shared: Shared, *scripts: NewScript) -> None:
    ws = shared.backend()
    try:
        for s in scripts:
            ws.deploy(s)
    finally:
        ws.close()


def outside_view(tmp_path: Path) -> dict[str, bytes]:
    """Everything under tmp_path except the workspace's own files (sqlite may touch its -wal)."""
    return tree(tmp_path, skip=("ws", "cfg"))


@pytest.mark.parametrize(("evil", "needle"), [
    (NewScript(path="f/a/evil", content="x = 1\n", modules={"../../x.py": ScriptModule("owned = 1\n")}),
     "module '../../x.py' of f/a/evil contains '..'"),
    (NewScript(path="/etc/x", content="x = 1\n"), "remote script path '/etc/x' is absolute"),
    (NewScript(path="f/../../x", content="x = 1\n"), "remote script path 'f/../../x' contains '..'"),
    (NewScript(path="f/ok/a\nb", content="x = 1\n"),
     "remote script path 'f/ok/a\\nb' contains a control character (\\n)"),
    (NewScript(path="f/ok/\x1b[31mred", content="x = 1\n"),
     "remote script path 'f/ok/\\x1b[31mred' contains a control character (\\x1b)"),
    (NewScript(path="f/ok/a\u202eb", content="x = 1\n"),
     "contains an invisible or separator character (U+202E)"),
    (NewScript(path="f/ok/x", content="x = 1\n", modules={"a?.py": ScriptModule("y = 1\n")}),
     "module 'a?.py' of f/ok/x contains a reserved character (?)"),
], ids=["module-dotdot", "absolute-path", "path-dotdot", "newline", "escape-sequence", "bidi-override",
        "reserved-char"])
def test_pull_refuses_an_unsafe_remote_name_and_writes_nothing(
    tmp_path: Path, shared: Shared, evil: NewScript, needle: str,
) -> None:
    deploy(shared, GOOD, evil)
    b = new_repo(tmp_path / "B")
    before = outside_view(tmp_path)
    refused = shared.run(b, "sync", "pull", "--yes", code=4)
    assert needle in refused.stderr and "error: refusing to pull: " in refused.stderr
    assert "\x1b" not in refused.stderr and "\u202e" not in refused.stderr  # untrusted names printed escaped
    assert "hint: nothing was written" in refused.stderr
    assert outside_view(tmp_path) == before  # not f/ok/fine either, nor any sync state
    assert not (b / ".wac").exists()
    shared.run(b, "sync", "pull", "--dry-run", code=4)


def test_pull_refuses_a_script_under_a_symlink_that_leaves_the_repo(tmp_path: Path, shared: Shared) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    b = new_repo(tmp_path / "B")
    (b / "f").mkdir()
    (b / "f/link").symlink_to(elsewhere, target_is_directory=True)
    deploy(shared, GOOD, NewScript(path="f/link/x", content="owned = 1\n"))
    before = outside_view(tmp_path)
    refused = shared.run(b, "sync", "pull", "--yes", code=4)
    assert "f/link/x.py (of remote script f/link/x) resolves outside the repo" in refused.stderr
    assert outside_view(tmp_path) == before and list(elsewhere.iterdir()) == []


def test_pull_refuses_to_delete_through_a_symlink_that_leaves_the_repo(tmp_path: Path, shared: Shared) -> None:
    """A synced script whose folder is now a symlink out of the repo is not deleted out there."""
    elsewhere = tmp_path / "elsewhere"
    b = new_repo(tmp_path / "B")
    put(b, "f/out/victim.py", "def main():\n    return 1\n")
    shared.run(b, "sync", "push", "--yes")
    (b / "f/out").rename(elsewhere)
    (b / "f/out").symlink_to(elsewhere, target_is_directory=True)
    ws = shared.backend()
    try:
        ws.archive_script("f/out/victim")
    finally:
        ws.close()
    refused = shared.run(b, "sync", "pull", "--yes", code=4)
    assert "f/out/victim.py (written by the last sync) resolves outside the repo" in refused.stderr
    assert (elsewhere / "victim.py").exists()
