"""generate-metadata through the Python API: schemas, merges, layouts and bad input."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.metadata.conftest import FixtureBackendResolver, tree
from wac.metadata.generate import GenerateOptions, GenerateResult, generate
from wac.metadata.plan import plan
from wac.project.config import RepoConfig
from wac.project.discovery import PathEscapeError


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def run(root: Path, **options: object) -> GenerateResult:
    opts = GenerateOptions(resolver=FixtureBackendResolver(), **options)  # type: ignore[arg-type]
    return generate(root, plan(root, RepoConfig()), opts)


def test_a_new_script_gets_default_metadata_with_its_schema_and_lock(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", """
        import httpx

        def preprocessor(event: dict):
            return event

        def main(b: int, a: str = "z"):
            return a
    """)
    result = run(tmp_path)
    assert result.updated == ["f/a/x.py"] and result.locks_written == 1
    assert (tmp_path / "f/a/x.script.yaml").read_text() == (
        "summary: ''\ndescription: ''\nlock: '!inline f/a/x.script.lock'\nhas_preprocessor: true\n"
        "kind: script\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n  type: object\n"
        "  properties:\n    a:\n      type: string\n      description: ''\n      default: z\n"
        "      originalType: string\n    b:\n      type: integer\n      description: ''\n      default: null\n"
        "  required:\n    - b\n"
    )
    assert (tmp_path / "f/a/x.script.lock").read_text() == "# py: 3.12\nhttpx==1.0.0\n"
    assert plan(tmp_path, RepoConfig()).items == []


def test_a_folder_layout_script_keeps_its_metadata_inside_the_folder(tmp_path: Path) -> None:
    put(tmp_path, "f/a/wf__mod/script.py", "def main(x: int):\n    return x\n")
    put(tmp_path, "f/a/wf__mod/helper.py", "import requests\n")
    result = run(tmp_path)
    assert result.failed == []
    assert "lock: '!inline f/a/wf__mod/script.lock'" in (tmp_path / "f/a/wf__mod/script.yaml").read_text()
    assert (tmp_path / "f/a/wf__mod/helper.lock").read_text() == "# py: 3.12\nrequests==1.0.0\n"
    assert not (tmp_path / "f/a/wf.script.yaml").exists()


def test_user_edits_survive_regeneration_and_removed_parameters_disappear(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "def main(keep: int, gone: str = 'x'):\n    return keep\n")
    run(tmp_path)
    meta = tmp_path / "f/a/x.script.yaml"
    meta.write_text(meta.read_text().replace("summary: ''", "summary: Mine").replace(
        "kind: script", "kind: script\ntag: gpu\nauto_kind: x"))
    put(tmp_path, "f/a/x.py", "def main(keep: int, added: bool = True):\n    return keep\n")
    run(tmp_path, schema_only=True)
    text = meta.read_text()
    assert "summary: Mine" in text and "tag: gpu" in text and "auto_kind" not in text
    assert "gone" not in text and "added:\n      type: boolean" in text


def test_a_syntax_error_keeps_the_previous_schema_and_fails_the_item(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "def main(a: int):\n    return a\n")
    run(tmp_path)
    before = tree(tmp_path)
    put(tmp_path, "f/a/x.py", "def main(a: int:\n    return a\n")
    result = run(tmp_path)
    assert [p for p, _ in result.failed] == ["f/a/x.py"]
    assert "f/a/x.py:1:" in result.failed[0][1]
    assert any("f/a/x.py:1:" in d for d in result.diagnostics)
    after = tree(tmp_path)
    assert after["f/a/x.script.yaml"] == before["f/a/x.script.yaml"]
    assert after["wmill-lock.yaml"] == before["wmill-lock.yaml"]
    assert [i.local_path for i in plan(tmp_path, RepoConfig()).items] == ["f/a/x.py"]


def test_an_unparsable_script_yaml_fails_that_script_naming_the_file(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "def main():\n    return 1\n")
    put(tmp_path, "f/a/ok.py", "def main():\n    return 1\n")
    put(tmp_path, "f/a/x.script.yaml", "summary: [unclosed\n")
    result = run(tmp_path)
    assert result.updated == ["f/a/ok.py"]
    ((path, message),) = result.failed
    assert path == "f/a/x.py" and "f/a/x.script.yaml" in message
    assert (tmp_path / "f/a/x.script.yaml").read_text() == "summary: [unclosed\n"


def test_a_utf16_script_is_skipped_with_a_clear_reason(tmp_path: Path) -> None:
    (tmp_path / "f/a").mkdir(parents=True)
    (tmp_path / "f/a/x.py").write_bytes("def main():\n    return 1\n".encode("utf-16"))
    the_plan = plan(tmp_path, RepoConfig())
    assert the_plan.items == []
    assert the_plan.skipped == [("f/a/x.py", f"{tmp_path / 'f/a/x.py'} is UTF-16 encoded")]


def test_an_inline_lock_path_escaping_the_repo_is_refused(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "import httpx\ndef main():\n    return 1\n")
    put(tmp_path, "f/a/x.script.yaml", "summary: ''\nlock: '!inline ../../outside.lock'\n")
    result = run(tmp_path)
    assert result.failed and "outside the repo" in result.failed[0][1]
    assert not (tmp_path.parent.parent / "outside.lock").exists()
    with pytest.raises(PathEscapeError):
        from wac.project.scriptmeta import inline_lock_path

        inline_lock_path(tmp_path, "!inline /etc/passwd")


def test_json_metadata_is_rewritten_as_json(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "def main(n: int):\n    return n\n")
    put(tmp_path, "f/a/x.script.json", json.dumps({"summary": "s", "lock": "", "kind": "script"}))
    assert run(tmp_path).failed == []
    data = json.loads((tmp_path / "f/a/x.script.json").read_text())
    assert data["summary"] == "s" and data["schema"]["required"] == ["n"]
    assert data["lock"] == "!inline f/a/x.script.lock"
    assert not (tmp_path / "f/a/x.script.yaml").exists()


def test_an_empty_lock_deletes_the_lock_file_and_writes_an_empty_lock_value(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "def main():\n    return 1\n")
    put(tmp_path, "f/a/x.script.lock", "old\n")
    opts = GenerateOptions(resolver=FixtureBackendResolver(empty=True))
    generate(tmp_path, plan(tmp_path, RepoConfig()), opts)
    assert not (tmp_path / "f/a/x.script.lock").exists()
    assert "lock: ''" in (tmp_path / "f/a/x.script.yaml").read_text()


def test_non_python_scripts_get_their_hash_recorded_without_inference(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.sh", "echo hi\n")
    result = run(tmp_path)
    assert result.updated == ["f/a/x.sh"] and "Python only" in result.warnings[0]
    assert plan(tmp_path, RepoConfig()).items == []


def test_a_changed_dependency_file_restales_its_users_and_is_recorded(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "def main():\n    return 1\n")
    put(tmp_path, "f/a/manual.py", "# requirements:\n# httpx\n\ndef main():\n    return 1\n")
    put(tmp_path, "dependencies/requirements.in", "requests==2.0\n")
    run(tmp_path)
    assert plan(tmp_path, RepoConfig()).items == []
    put(tmp_path, "dependencies/requirements.in", "requests==2.1\n")
    the_plan = plan(tmp_path, RepoConfig())
    assert [(i.kind, i.local_path, i.reason) for i in the_plan.items] == [
        ("dependency", "dependencies/requirements.in", "content changed"),
        ("script", "f/a/x.py", "depends on dependencies/requirements.in"),
    ]
    resolver = FixtureBackendResolver()
    generate(tmp_path, the_plan, GenerateOptions(resolver=resolver))
    assert resolver.calls == [["requests==2.1"]]
    assert plan(tmp_path, RepoConfig()).items == []


def test_lock_only_keeps_the_schema_and_records_the_hash(tmp_path: Path) -> None:
    put(tmp_path, "f/a/x.py", "import httpx\ndef main(a: int):\n    return a\n")
    run(tmp_path)
    put(tmp_path, "f/a/x.py", "import httpx\ndef main(a: int, b: int = 2):\n    return a\n")
    run(tmp_path, lock_only=True)
    assert "b:" not in (tmp_path / "f/a/x.script.yaml").read_text()
    assert plan(tmp_path, RepoConfig()).items == []
