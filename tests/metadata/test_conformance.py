"""wac against the recorded runs of the real wmill CLI (tests/data/wmill-cli, see its INDEX.md).

Each scenario's runs are replayed in order on a copy of its input tree, with the harness's edits
between runs applied. After each real run or rehash the whole tree must be byte-identical to
the recording's, except the documented deviations (docs/compat-metadata.md) listed here. Dry runs
must list the same stale items with the same reasons (as sets: wmill's order follows readdir)
and, unlike wmill, write nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.metadata.conftest import (
    apply_harness_edits,
    copy_input,
    run_wmill_command,
    scenario_dir,
    stale_lines,
    tree,
)
from wac.cli.metadata import render_plan
from wac.metadata.generate import GenerateResult

# (scenario, run) -> files allowed to differ from the recording, with the reason.
DEVIATIONS: dict[tuple[str, int], dict[str, str]] = {
    # wac removes the orphan R+... keys of a script that lost its modules (wmill leaves them until rehash)
    ("24", 2): {"wmill-lock.yaml": "orphan module keys cleaned"},
    # the recording's fake backend pinned `import yaml` written AFTER main; Windmill ignores such imports
    ("38", 2): {"f/demo/my_workflow__mod/extract.lock": "imports after main are not requirements"},
}

SCENARIOS = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15",
             "16", "17", "18", "19", "20", "21", "22", "23", "24", "38", "39", "40"]


def _runs(number: str) -> list[tuple[int, str]]:
    d = scenario_dir(number)
    return [(i, (d / f"run{i}.cmd").read_text()) for i in range(1, len(list(d.glob("run*.cmd"))) + 1)]


@pytest.mark.parametrize("number", SCENARIOS)
def test_wac_reproduces_the_recorded_wmill_runs(number: str, tmp_path: Path) -> None:
    d = scenario_dir(number)
    repo = copy_input(number, tmp_path)
    for index, cmd in _runs(number):
        after = d / f"tree-after-run{index}"
        if index > 1:
            apply_harness_edits(repo, after, lock_files_too=True)
        before = tree(repo)
        run = run_wmill_command(repo, cmd)
        recorded = (d / f"run{index}.stdout").read_text()
        if run.plan is not None:
            assert stale_lines(render_plan(run.plan)) == stale_lines(recorded), f"run{index}"
            # every line of wac's listing (header, groups, items) is a line wmill printed
            assert set(render_plan(run.plan).splitlines()) <= set(recorded.splitlines()), f"run{index}"
            warnings = {ln.strip() for ln in recorded.splitlines() if ln.startswith("Warning: ")}
            assert {f"Warning: {w}" for w in run.plan.warnings} == warnings
        if run.kind == "dry":
            assert tree(repo) == before, f"run{index}: a dry run must write nothing"
            continue
        if isinstance(run.result, GenerateResult):
            rc = int((d / f"run{index}.rc").read_text())
            assert bool(run.result.failed) == (rc != 0), run.result.failed
        allowed = DEVIATIONS.get((number, index), {})
        got, want = tree(repo), tree(after)
        differing = {k for k in got.keys() | want.keys() if got.get(k) != want.get(k)}
        assert differing == set(allowed), f"run{index}: {sorted(differing)}"


def test_failed_lock_resolution_names_the_script_and_writes_nothing(tmp_path: Path) -> None:
    repo = copy_input("21", tmp_path)
    run_wmill_command(repo, _runs("21")[0][1])
    apply_harness_edits(repo, scenario_dir("21") / "tree-after-run2")
    before = tree(repo)
    run = run_wmill_command(repo, _runs("21")[1][1])
    assert isinstance(run.result, GenerateResult)
    assert run.result.failed == [("f/demo/new.py", "Failed to generate lockfile: Failed: dependency job failed")]
    assert run.result.updated == [] and tree(repo) == before


def test_orphan_module_keys_are_cleaned_by_a_real_run_not_only_by_rehash(tmp_path: Path) -> None:
    repo = copy_input("24", tmp_path)
    (_, first), (_, second), _ = _runs("24")
    run_wmill_command(repo, first)
    apply_harness_edits(repo, scenario_dir("24") / "tree-after-run2")
    run_wmill_command(repo, second)
    assert (repo / "wmill-lock.yaml").read_bytes() == (scenario_dir("24") / "tree-after-run3" / "wmill-lock.yaml").read_bytes()


def test_only_the_changed_module_is_relocked(tmp_path: Path) -> None:
    from tests.metadata.conftest import FixtureBackendResolver

    repo = copy_input("38", tmp_path)
    (_, first), (_, second) = _runs("38")
    run_wmill_command(repo, first)
    other_lock = (repo / "f/demo/my_workflow__mod/other.lock").stat().st_mtime_ns
    apply_harness_edits(repo, scenario_dir("38") / "tree-after-run2")
    resolver = FixtureBackendResolver()
    run_wmill_command(repo, second, resolver)
    assert len(resolver.calls) == 2  # the main script and extract.py, not other.py
    assert (repo / "f/demo/my_workflow__mod/other.lock").stat().st_mtime_ns == other_lock


def test_lockfile_of_unknown_version_is_refused_untouched_and_legacy_v1_is_kept_nested(tmp_path: Path) -> None:
    from wac.metadata.rehash import rehash
    from wac.project.config import load_config
    from wac.project.lockfile import LockfileError

    d = scenario_dir("34")
    repo = copy_input("34", tmp_path)
    before = tree(repo)
    with pytest.raises(LockfileError, match='unknown version "v9"'):
        rehash(repo, load_config(repo))
    assert tree(repo) == before
    (repo / "wmill-lock.yaml").write_bytes((d / "tree-input" / "wmill-lock.yaml").read_bytes().replace(b"version: v9\n", b""))
    (repo / "wmill-lock.yaml").write_text("locks: {}\n")
    rehash(repo, load_config(repo))
    assert tree(repo) == tree(d / "tree-after-run2")


def test_script_new_metadata_with_empty_lock_rehashes_like_wmill(tmp_path: Path) -> None:
    from wac.metadata.rehash import rehash
    from wac.project.config import load_config

    d = scenario_dir("33")
    repo = tmp_path / "repo"
    import shutil

    shutil.copytree(d / "tree-after-run1", repo)
    rehash(repo, load_config(repo))
    assert tree(repo) == tree(d / "tree-after-run2")


def test_dotted_folders_and_folder_layout_without_metadata_follow_wacs_documented_fix(tmp_path: Path) -> None:
    from wac.metadata.rehash import rehash
    from wac.project.config import load_config

    repo = copy_input("37", tmp_path)
    result = rehash(repo, load_config(repo))
    # wmill: remote path `f/my` and a flat `f/demo/wf.script.yaml`; wac: `f/my.folder/x`, metadata in the folder
    assert sorted(result.created) == ["f/demo/wf__mod/script.yaml", "f/my.folder/x.script.yaml"]
    assert (repo / "f/demo/wf__mod/script.lock").read_text() == ""
    assert "lock: '!inline f/demo/wf__mod/script.lock'" in (repo / "f/demo/wf__mod/script.yaml").read_text()
    lock = (repo / "wmill-lock.yaml").read_text()
    assert "  f/my.folder/x: " in lock and "  f/demo/wf: " in lock
