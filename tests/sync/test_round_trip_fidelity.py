"""Push then pull into an empty clone gives back every file byte for byte (issue 18 point 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.conftest import Shared, new_repo, put, tree

pytestmark = pytest.mark.slow

# written by an older wmill: quoted scalars, a block description, keys in its order
OLD_WMILL_YAML = """summary: 'Fetch things'
description: 'It''s quoted: with a colon'
lock: '!inline f/x/old.script.lock'
kind: script
schema:
  $schema: 'https://json-schema.org/draft/2020-12/schema'
  type: object
  properties:
    n:
      type: integer
      description: ''
  required:
    - n
"""


def test_pull_gives_back_a_script_yaml_an_older_wmill_wrote_byte_for_byte(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/old.py", "def main(n: int):\n    return n\n")
    (a / "f/x/old.script.yaml").write_text(OLD_WMILL_YAML)
    (a / "f/x/old.script.lock").write_text("# py: 3.12\n")
    shared.run(a, "generate-metadata", "rehash")
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "B")
    shared.run(b, "sync", "pull", "--yes")
    assert (b / "f/x/old.script.yaml").read_text() == OLD_WMILL_YAML
    assert tree(b) == tree(a)


def test_module_like_files_beside_scripts_survive_a_round_trip(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/x/job.py", "from ._logic import double\n\ndef main(n: int):\n    return double(n)\n")
    put(a, "f/x/_logic.py", "def double(n):\n    return 2 * n\n")  # a helper, no main, no metadata
    put(a, "f/x/__init__.py", "")
    put(a, "f/x/lib__mod/helper.py", "X = 1\n")  # a module folder whose script does not exist
    shared.run(a, "generate-metadata", "--schema-only", "--yes")
    pushed = shared.run(a, "sync", "push", "--yes")
    # a module folder of no script is not part of any item (wmill ignores it too): said, not lost silently
    assert "warning: f/x/lib__mod/ belongs to no script (no f/x/lib.py): not pushed" in pushed.stderr
    b = new_repo(tmp_path / "B")
    shared.run(b, "sync", "pull", "--yes")
    expected = {k: v for k, v in tree(a).items() if not k.startswith("f/x/lib__mod/")}
    assert set(tree(b)) == set(expected)  # the helpers and __init__.py come back with their metadata only
    assert tree(b) == expected


def test_push_refuses_a_script_whose_lock_file_is_missing(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/t/ok.py", "def main():\n    return 1\n")
    shared.run(a, "generate-metadata", "--schema-only", "--yes")
    (a / "f/t/ok.script.lock").unlink()
    for args in (("sync", "push", "--yes"), ("script", "push", "f/t/ok.py")):
        refused = shared.run(a, *args, code=1)
        assert "f/t/ok.script.yaml points at f/t/ok.script.lock, which is missing" in refused.stderr
        assert "wac generate-metadata" in refused.stderr
    backend = shared.backend()
    try:
        assert backend.list_scripts() == []
    finally:
        backend.close()


def test_sync_push_refuses_scripts_that_do_not_compile_unless_skip_invalid(tmp_path: Path, shared: Shared) -> None:
    a = new_repo(tmp_path / "A")
    put(a, "f/t/good.py", "def main():\n    return 1\n")
    put(a, "f/t/broken.py", "def main(:\n    return 1\n")
    (a / "f/t/nul.py").write_bytes(b"def main():\n    return 1\n\x00\n")
    (a / "f/t/latin.py").write_bytes(b'def main():\n    return "caf\xe9"\n')  # Python refuses it too
    refused = shared.run(a, "sync", "push", "--yes", code=1)
    assert "cannot push 3 invalid scripts" in refused.stderr
    assert "f/t/latin.py:2:16 WAC002 source cannot be decoded: byte 0xe9 is not UTF-8" in refused.stderr
    assert "f/t/broken.py:1:10: syntax error" in refused.stderr and "f/t/nul.py: the file contains NUL bytes" in refused.stderr
    assert "--skip-invalid" in refused.stderr
    backend = shared.backend()
    try:
        assert backend.list_scripts() == []
    finally:
        backend.close()
    done = shared.run(a, "sync", "push", "--yes", "--skip-invalid")
    assert "skipped (invalid): f/t/broken.py:1:10" in done.stderr
    assert "+ script f/t/good\n" in done.stdout and "broken" not in done.stdout
