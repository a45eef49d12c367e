from __future__ import annotations

import os
from pathlib import Path

import pytest

from wac.errors import PathError
from wac.project import RepoConfig, discover, find_repo_root, resolve_script
from wac.project.discovery import PathEscapeError


def put(root: Path, rel: str, text: str = "def main():\n    return 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def locals_of(root: Path, config: RepoConfig | None = None) -> list[str]:
    return [s.local_path for s in discover(root, config).scripts]


def test_scripts_are_found_under_f_u_g_only_and_not_in_hidden_or_node_modules_dirs(tmp_path: Path) -> None:
    for rel in ["f/a/x.py", "u/me/y.py", "g/grp/z.py", "other/w.py", "f/.hidden/h.py",
                "f/a/node_modules/n.py", "f/a/x.flow/inline.py", "f/a/ui.app/s.ts", "f/a/.dot.py"]:
        put(tmp_path, rel)
    assert locals_of(tmp_path) == ["f/a/x.py", "g/grp/z.py", "u/me/y.py"]


def test_flat_layout_gets_its_modules_from_the_sibling_mod_folder(tmp_path: Path) -> None:
    put(tmp_path, "f/demo/wf.py")
    for rel in ["extract.py", "lib/util.py", ".hidden/h.py", "node_modules/m.ts", "x.lock", "README.md",
                "data.json", "__pycache__/x.pyc", "q.sql"]:
        put(tmp_path, f"f/demo/wf__mod/{rel}")
    (ref,) = discover(tmp_path).scripts
    assert (ref.remote_path, ref.layout) == ("f/demo/wf", "flat")
    assert list(ref.module_paths) == [".hidden/h.py", "extract.py", "lib/util.py", "node_modules/m.ts"]
    assert ref.module_lock_path("lib/util.py") == tmp_path / "f/demo/wf__mod/lib/util.lock"


def test_folder_layout_entry_point_is_the_script_and_its_script_files_are_not_modules(tmp_path: Path) -> None:
    put(tmp_path, "f/demo/wf__mod/script.py")
    put(tmp_path, "f/demo/wf__mod/script.helpers.py")
    put(tmp_path, "f/demo/wf__mod/script_utils.py")
    put(tmp_path, "f/demo/wf__mod/sub/script.py")
    (ref,) = discover(tmp_path).scripts
    assert (ref.local_path, ref.remote_path, ref.layout) == ("f/demo/wf__mod/script.py", "f/demo/wf", "folder")
    assert list(ref.module_paths) == ["script_utils.py", "sub/script.py"]
    assert ref.default_lock_ref == "f/demo/wf__mod/script.lock"


def test_remote_path_strips_only_the_script_extension(tmp_path: Path) -> None:
    put(tmp_path, "f/my.folder/x.py")
    put(tmp_path, "f/a/q.pg.sql", "select 1")
    refs = {s.local_path: s.remote_path for s in discover(tmp_path).scripts}
    assert refs == {"f/my.folder/x.py": "f/my.folder/x", "f/a/q.pg.sql": "f/a/q"}


def test_bare_sql_is_reported_not_silently_dropped(tmp_path: Path) -> None:
    put(tmp_path, "f/a/q.sql", "select 1")
    found = discover(tmp_path)
    assert found.scripts == [] and found.skipped[0][0] == "f/a/q.sql"
    assert "cannot infer script language" in found.skipped[0][1]


def test_includes_and_excludes_filter_local_paths_with_minimatch_rules(tmp_path: Path) -> None:
    for rel in ["f/a/x.py", "f/b/y.py", "u/me/z.py"]:
        put(tmp_path, rel)
    assert locals_of(tmp_path, RepoConfig(includes=("f/**",))) == ["f/a/x.py", "f/b/y.py"]
    assert locals_of(tmp_path, RepoConfig(includes=("f/**", "u/**"), excludes=("f/b/**",))) == ["f/a/x.py", "u/me/z.py"]
    assert locals_of(tmp_path, RepoConfig(includes=("f/*",))) == []
    cfg = RepoConfig(includes=("f/**",)).with_overrides(includes=["u/**"])
    assert locals_of(tmp_path, cfg) == ["u/me/z.py"]


def test_a_symlink_loop_does_not_hang_discovery(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py")
    os.symlink(tmp_path / "f", tmp_path / "f/a/loop")
    put(tmp_path, "f/a/x__mod/m.py")
    os.symlink(tmp_path / "f/a/x__mod", tmp_path / "f/a/x__mod/again")
    (ref,) = discover(tmp_path).scripts
    assert list(ref.module_paths) == ["m.py"]


def test_a_module_symlinked_outside_the_repo_is_refused(tmp_path: Path) -> None:
    outside = put(tmp_path, "outside/secret.py")
    repo = tmp_path / "repo"
    put(repo, "f/a/x.py")
    (repo / "f/a/x__mod").mkdir()
    os.symlink(outside, repo / "f/a/x__mod/secret.py")
    put(repo, "f/a/ok.py")
    found = discover(repo)
    assert [s.local_path for s in found.scripts] == ["f/a/ok.py"]
    assert found.skipped == [("f/a/x.py", "module f/a/x__mod/secret.py points outside the repo")]
    with pytest.raises(PathEscapeError):
        resolve_script(repo, "f/a/x.py")


def test_resolve_script_accepts_flat_files_folder_entries_and_remote_paths(tmp_path: Path) -> None:
    put(tmp_path, "f/a/flat.py")
    put(tmp_path, "f/a/flat__mod/extract.py", "X = 1\n")
    put(tmp_path, "f/a/wf__mod/script.py")
    put(tmp_path, "f/a/wf__mod/lib/util.py", "Y = 2\n")
    flat = resolve_script(tmp_path, "f/a/flat.py")
    assert (flat.remote_path, flat.layout, flat.modules) == ("f/a/flat", "flat", {"extract.py": "X = 1\n"})
    assert resolve_script(tmp_path, "f/a/flat").main_file == flat.main_file
    assert resolve_script(tmp_path, str(tmp_path / "f/a/flat.py")).remote_path == "f/a/flat"
    folder = resolve_script(tmp_path, "f/a/wf__mod/script.py")
    assert (folder.remote_path, folder.layout, folder.modules) == ("f/a/wf", "folder", {"lib/util.py": "Y = 2\n"})
    assert resolve_script(tmp_path, "f/a/wf").main_file == folder.main_file


def test_resolve_script_explains_what_is_wrong(tmp_path: Path) -> None:
    put(tmp_path, "f/a/flat.py")
    put(tmp_path, "f/a/flat__mod/extract.py")
    put(tmp_path, "f/a/notes.txt", "x")
    with pytest.raises(PathError, match="no script"):
        resolve_script(tmp_path, "f/a/missing")
    with pytest.raises(PathError, match="module"):
        resolve_script(tmp_path, "f/a/flat__mod/extract.py")
    with pytest.raises(PathError, match="not a script"):
        resolve_script(tmp_path, "f/a/notes.txt")
    outside = put(tmp_path.parent / f"{tmp_path.name}-other", "x.py")
    with pytest.raises(PathEscapeError):
        resolve_script(tmp_path, str(outside))


def test_repo_root_is_the_nearest_wmill_yaml_then_the_git_top(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    deep = tmp_path / "sub" / "f" / "a"
    deep.mkdir(parents=True)
    assert find_repo_root(deep) == tmp_path
    (tmp_path / "sub" / "wmill.yaml").write_text("includes: ['f/**']\n")
    assert find_repo_root(deep) == tmp_path / "sub"
