"""``wac sync push`` / ``wac sync pull`` end to end: two clones, one SQLite workspace, real processes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.sync.conftest import Shared, new_repo, put, tree

pytestmark = pytest.mark.slow


def make_repo_a(root: Path, shared: Shared) -> Path:
    """A flat script, a flat script with __mod modules and a module lock, a folder-layout script."""
    a = new_repo(root)
    put(a, "f/demo/simple.py", """
        def main(x: int, name: str = "a"):
            return x
    """)
    put(a, "f/demo/flat.py", """
        from wmill import task_script

        def main(url: str):
            return url
    """)
    put(a, "f/demo/flat__mod/extract.py", """
        import requests

        def main(url: str):
            return requests.get(url).json()
    """)
    put(a, "f/demo/flat__mod/extract.lock", "# py: 3.12\nrequests==2.32.3\n")
    put(a, "f/demo/wf__mod/script.py", """
        def main(y: str):
            return y
    """)
    put(a, "f/demo/wf__mod/helper.py", "def main():\n    return 1\n")
    put(a, "f/demo/wf__mod/lib/util.py", "X = 1\n")
    shared.run(a, "generate-metadata", "--schema-only", "--yes")
    (a / "f/demo/simple.script.lock").write_text("# py: 3.12\n")  # a non-empty main lock too
    shared.run(a, "generate-metadata", "rehash")
    return a


def test_push_then_pull_into_an_empty_clone_reproduces_every_file(tmp_path: Path, shared: Shared) -> None:
    a = make_repo_a(tmp_path / "A", shared)
    dry = shared.run(a, "sync", "push", "--dry-run", "--json")
    assert [i["path"] for i in dry.json()["plan"]["added"]] == ["f/demo/flat", "f/demo/simple", "f/demo/wf"]
    assert _live(shared) == []
    first = shared.run(a, "sync", "push", "--yes")
    assert first.stdout.startswith("+ script f/demo/flat\n+ script f/demo/simple\n+ script f/demo/wf\n")
    assert "Pushed 3 scripts (3 added, 0 changed, 0 archived) to workspace 'shared' in " in first.stderr

    b = new_repo(tmp_path / "B")
    shared.run(b, "sync", "pull", "--dry-run")
    assert tree(b) == {"wmill.yaml": (a / "wmill.yaml").read_bytes()} and not (b / ".wac").exists()
    pulled = shared.run(b, "sync", "pull", "--yes")
    assert "Pulled 3 scripts (3 added, 0 changed, 0 deleted; 13 files written, 0 removed)" in pulled.stderr
    assert tree(b) == tree(a)  # both layouts, module locks and wmill-lock.yaml, byte for byte
    assert "All metadata up-to-date" in shared.run(b, "generate-metadata", "--dry-run").stdout
    assert "Nothing to push: 3 scripts up to date" in shared.run(b, "sync", "push", "--yes").stderr

    # a second push with no change deploys nothing
    before = _versions(shared)
    again = shared.run(a, "sync", "push", "--yes", "--json")
    assert again.json()["plan"] == {"added": [], "changed": [], "deleted": [], "stale": [],
                                    "unchanged": ["f/demo/flat", "f/demo/simple", "f/demo/wf"], "items": []}
    assert _versions(shared) == before

    # a local edit is a change; a deleted local script is archived
    put(a, "f/demo/wf__mod/helper.py", "def main():\n    return 2\n")
    shared.run(a, "generate-metadata", "rehash")
    (a / "f/demo/simple.py").unlink()
    (a / "f/demo/simple.script.yaml").unlink()
    (a / "f/demo/simple.script.lock").unlink()
    edited = shared.run(a, "sync", "push", "--yes")
    assert edited.stdout.startswith("- script f/demo/simple\n~ script f/demo/wf\n")
    assert "(0 added, 1 changed, 1 archived)" in edited.stderr
    assert [v.path for v in _live(shared)] == ["f/demo/flat", "f/demo/wf"]

    # B follows: the module is rewritten, the archived script's files removed (unchanged since pulled)
    follow = shared.run(b, "sync", "pull", "--yes")
    assert "- script f/demo/simple\n    - f/demo/simple.py\n" in follow.stdout
    assert tree(b) == tree(a)


def _live(shared: Shared) -> list:  # type: ignore[type-arg]
    ws = shared.backend()
    try:
        return ws.list_scripts()
    finally:
        ws.close()


def _versions(shared: Shared) -> dict[str, int]:
    ws = shared.backend()
    try:
        return {v.path: len(ws.script_history(v.path)) for v in ws.list_scripts()}
    finally:
        ws.close()


def test_pull_refuses_to_overwrite_a_local_edit_until_yes(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/job.py", "def main():\n    return 'v1'\n")
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "B")
    refused = shared.run(b, "sync", "pull", code=2)  # no terminal and no --yes: the plan, then a refusal
    assert "+ script f/x/job\n" in refused.stdout and "pass --yes to pull" in refused.stderr
    assert not (b / "f/x/job.py").exists()
    shared.run(b, "sync", "pull", "--yes")

    (b / "f/x/job.py").write_text("def main():\n    return 'mine'\n")
    put(a, "f/x/job.py", "def main():\n    return 'v2'\n")
    shared.run(a, "sync", "push", "--yes")
    before = tree(b, skip=(".git",))
    refused = shared.run(b, "sync", "pull", code=1)
    assert "  ! f/x/job.py \u2014 changed locally since the last sync\n" in refused.stderr
    assert "error: 1 local file changed since the last sync; nothing pulled\n" in refused.stderr
    assert "--yes" in refused.stderr.splitlines()[-1]
    assert tree(b, skip=(".git",)) == before
    dry = shared.run(b, "sync", "pull", "--dry-run", "--json")
    assert dry.json()["plan"]["conflicts"] == [
        {"path": "f/x/job.py", "action": "change", "reason": "changed locally since the last sync"}]

    shared.run(b, "sync", "pull", "--yes")
    assert (b / "f/x/job.py").read_text() == "def main():\n    return 'v2'\n"
    assert "Nothing to pull" in shared.run(b, "sync", "pull", "--yes").stderr


def test_pull_keeps_an_edited_file_of_a_remotely_archived_script(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/keep.py", "def main():\n    return 1\n")
    put(a, "f/x/drop.py", "def main():\n    return 2\n")
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "B")
    shared.run(b, "sync", "pull", "--yes")
    (b / "f/x/drop.py").write_text("def main():\n    return 'edited in B'\n")
    (a / "f/x/drop.py").unlink()
    shared.run(a, "sync", "push", "--yes")
    refused = shared.run(b, "sync", "pull", code=1)
    assert "! f/x/drop.py \u2014 changed locally since the last sync" in refused.stderr
    assert (b / "f/x/drop.py").exists()
    shared.run(b, "sync", "pull", "--yes")
    assert not (b / "f/x/drop.py").exists() and (b / "f/x/keep.py").exists()


def test_push_without_a_terminal_needs_yes_and_deploys_nothing(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/job.py", "def main():\n    return 1\n")
    refused = shared.run(a, "sync", "push", code=2)
    assert "+ script f/x/job\n" in refused.stdout
    assert "error: not pushing without confirmation: stdin is not a terminal" in refused.stderr
    assert "hint: pass --yes" in refused.stderr
    assert _live(shared) == []


def test_push_of_a_broken_script_yaml_names_the_file_and_deploys_nothing(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/good.py", "def main():\n    return 1\n")
    put(a, "f/x/bad.py", "def main():\n    return 2\n")
    put(a, "f/x/bad.script.yaml", "summary: [unclosed\n")
    failed = shared.run(a, "sync", "push", "--yes", code=1)
    assert "error: cannot parse" in failed.stderr and "f/x/bad.script.yaml" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert _live(shared) == []


def test_push_warns_about_stale_metadata(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/job.py", "def main():\n    return 1\n")
    pushed = shared.run(a, "sync", "push", "--yes")
    assert "warning: f/x/job.py: metadata is stale" in pushed.stderr
    assert "hint: run: wac generate-metadata\n" in pushed.stderr
    assert json.loads(shared.run(a, "sync", "push", "--dry-run", "--json").stdout)["plan"]["stale"] == ["f/x/job.py"]


def _on_a_terminal(repo: Path, env: dict[str, str], args: list[str], answer: bytes, timeout: float = 20) -> tuple[int, str]:
    """Run wac on a pseudo-terminal and type ``answer`` at its first question."""
    from tests.clirun import wac_on_terminal

    return wac_on_terminal(*args, cwd=repo, answer=answer, when=b"[y/N]", env=env, timeout=timeout)


def test_on_a_terminal_push_asks_first_and_no_deploys_nothing(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/job.py", "def main():\n    return 1\n")
    code, screen = _on_a_terminal(a, shared.env, ["sync", "push"], b"n\n")
    assert code == 1 and "Push 1 change to workspace 'shared'? [y/N]" in screen and "Nothing pushed." in screen
    assert _live(shared) == []
    code, screen = _on_a_terminal(a, shared.env, ["sync", "push"], b"y\n")
    assert code == 0 and "Pushed 1 script (1 added, 0 changed, 0 archived)" in screen, screen
    assert [v.path for v in _live(shared)] == ["f/x/job"]
