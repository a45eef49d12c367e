from __future__ import annotations

from pathlib import Path

import pytest

from wac.project.lockfile import LockfileError, load_lockfile

H1 = "4f48426fc08c8ae4e83354de07c460826c50e5642aa028e00ba831b8fc2af66d"
H2 = "c17449005d3d0a1497faecc29acada77d17ef38aaa5e1f42ddf56f9da1cdf507"


def test_a_missing_lockfile_is_an_empty_v2_file_not_yet_written(tmp_path: Path) -> None:
    lock = load_lockfile(tmp_path)
    assert not lock.existed and lock.render() == "version: v2\nlocks: {}\n"
    assert not (tmp_path / "wmill-lock.yaml").exists()


def test_v2_keys_are_rendered_in_icu_order_with_unknown_keys_kept_as_written(tmp_path: Path) -> None:
    (tmp_path / "wmill-lock.yaml").write_text("locks:\n  ./u/gone/script: deadbeef\nversion: v2\n")
    lock = load_lockfile(tmp_path)
    lock.update({"f/b/flow1+a/b.py": H2, "f/b/flow1_2": H1, "f/b/flow1+a_b.py": H2})
    assert lock.render() == (
        f"version: v2\nlocks:\n  ./u/gone/script: deadbeef\n  f/b/flow1_2: {H1}\n  f/b/flow1+a_b.py: {H2}\n"
        f"  f/b/flow1+a/b.py: {H2}\n"
    )


def test_legacy_v1_file_keeps_its_nested_layout_and_gets_no_version(tmp_path: Path) -> None:
    text = f"locks:\n  f/a/x: {H2}\n  f/demo/my_workflow:\n    __script_hash: {H1}\n    extract.py: {H2}\n"
    (tmp_path / "wmill-lock.yaml").write_text(text)
    lock = load_lockfile(tmp_path)
    assert lock.get("f/demo/my_workflow+__script_hash") == H1
    assert lock.render() == text


def test_an_unknown_version_is_refused_and_the_file_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "wmill-lock.yaml"
    path.write_text("version: v9\nlocks: {}\n")
    with pytest.raises(LockfileError, match='unknown version "v9"') as info:
        load_lockfile(tmp_path)
    assert info.value.hint and info.value.exit_code == 1
    assert path.read_text() == "version: v9\nlocks: {}\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [("- a\n- b\n", "malformed"), ("version: v2\nlocks: [1]\n", "malformed"), ("locks: {a: [\n", "not valid YAML")],
)
def test_a_corrupt_lockfile_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "wmill-lock.yaml").write_text(text)
    with pytest.raises(LockfileError, match=message):
        load_lockfile(tmp_path)


def test_utf16_lockfile_is_refused_with_the_encoding_named(tmp_path: Path) -> None:
    (tmp_path / "wmill-lock.yaml").write_bytes("version: v2\n".encode("utf-16"))
    with pytest.raises(Exception, match="UTF-16"):
        load_lockfile(tmp_path)


def test_clearing_an_item_drops_its_plain_prefixed_nested_and_dot_slash_keys_only(tmp_path: Path) -> None:
    (tmp_path / "wmill-lock.yaml").write_text(
        "version: v2\nlocks:\n  f/x: a1\n  f/x+__flow_hash: a2\n  ./f/x+a.py: a3\n  f/x_2: b1\n  f/xy+k: b2\n"
        "  f/x/y: b3\n  ./f/x:\n    __flow_hash: a4\n")
    lock = load_lockfile(tmp_path)
    lock.clear("f/x")
    lock.set("f/x", "c1", "__flow_hash")
    lock.clear("f/x/y")
    lock.set("f/z", "c2")
    lock.clear("f/x")  # the index follows set() too
    assert lock.locks == {"f/x_2": "b1", "f/xy+k": "b2", "f/z": "c2"}


def test_a_legacy_lockfile_is_never_cleared(tmp_path: Path) -> None:
    (tmp_path / "wmill-lock.yaml").write_text(f"locks:\n  f/x:\n    __flow_hash: {H1}\n    old.py: {H2}\n")
    lock = load_lockfile(tmp_path)
    lock.clear("f/x")
    lock.set("f/x", H2, "__flow_hash")
    assert lock.locks == {"f/x": {"__flow_hash": H2, "old.py": H2}}
