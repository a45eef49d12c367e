"""The pure parts of ``wac init`` / ``wac script bootstrap``: templates, paths, .gitignore."""

from __future__ import annotations

from pathlib import Path

import pytest

from wac.cli.init import Template, _ensure_gitignore, plan_bootstrap, remote_path_of, template_text
from wac.errors import PathError, UsageError
from wac.project.discovery import PathEscapeError

HERE = Path(__file__).resolve().parent
# recorded from `wmill init --use-default`; the shared spec copy is compared too when present
RECORDED = HERE / "wmill-init-default.yaml"
SHARED = HERE.parents[2] / "shared" / "spec" / "wmill-init-default.yaml"


def test_wmill_yaml_template_is_the_file_wmill_init_writes():
    packaged = template_text("wmill.yaml").encode()
    assert packaged == RECORDED.read_bytes()
    if SHARED.is_file():
        assert packaged == SHARED.read_bytes()


@pytest.mark.parametrize("template", list(Template))
def test_bootstrap_templates_parse_without_diagnostics(template):
    from wac.parser import parse_script

    files = plan_bootstrap("f/demo/new_one", template)
    for f in files:
        assert "<path>" not in f.text and "<modules>" not in f.text, f.rel
    for f in (f for f in files if f.rel.endswith(".py")):
        info = parse_script(f.text, f.rel, remote_path="f/demo/new_one")
        assert info.diagnostics == (), f.rel
        assert info.main_found, f.rel
    main = parse_script(files[0].text, files[0].rel)
    assert main.is_workflow == (template is not Template.script)
    assert "wac script preview f/demo/new_one.py" in files[0].text
    if template is Template.workflow_with_modules:
        assert [t.name for t in main.tasks if t.kind == "task_script"] == ["./helpers.py"]
        assert "f/demo/new_one__mod/" in files[0].text


def test_init_example_is_a_workflow_with_task_step_and_parallel():
    from wac.parser import parse_script

    text = template_text("hello_workflow.py")
    info = parse_script(text, "f/examples/hello_workflow.py")
    assert info.is_workflow and info.diagnostics == ()
    assert {t.kind for t in info.tasks} == {"task", "step"}
    assert "parallel(" in text
    assert info.schema is not None and info.schema["required"] == []  # runs with no arguments


@pytest.mark.parametrize(
    ("template", "rels"),
    [
        (Template.workflow, ["f/a/b.py", "f/a/b.script.yaml"]),
        (Template.script, ["f/a/b.py", "f/a/b.script.yaml"]),
        (Template.workflow_with_modules, ["f/a/b.py", "f/a/b.script.yaml", "f/a/b__mod/helpers.py"]),
    ],
)
def test_bootstrap_plans_the_script_its_metadata_and_modules(template, rels):
    files = plan_bootstrap("f/a/b", template)
    assert [f.rel for f in files] == rels
    # the metadata `wmill script new` writes: no lock, an empty schema (generate-metadata fills it)
    assert files[1].text == (
        "summary: ''\ndescription: ''\nlock: ''\nkind: script\nschema:\n"
        "  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n"
        "  properties: {}\n  required: []\n"
    )


@pytest.mark.parametrize(
    ("cwd", "typed", "remote"),
    [
        ("", "f/demo/my_flow", "f/demo/my_flow"),
        ("", "f/demo/my_flow.py", "f/demo/my_flow"),
        ("", "u/ada/deep/er/x-1", "u/ada/deep/er/x-1"),
        ("", "./g/ops/x", "g/ops/x"),
        ("f/demo", "my_flow", "f/demo/my_flow"),  # relative to the current folder
        ("f/demo", "f/other/x", "f/other/x"),  # a Windmill path is relative to the repo root
        ("f/demo", "../other/x.py", "f/other/x"),
    ],
)
def test_remote_path_of_accepts(tmp_path, monkeypatch, cwd, typed, remote):
    (tmp_path / cwd).mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(tmp_path / cwd)
    assert remote_path_of(tmp_path, typed) == remote


@pytest.mark.parametrize(
    ("typed", "error", "says"),
    [
        ("f/../../x/y", PathEscapeError, "outside the repo"),
        ("../f/a/b", PathEscapeError, "outside the repo"),
        ("/etc/f/a/b", PathEscapeError, "outside the repo"),
        ("x/demo/y", PathError, "not a script path"),
        ("f/only", PathError, "not a script path"),
        ("f/../x/y", PathError, "not a script path"),
        ("", PathError, "empty"),
        ("f/demo/my flow", PathError, "not a valid"),
        ("f/demo/x__mod", PathError, "not a valid"),
        ("f/demo/.hidden", PathError, "not a valid"),
        ("f/demo/.py", PathError, "not a valid"),
        ("f/my.folder/x", PathError, "not a valid"),
        ("f/demo/x.ts", UsageError, "only Python"),
    ],
)
def test_remote_path_of_refuses(tmp_path, monkeypatch, typed, error, says):
    root = tmp_path / "repo"
    root.mkdir()
    monkeypatch.chdir(root)
    with pytest.raises(error) as info:
        remote_path_of(root, typed)
    assert says in info.value.message


def test_remote_path_of_refuses_a_folder_symlinked_out_of_the_repo(tmp_path, monkeypatch):
    root = tmp_path / "repo"
    (root / "f").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "f" / "linked").symlink_to(tmp_path / "elsewhere")
    monkeypatch.chdir(root)
    with pytest.raises(PathEscapeError):
        remote_path_of(root, "f/linked/x")


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (None, b".wac/\n"),
        (b"", b".wac/\n"),
        (b"node_modules/\n", b"node_modules/\n.wac/\n"),
        (b"node_modules/", b"node_modules/\n.wac/\n"),
        (b"a\r\nb\r\n", b"a\r\nb\r\n.wac/\r\n"),
        (b"x\n/.wac\n", b"x\n/.wac\n"),
        (b"  .wac/  \n", b"  .wac/  \n"),
        (b"# .wac/\n", b"# .wac/\n.wac/\n"),
    ],
)
def test_gitignore_gets_the_store_line_once(tmp_path, before, after):
    path = tmp_path / ".gitignore"
    if before is not None:
        path.write_bytes(before)
    _ensure_gitignore(path)
    assert path.read_bytes() == after
    _ensure_gitignore(path)
    assert path.read_bytes() == after


def test_gitignore_behind_a_symlink_is_appended_to_and_stays_a_symlink(tmp_path):
    real = tmp_path / "shared-ignore"
    real.write_text("*.pyc\n")
    link = tmp_path / ".gitignore"
    link.symlink_to(real)
    assert _ensure_gitignore(link)[0] == "updated"
    assert link.is_symlink() and real.read_text() == "*.pyc\n.wac/\n"
