"""`wac init` and `wac script bootstrap` through the real CLI: what they write, what they refuse,
and that what they write previews and goes through generate-metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each

RECORDED_WMILL_YAML = Path(__file__).resolve().parent.parent / "init" / "wmill-init-default.yaml"
EXAMPLE = "f/examples/hello_workflow.py"


def tree(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (the embedded store excepted) with its bytes."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".wac" not in p.relative_to(root).parts
    }


def test_init_writes_wmill_yaml_gitignore_and_an_example(tmp_path):
    r = wac("init", "proj", cwd=tmp_path)
    proj = tmp_path / "proj"
    assert set(tree(proj)) == {"wmill.yaml", ".gitignore", EXAMPLE}
    assert (proj / "wmill.yaml").read_bytes() == RECORDED_WMILL_YAML.read_bytes()
    assert (proj / ".gitignore").read_text() == ".wac/\n"
    assert r.stdout == ""
    assert "created wmill.yaml\n" in r.stderr and f"created {EXAMPLE}\n" in r.stderr
    assert f"next: cd proj && wac script preview {EXAMPLE}" in r.stderr


def test_second_init_overwrites_nothing(tmp_path):
    wac("init", cwd=tmp_path)
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\n")  # the user's own edits
    (tmp_path / EXAMPLE).write_text("def main():\n    return 1\n")
    before = tree(tmp_path)
    r = wac("init", cwd=tmp_path)
    assert tree(tmp_path) == before
    assert "kept wmill.yaml (exists)" in r.stderr
    assert f"kept {EXAMPLE} (exists)" in r.stderr
    assert "created" not in r.stderr


def test_init_appends_the_store_to_an_existing_gitignore_once(tmp_path):
    (tmp_path / ".gitignore").write_text("__pycache__/\n*.pyc")
    r = wac("init", cwd=tmp_path)
    assert "added .wac/ to .gitignore" in r.stderr
    wac("init", cwd=tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "__pycache__/\n*.pyc\n.wac/\n"


def test_init_refuses_a_file_as_its_folder(tmp_path):
    (tmp_path / "taken").write_text("x")
    r = wac("init", "taken", cwd=tmp_path, code=2)
    assert r.stderr == "error: taken is not a folder\n"


def test_init_example_previews_with_its_defaults(tmp_path):
    wac("init", cwd=tmp_path)
    out = wac("script", "preview", EXAMPLE, cwd=tmp_path).json()
    assert out["greetings"] == ["Hello, Ada!", "Hello, Grace!", "Hello, Linus!"]
    assert out["letters"] == 28
    assert out["started_at"].endswith("+00:00")


@pytest.mark.parametrize(
    ("template", "data", "expected"),
    [
        ("workflow", '{"order_id": 7}', {"order": {"id": 7, "items": ["book", "pen"], "total": 23.5},
                                         "receipt": "receipt for order 7: 23.50"}),
        ("script", '{"name": "Ada", "excited": true}', "Hello, Ada!"),
        ("workflow-with-modules", '{"texts": ["one two", "three"]}',
         {"stats": [{"words": 2, "letters": 6}, {"words": 1, "letters": 5}], "words": 3}),
    ],
)
def test_each_bootstrapped_template_previews(tmp_path, template, data, expected):
    wac("init", cwd=tmp_path)
    r = wac("script", "bootstrap", "f/demo/new_one", "--template", template, cwd=tmp_path)
    assert "created f/demo/new_one.py\n" in r.stderr
    assert "created f/demo/new_one.script.yaml\n" in r.stderr
    assert "next: wac script preview f/demo/new_one.py" in r.stderr
    assert "wac generate-metadata" in r.stderr
    out = wac("script", "preview", "f/demo/new_one.py", "-d", data, cwd=tmp_path).json()
    if isinstance(out, dict):
        out.pop("received_at", None)
    assert out == expected


def test_workflow_with_modules_is_a_flat_script_with_its_module_folder(tmp_path):
    wac("init", cwd=tmp_path)
    before = set(tree(tmp_path))
    wac("script", "bootstrap", "f/demo/etl.py", "-t", "workflow-with-modules", cwd=tmp_path)
    assert set(tree(tmp_path)) - before == {"f/demo/etl.py", "f/demo/etl.script.yaml", "f/demo/etl__mod/helpers.py"}
    assert 'task_script("./helpers.py")' in (tmp_path / "f/demo/etl.py").read_text()
    assert "def main(" in (tmp_path / "f/demo/etl__mod/helpers.py").read_text()


def test_bootstrap_from_a_subfolder_takes_a_name_relative_to_it(tmp_path):
    wac("init", cwd=tmp_path)
    (tmp_path / "f/demo").mkdir()
    wac("script", "bootstrap", "plain", "-t", "script", cwd=tmp_path / "f/demo")
    assert wac("script", "preview", "f/demo/plain", cwd=tmp_path).json() == "Hello, world."


@pytest.mark.parametrize("existing", ["f/demo/x.py", "f/demo/x.script.yaml", "f/demo/x__mod/helpers.py", "f/demo/x.ts"])
def test_bootstrap_refuses_when_any_file_exists_and_writes_nothing(tmp_path, existing):
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\n")
    (tmp_path / existing).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / existing).write_text("# mine\n")
    before = tree(tmp_path)
    r = wac("script", "bootstrap", "f/demo/x", "-t", "workflow-with-modules", cwd=tmp_path, code=1)
    assert r.stderr.startswith("error: ") and existing.split("/")[2] in r.stderr
    assert "already exist" in r.stderr and "\nhint: " in r.stderr
    assert tree(tmp_path) == before


@pytest.mark.parametrize("path", ["../f/demo/x", "f/../../out/x", "/tmp/f/demo/x", "scripts/demo/x", "f/x"])
def test_bootstrap_refuses_paths_outside_f_u_g_or_the_repo(tmp_path, path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "wmill.yaml").write_text("includes:\n  - f/**\n")
    r = wac("script", "bootstrap", path, cwd=repo, code=2)
    assert r.stderr.startswith("error: ") and "\nhint: " in r.stderr
    assert "Traceback" not in r.stderr
    assert set(tree(tmp_path)) == {"repo/wmill.yaml"}


def test_bootstrap_warns_when_wmill_yaml_would_not_see_the_script(tmp_path):
    wac("init", cwd=tmp_path)  # includes: f/** only
    r = wac("script", "bootstrap", "u/ada/x", cwd=tmp_path)
    assert "warning: u/ada/x.py is not matched by the includes/excludes of wmill.yaml" in r.stderr


def test_generate_metadata_sees_bootstrapped_scripts_without_diagnostics(tmp_path):
    wac("init", cwd=tmp_path)
    for name, template in [("wf", "workflow"), ("plain", "script"), ("mods", "workflow-with-modules")]:
        wac("script", "bootstrap", f"f/demo/{name}", "-t", template, cwd=tmp_path)
    plan = wac("generate-metadata", "--dry-run", cwd=tmp_path).stdout
    for local in ("f/demo/mods.py", "f/demo/plain.py", "f/demo/wf.py", EXAMPLE):
        assert f"~ {local} " in plan
    r = wac("generate-metadata", "--schema-only", "--yes", cwd=tmp_path)
    assert " WAC" not in r.stderr and "warning" not in r.stderr
    assert "Regenerated 4 scripts" in r.stderr
    meta = (tmp_path / "f/demo/wf.script.yaml").read_text()
    assert "  properties:\n    order_id:\n      type: integer\n" in meta
    assert "lock: ''" in meta  # --schema-only leaves the lock alone
    assert "+helpers.py:" in (tmp_path / "wmill-lock.yaml").read_text()
    assert wac("generate-metadata", "--dry-run", "--schema-only", cwd=tmp_path).stdout == "All metadata up-to-date\n"
