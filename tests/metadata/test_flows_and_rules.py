"""generate-metadata on flows and apps, and the rules shared with sync (plan -> confirm -> apply).

Byte-equality with the real CLI's rehash is in test_conformance.py (scenarios 39-40); here: real
runs of ``wac`` in subprocesses on repos built in tmp_path, with locks resolved by uv offline.
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from tests.clirun import wac
from tests.metadata.test_cli_e2e import offline, wheelhouse  # noqa: F401  (fixtures)

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent.parent / "data" / "wmill-cli"
FLOWS = DATA / "39-rehash-flows-apps-undotted-v2"


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def flows_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    shutil.copytree(FLOWS / "tree-after-run1", repo)
    return repo


def test_generate_metadata_lists_stale_flows_and_apps_and_writes_wmill_s_lockfile(
    flows_repo: Path, offline: dict[str, str]  # noqa: F811
) -> None:
    put(flows_repo, "f/flows/undotted__flow/step.py", """
        import tinygamma

        def main():
            return "step"
    """)
    put(flows_repo, "f/apps/new__app/extra.py", "def main():\n    return 1\n")
    dry = wac("generate-metadata", "--dry-run", cwd=flows_repo, env=offline)
    assert dry.stdout.splitlines() == [
        "Found 2 item(s) with stale metadata:",
        "  Flows (1):",
        "    ~ f/flows/undotted__flow \u2014 content changed",
        "  Apps (1):",
        "    ~ f/apps/new__app \u2014 content changed",
    ]
    put(flows_repo, "f/flows/undotted__flow/failure.py", "def main(message: str, name: str):\n    return name\n")
    run = wac("generate-metadata", "--yes", cwd=flows_repo, env=offline)
    # a changed Python inline script that names no lock file is said, not locked silently
    assert ("warning: f/flows/undotted__flow/failure.py: no lock file in flow.yaml "
            "(add `lock: '!inline ...lock'` to lock it); not locked") in run.stderr
    # the changed Python inline script's lock (named by flow.yaml) is resolved by uv
    assert (flows_repo / "f/flows/undotted__flow/step.lock").read_text() == "# py: 3.12\ntinygamma==1.0.0\n"
    after_gm = (flows_repo / "wmill-lock.yaml").read_text()
    # the lockfile equals what wmill's rehash records for those files (hashes ignore locks)
    wac("generate-metadata", "rehash", cwd=flows_repo)
    assert (flows_repo / "wmill-lock.yaml").read_text() == after_gm
    assert "All metadata up-to-date" in wac("generate-metadata", "--check", cwd=flows_repo).stdout


def test_skip_options_leave_their_kind_out(flows_repo: Path) -> None:
    put(flows_repo, "f/flows/undotted__flow/step.py", "def main():\n    return 2\n")
    put(flows_repo, "f/s/plain.py", "def main():\n    return 3\n")
    assert "Flows (1)" not in wac("generate-metadata", "--dry-run", "--skip-flows", cwd=flows_repo).stdout
    only_flows = wac("generate-metadata", "--dry-run", "--skip-scripts", "--skip-apps", cwd=flows_repo).stdout
    assert "Flows (1)" in only_flows and "Scripts" not in only_flows
    nothing = wac("generate-metadata", "--skip-scripts", "--skip-flows", "--skip-apps", cwd=flows_repo)
    assert "Nothing to check (all types skipped)" in nothing.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [("value: [unclosed\n", "is not valid YAML"), ("- a list\n", "must be a mapping"),
     ("summary: no value\n", "has no 'value' mapping")],
)
def test_a_malformed_flow_yaml_is_an_error_naming_the_file_and_nothing_is_written(
    flows_repo: Path, text: str, message: str
) -> None:
    (flows_repo / "f/flows/undotted__flow/flow.yaml").write_text(text)
    put(flows_repo, "f/flows/undotted__flow/step.py", "def main():\n    return 2\n")
    before = snapshot(flows_repo)
    res = wac("generate-metadata", "--yes", cwd=flows_repo, code=1)
    assert "f/flows/undotted__flow/flow.yaml" in res.stderr and message in res.stderr
    assert snapshot(flows_repo) == before


def test_a_malformed_app_yaml_is_an_error_naming_the_file(flows_repo: Path) -> None:
    (flows_repo / "f/apps/new__app/app.yaml").write_text("value: {grid: [\n")
    res = wac("generate-metadata", "--check", cwd=flows_repo, code=1)
    assert "f/apps/new__app/app.yaml is not valid YAML" in res.stderr


def test_without_a_terminal_and_without_yes_generate_metadata_shows_the_plan_and_applies_nothing(
    flows_repo: Path,
) -> None:
    put(flows_repo, "f/s/plain.py", "def main():\n    return 3\n")
    before = snapshot(flows_repo)
    res = wac("generate-metadata", cwd=flows_repo, code=2)
    assert "~ f/s/plain.py \u2014 content changed" in res.stdout
    assert "error: not updating without confirmation: stdin is not a terminal" in res.stderr
    assert "hint: pass --yes to update" in res.stderr
    assert snapshot(flows_repo) == before


def test_a_folder_that_matches_nothing_is_a_usage_error(flows_repo: Path) -> None:
    res = wac("generate-metadata", "--yes", "f/doesnotexist", cwd=flows_repo, code=2)
    assert "f/doesnotexist matches no script, flow or app" in res.stderr
    wac("generate-metadata", "--dry-run", "f/flows", cwd=flows_repo)  # an existing folder is fine


def test_a_missing_script_lock_is_stale_and_recreated(tmp_path: Path, offline: dict[str, str]) -> None:  # noqa: F811
    put(tmp_path, "f/t/ok.py", "import tinygamma\n\ndef main():\n    return 1\n")
    wac("generate-metadata", "--yes", cwd=tmp_path, env=offline)
    lock = tmp_path / "f/t/ok.script.lock"
    assert lock.read_text() == "# py: 3.12\ntinygamma==1.0.0\n"
    lock.unlink()
    check = wac("generate-metadata", "--check", cwd=tmp_path, code=1)
    assert "~ f/t/ok.py \u2014 lock file missing" in check.stdout
    wac("generate-metadata", "--yes", cwd=tmp_path, env=offline)
    assert lock.read_text() == "# py: 3.12\ntinygamma==1.0.0\n"


def test_errors_of_files_outside_the_selection_do_not_fail_it(tmp_path: Path, offline: dict[str, str]) -> None:  # noqa: F811
    put(tmp_path, "f/esc/one.py", "def main():\n    return 1\n")
    put(tmp_path, "f/other/two.py", "def main():\n    return 2\n")
    (tmp_path / "f/other/two__mod").mkdir()
    outside = tmp_path.parent / "elsewhere.py"
    outside.write_text("x = 1\n")
    (tmp_path / "f/other/two__mod/evil.py").symlink_to(outside)
    res = wac("generate-metadata", "--yes", "f/esc/one.py", cwd=tmp_path, env=offline)
    assert "two" not in res.stderr
    assert (tmp_path / "f/esc/one.script.yaml").exists()
    whole = wac("generate-metadata", "--yes", cwd=tmp_path, env=offline, code=1)
    assert "f/other/two.py" in whole.stderr and "outside the repo" in whole.stderr
