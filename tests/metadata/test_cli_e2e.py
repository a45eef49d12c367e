"""The real ``wac generate-metadata`` in a subprocess, resolving locks offline with uv."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from tests.clirun import wac
from tests.metadata.wheels import write_wheel

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("wheels")
    write_wheel(folder, "tinyalpha", "1.0.0", ("tinybeta>=1.0",))
    write_wheel(folder, "tinybeta", "1.0.0")
    write_wheel(folder, "tinybeta", "2.0.0")
    write_wheel(folder, "tinygamma", "1.0.0")
    return folder


@pytest.fixture
def offline(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "WAC_FIND_LINKS": str(wheelhouse),
        "WAC_NO_INDEX": "1",
        "UV_CACHE_DIR": str(tmp_path_factory.mktemp("uv-cache")),
        "UV_OFFLINE": "1",
    }


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\n")
    put(tmp_path, "f/demo/wf.py", """
        import tinyalpha

        def main(x: int, name: str = "a"):
            return x
    """)
    put(tmp_path, "f/demo/wf__mod/helper.py", """
        import tinygamma

        def main():
            return 1
    """)
    put(tmp_path, "f/demo/user.py", """
        from f.demo.wf import main as wf

        def main():
            return wf(1)
    """)
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_generate_metadata_resolves_locks_offline_and_is_idempotent(project: Path, offline: dict[str, str]) -> None:
    dry = wac("generate-metadata", "--dry-run", cwd=project, env=offline)
    assert dry.stdout.splitlines() == [
        "Found 2 item(s) with stale metadata:",
        "  Scripts (2):",
        "    ~ f/demo/user.py \u2014 content changed",
        "    ~ f/demo/wf.py \u2014 content changed",
    ]
    assert not (project / "wmill-lock.yaml").exists() and not (project / "f/demo/wf.script.yaml").exists()

    run = wac("generate-metadata", "--yes", cwd=project, env=offline)
    assert "Regenerated 2 scripts, 3 locks in " in run.stderr
    assert (project / "f/demo/wf.script.lock").read_text() == "# py: 3.12\ntinyalpha==1.0.0\ntinybeta==2.0.0\n"
    assert (project / "f/demo/wf__mod/helper.lock").read_text() == "# py: 3.12\ntinygamma==1.0.0\n"
    # an importer's lock carries the requirements of the workspace script it imports
    assert (project / "f/demo/user.script.lock").read_text() == "# py: 3.12\ntinyalpha==1.0.0\ntinybeta==2.0.0\n"
    meta = (project / "f/demo/wf.script.yaml").read_text()
    assert meta.startswith("summary: ''\ndescription: ''\nlock: '!inline f/demo/wf.script.lock'\nkind: script\n")
    assert "required:\n    - x\n" in meta
    lock = (project / "wmill-lock.yaml").read_text()
    assert lock.startswith("version: v2\nlocks:\n  f/demo/user: ")
    assert "f/demo/wf+__script_hash" in lock and "f/demo/wf+helper.py" in lock

    again = wac("generate-metadata", "--check", cwd=project, env=offline)
    assert again.stdout == "All metadata up-to-date\n"


def test_check_fails_and_json_explains_propagation_after_a_module_edit(project: Path, offline: dict[str, str]) -> None:
    wac("generate-metadata", "--yes", cwd=project, env=offline)
    (project / "f/demo/wf__mod/helper.py").write_text("import tinygamma\n\ndef main():\n    return 2\n")
    before = snapshot(project)
    check = wac("generate-metadata", "--check", "--json", cwd=project, env=offline, code=1)
    doc = json.loads(check.stdout)
    assert [(i["path"], i["reason"], i["stale_modules"]) for i in doc["plan"]["stale"]] == [
        ("f/demo/user.py", "depends on f/demo/wf", []),
        ("f/demo/wf.py", "content changed", ["helper.py"]),
    ]
    assert snapshot(project) == before
    only = wac("generate-metadata", "f/demo/wf.py", "--dry-run", "--strict-folder-boundaries", cwd=project, env=offline)
    assert "~ f/demo/wf.py" in only.stdout and "user.py" not in only.stdout
    assert "warning: f/demo/user.py depends on something inside" in only.stderr


def test_a_failing_resolution_names_the_script_shows_uvs_error_and_writes_nothing(project: Path, offline: dict[str, str]) -> None:
    wac("generate-metadata", "--yes", cwd=project, env=offline)
    put(project, "f/demo/broken.py", """
        import tinymissing

        def main():
            return 1
    """)
    before = snapshot(project)
    run = wac("generate-metadata", "--yes", cwd=project, env=offline, code=1)
    assert "f/demo/broken.py: Failed to generate lockfile:" in run.stderr
    assert "tinymissing" in run.stderr
    assert snapshot(project) == before


def test_rehash_records_hashes_without_resolving(project: Path, offline: dict[str, str]) -> None:
    run = wac("generate-metadata", "rehash", cwd=project, env=offline)
    assert "Rehashed 2 script(s), 0 flow(s), 0 app(s) from disk" in run.stderr
    assert (project / "f/demo/wf.script.lock").read_text() == ""
    assert (project / "wmill-lock.yaml").read_text().count("\n") == 5  # version, locks, 3 keys


def test_a_corrupt_lockfile_is_a_one_line_error_and_stays_untouched(project: Path, offline: dict[str, str]) -> None:
    (project / "wmill-lock.yaml").write_text("version: v9\nlocks: {}\n")
    run = wac("generate-metadata", "--yes", cwd=project, env=offline, code=1)
    assert run.stderr.startswith('error: wmill-lock.yaml is at unknown version "v9".')
    assert "hint: " in run.stderr and "Traceback" not in run.stderr
    assert (project / "wmill-lock.yaml").read_text() == "version: v9\nlocks: {}\n"


def test_lock_only_and_schema_only_together_is_a_usage_error(project: Path) -> None:
    run = wac("generate-metadata", "--lock-only", "--schema-only", cwd=project, code=2)
    assert "cannot be combined" in run.stderr


def test_index_options_override_the_environment(project: Path, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    env = {"UV_CACHE_DIR": str(tmp_path_factory.mktemp("uv-cache2")), "UV_OFFLINE": "1",
           "WAC_FIND_LINKS": "", "WAC_NO_INDEX": ""}
    wac("generate-metadata", "--yes", "--no-index", "--find-links", str(wheelhouse), "--python-version", "3.11",
        cwd=project, env=env)
    assert (project / "f/demo/wf.script.lock").read_text().startswith("# py: 3.11\n")


def test_a_utf16_script_is_reported_and_fails_the_run_but_not_the_others(project: Path, offline: dict[str, str]) -> None:
    (project / "f/demo/wide.py").write_bytes("def main():\n    return 1\n".encode("utf-16"))
    run = wac("generate-metadata", "--yes", cwd=project, env=offline, code=1)
    assert "error: skipping f/demo/wide.py: " in run.stderr and "UTF-16" in run.stderr
    assert (project / "f/demo/wf.script.lock").exists()
    assert "; 1 failed" in run.stderr
    wac("generate-metadata", "--check", cwd=project, env=offline, code=1)
    wac("generate-metadata", "--dry-run", cwd=project, env=offline, code=0)
