"""The pure push and pull plans, on in-memory repos and workspaces."""

from __future__ import annotations

from pathlib import Path

import pytest

from wac.engine.backend import NewScript, ScriptModule, ScriptVersion
from wac.errors import RejectedError
from wac.project.config import RepoConfig
from wac.project.discovery import ScriptRef
from wac.project.scriptmeta import default_metadata, render_metadata
from wac.sync.local import LocalEntry
from wac.sync.pull import CHANGED, NOT_RECORDED, plan_pull
from wac.sync.push import plan_push
from wac.sync.scripts import LocalScript
from wac.sync.state import digest

ROOT = Path("/repo")
SCOPE = RepoConfig(includes=("f/**",))


def script(path: str, content: str = "def main():\n    return 1\n", **kw: object) -> NewScript:
    return NewScript(path=path, content=content, **kw)  # type: ignore[arg-type]


def head(s: NewScript) -> ScriptVersion:
    return ScriptVersion(script=s, hash=s.content_hash(), parent_hash=None, created_at=0.0)


def local(s: NewScript, stale: bool = False) -> LocalScript:
    main = s.entry_file()
    ref = ScriptRef(repo_root=ROOT, main_file=ROOT / main, local_path=main, remote_path=s.path,
                    layout=s.layout, language="python3", module_dir=ROOT / s.module_dir())  # type: ignore[arg-type]
    return LocalScript(ref=ref, script=s, stale=stale, has_metadata=s.metadata is not None)


class DictView:
    """A repo in memory; ``outside`` lists paths that resolve outside it (symlinks)."""

    def __init__(self, files: dict[str, str] | None = None, outside: tuple[str, ...] = ()) -> None:
        self.files = {k: v.encode() for k, v in (files or {}).items()}
        self.outside = outside

    def read(self, rel: str) -> bytes | None:
        return self.files.get(rel)

    def escapes(self, rel: str) -> bool:
        return any(rel == o or rel.startswith(o + "/") for o in self.outside)


# ------------------------------------------------------------------------------------------- push


def test_push_plan_sorts_added_changed_deleted_and_skips_unchanged() -> None:
    same = script("f/a/same")
    old = script("f/a/edited")
    new = script("f/a/edited", content="def main():\n    return 2\n")
    plan = plan_push(
        [local(script("f/b/new")), local(same), local(new)],
        [head(same), head(old), head(script("f/a/gone"))],
        SCOPE, layout_recorded=True,
    )
    assert [(i.sign, i.path) for i in plan.items] == [("~", "f/a/edited"), ("-", "f/a/gone"), ("+", "f/b/new")]
    assert plan.unchanged == ["f/a/same"]
    assert plan.of("change")[0].remote_hash == old.content_hash()


def test_push_plan_never_archives_a_remote_script_outside_includes_or_excludes() -> None:
    config = RepoConfig(includes=("f/**",), excludes=("f/private/**",))
    plan = plan_push([], [head(script("f/private/x")), head(script("u/admin/y")), head(script("f/pub/z"))],
                     config, layout_recorded=True)
    assert [(i.action, i.path) for i in plan.items] == [("delete", "f/pub/z")]


def test_push_plan_compares_metadata_only_where_the_workspace_keeps_it_and_never_the_layout() -> None:
    meta = default_metadata("f/a/x.script.lock")
    flat = script("f/a/x", metadata=meta, layout="flat", lock="")
    folder = script("f/a/x", metadata={**meta, "lock": "!inline f/a/x__mod/script.lock"}, layout="folder", lock="")
    # a clone that keeps the script in the other layout (pull keeps local layouts) has nothing to push
    assert plan_push([local(folder)], [head(flat)], SCOPE, layout_recorded=True).items == []
    edited = script("f/a/x", metadata={**meta, "timeout": 5}, layout="flat", lock="")
    assert [i.action for i in plan_push([local(edited)], [head(flat)], SCOPE, layout_recorded=True).items] == ["change"]
    # a Windmill workspace keeps neither the yaml document nor the layout, and no lock reads as ''
    remote = script("f/a/x", lock=None)
    plan = plan_push([local(folder)], [head(remote)], SCOPE, layout_recorded=False)
    assert plan.items == [] and plan.unchanged == ["f/a/x"]


def test_push_plan_flags_stale_metadata() -> None:
    plan = plan_push([local(script("f/a/x"), stale=True)], [], SCOPE, layout_recorded=True)
    assert plan.stale == ["f/a/x.py"] and plan.items[0].stale


def test_push_plan_sees_a_module_lock_change() -> None:
    a = script("f/a/x", modules={"m.py": ScriptModule("x = 1\n", lock="a==1\n")})
    b = script("f/a/x", modules={"m.py": ScriptModule("x = 1\n", lock="a==2\n")})
    assert [i.action for i in plan_push([local(b)], [head(a)], SCOPE, layout_recorded=False).items] == ["change"]


# ------------------------------------------------------------------------------------------- pull


def with_meta(path: str, layout: str = "flat", modules: dict[str, ScriptModule] | None = None,
              lock: str = "") -> NewScript:
    lock_ref = f"{path}__mod/script.lock" if layout == "folder" else f"{path}.script.lock"
    return script(path, metadata=default_metadata(lock_ref), layout=layout, lock=lock, modules=modules or {})


def pull(remote: list[NewScript], view: DictView | None = None, local: dict[str, LocalEntry] | None = None,
         recorded: dict[str, str] | None = None, config: RepoConfig = SCOPE, layout_recorded: bool = True):  # type: ignore[no-untyped-def]
    return plan_pull([head(s) for s in remote], local or {}, view or DictView(), recorded or {}, config,
                     layout_recorded=layout_recorded)


def files_of(plan, path: str) -> dict[str, bytes | None]:  # type: ignore[no-untyped-def]
    (s,) = [s for s in plan.scripts if s.path == path]
    return {f.path: f.data for f in s.files}


def test_pull_writes_a_new_script_in_its_recorded_layout() -> None:
    mods = {"extract.py": ScriptModule("E\n", lock="req==1\n"), "lib/u.py": ScriptModule("U\n", lock=None)}
    plan = pull([with_meta("f/a/flat", "flat", mods), with_meta("f/a/fold", "folder", mods)])
    assert sorted(files_of(plan, "f/a/flat")) == [
        "f/a/flat.py", "f/a/flat.script.lock", "f/a/flat.script.yaml",
        "f/a/flat__mod/extract.lock", "f/a/flat__mod/extract.py", "f/a/flat__mod/lib/u.py",
    ]
    fold = files_of(plan, "f/a/fold")
    assert sorted(fold) == [
        "f/a/fold__mod/extract.lock", "f/a/fold__mod/extract.py", "f/a/fold__mod/lib/u.py",
        "f/a/fold__mod/script.lock", "f/a/fold__mod/script.py", "f/a/fold__mod/script.yaml",
    ]
    assert b"lock: '!inline f/a/fold__mod/script.lock'" in (fold["f/a/fold__mod/script.yaml"] or b"")
    assert [s.action for s in plan.scripts] == ["add", "add"]


def test_pull_without_a_recorded_layout_follows_wmill_folder_when_modules() -> None:
    mods = {"m.py": ScriptModule("M\n", lock="x==1\n")}
    plan = pull([script("f/a/with", modules=mods, lock="a==1\n"), script("f/a/plain", lock="")],
                layout_recorded=False)
    with_files = files_of(plan, "f/a/with")
    assert "f/a/with__mod/script.py" in with_files and "f/a/with__mod/m.lock" in with_files
    assert b"lock: '!inline f/a/with__mod/script.lock'" in (with_files["f/a/with__mod/script.yaml"] or b"")
    plain = files_of(plan, "f/a/plain")
    assert sorted(plain) == ["f/a/plain.py", "f/a/plain.script.yaml"]  # lock '' -> no lock file
    assert b"lock: ''\n" in (plain["f/a/plain.script.yaml"] or b"")


def test_pull_keeps_the_local_layout_and_repoints_the_inline_lock() -> None:
    remote = with_meta("f/a/x", "flat", {"m.py": ScriptModule("M2\n")}, lock="new==1\n")
    yaml = render_metadata(default_metadata("f/a/x__mod/script.lock"))
    view = DictView({"f/a/x__mod/script.py": "old\n", "f/a/x__mod/script.yaml": yaml,
                     "f/a/x__mod/script.lock": "", "f/a/x__mod/m.py": "M\n"})
    entry = LocalEntry("f/a/x", "f/a/x__mod/script.py", "folder", "f/a/x__mod/script.yaml",
                       default_metadata("f/a/x__mod/script.lock"), "f/a/x__mod/script.lock",
                       tuple(view.files))
    recorded = {k: digest(v) for k, v in view.files.items()}
    plan = pull([remote], view, {"f/a/x": entry}, recorded)
    (s,) = plan.scripts
    assert s.layout == "folder" and s.action == "change"
    # the yaml is the same document once its lock points at the folder layout's lock: kept as is
    assert {f.path: f.action for f in s.files} == {
        "f/a/x__mod/script.py": "change", "f/a/x__mod/script.lock": "change", "f/a/x__mod/m.py": "change",
    }
    assert plan.conflicts == []


def test_pull_marks_local_edits_and_unrecorded_files_as_conflicts() -> None:
    remote = with_meta("f/a/x")
    view = DictView({"f/a/x.py": "edited here\n", "f/a/x.script.lock": "junk\n"})
    recorded = {"f/a/x.py": digest(b"as pushed\n")}
    plan = pull([remote], view, recorded=recorded)
    assert {c.path: c.conflict for c in plan.conflicts} == {"f/a/x.py": CHANGED, "f/a/x.script.lock": NOT_RECORDED}
    # an unchanged file (same bytes as recorded) is overwritten without a conflict
    ok = pull([remote], view, recorded={"f/a/x.py": digest(b"edited here\n"), "f/a/x.script.lock": digest(b"junk\n")})
    assert ok.conflicts == [] and ok.scripts[0].action == "add"


def test_pull_of_identical_files_changes_nothing_and_records_them() -> None:
    remote = with_meta("f/a/x")
    files = {"f/a/x.py": remote.content, "f/a/x.script.lock": "",
             "f/a/x.script.yaml": render_metadata(default_metadata("f/a/x.script.lock"))}
    entry = LocalEntry("f/a/x", "f/a/x.py", "flat", "f/a/x.script.yaml", default_metadata("f/a/x.script.lock"),
                       "f/a/x.script.lock", tuple(files))
    plan = pull([remote], DictView(files), {"f/a/x": entry})
    assert [s.action for s in plan.scripts] == ["unchanged"] and plan.changed == []
    assert plan.scripts[0].record == {k: digest(v.encode()) for k, v in files.items()}


def test_pull_deletes_a_remotely_archived_script_only_when_it_was_synced() -> None:
    files = {"f/a/gone.py": "x\n", "f/a/new.py": "y\n"}
    gone = LocalEntry("f/a/gone", "f/a/gone.py", "flat", None, None, None, ("f/a/gone.py",))
    new = LocalEntry("f/a/new", "f/a/new.py", "flat", None, None, None, ("f/a/new.py",))
    plan = pull([], DictView(files), {"f/a/gone": gone, "f/a/new": new}, {"f/a/gone.py": digest(b"x\n")})
    assert [(s.action, s.path) for s in plan.scripts] == [("delete", "f/a/gone")]
    assert plan.local_only == ["f/a/new"] and plan.conflicts == []
    edited = pull([], DictView(files), {"f/a/gone": gone}, {"f/a/gone.py": digest(b"older\n")})
    assert [(c.path, c.action) for c in edited.conflicts] == [("f/a/gone.py", "delete")]


def test_pull_skips_remote_scripts_outside_includes_and_excludes() -> None:
    config = RepoConfig(includes=("f/**",), excludes=("f/private/**",))
    plan = pull([with_meta("f/private/x"), with_meta("u/admin/y"), with_meta("f/pub/z")], config=config)
    assert [s.path for s in plan.scripts] == ["f/pub/z"]
    assert plan.skipped == ["f/private/x", "u/admin/y"]


@pytest.mark.parametrize(("path", "modules", "needle"), [
    ("/etc/x", {}, "is absolute"),
    ("f/../../x", {}, "contains '..'"),
    ("f\\a\\x", {}, "backslash"),
    ("f/a/x\x00", {}, "NUL"),
    ("etc/a/x", {}, "does not start with f/, u/ or g/"),
    ("f/a__mod/x", {}, "module folder"),
    ("f/a/x", {"../../x.py": ScriptModule("boom")}, "'../../x.py' of f/a/x contains '..'"),
    ("f/a/x", {"/abs.py": ScriptModule("boom")}, "is absolute"),
    ("f/a/x", {"script.py": ScriptModule("boom")}, "entry point"),
    ("f/a/x", {"notes.txt": ScriptModule("boom")}, "not a module file name"),
])
def test_pull_refuses_unsafe_remote_names(path: str, modules: dict[str, ScriptModule], needle: str) -> None:
    with pytest.raises(RejectedError) as err:
        pull([with_meta("f/ok/fine"), script(path, modules=modules)])
    assert needle in err.value.message and err.value.exit_code == 4


def test_pull_refuses_a_target_that_resolves_outside_the_repo_even_when_excluded_scripts_are_fine() -> None:
    with pytest.raises(RejectedError, match=r"f/link/x\.py \(of remote script f/link/x\) resolves outside"):
        pull([with_meta("f/ok/fine"), with_meta("f/link/x")], DictView(outside=("f/link",)))


def test_pull_builds_wmill_metadata_from_fields_without_a_recorded_document() -> None:
    remote = script("f/a/x", summary="Hello", lock=None, options={"tag": "gpu"}, has_preprocessor=True)
    text = (files_of(pull([remote], layout_recorded=False), "f/a/x")["f/a/x.script.yaml"] or b"").decode()
    assert "lock" not in text and "summary: Hello\n" in text and "tag: gpu\n" in text
    assert "has_preprocessor: true\n" in text
