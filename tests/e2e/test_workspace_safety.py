"""Workspace URLs, tokens and the repo's pinned workspace (issue 12 items 11 and 14, issue 11 item 15)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow


def _config() -> Path:
    return Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json"


def _saved(name: str) -> dict:
    return json.loads(_config().read_text())["workspaces"][name]


def test_a_sqlite_url_whose_folder_is_missing_is_refused_at_add_unless_create(tmp_path: Path, repo: Path) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    r = wac("workspace", "add", "team", f"sqlite:///{missing}/x.db", cwd=repo, code=2)
    assert r.stderr.startswith(f"error: the folder {missing} of the store does not exist")
    assert "--create" in r.stderr and not missing.exists() and not _config().exists()
    wac("workspace", "add", "team", f"sqlite:///{missing}/x.db", "--create", cwd=repo)
    assert missing.is_dir()
    assert _saved("team")["url"] == f"sqlite://{missing}/x.db"  # four slashes written as three


def test_a_relative_looking_sqlite_url_never_creates_a_folder_at_the_filesystem_root(repo: Path) -> None:
    top = Path("/wac-test-relative-xyz")
    assert not top.exists()
    r = wac("workspace", "add", "rel", f"sqlite://{top}/x.db", cwd=repo, code=2)
    assert "does not exist" in r.stderr and not top.exists()
    r = wac("workspace", "add", "rel", f"sqlite://{top}/x.db", "--create", cwd=repo, code=2)
    assert "refusing to create /wac-test-relative-xyz at the filesystem root" in r.stderr
    assert not top.exists()
    assert wac("workspace", "add", "rel", "sqlite://relative.db", cwd=repo, code=2).stderr.startswith(
        "error: a sqlite workspace URL needs an absolute file path")


def test_a_command_on_a_workspace_whose_folder_went_away_creates_nothing(tmp_path: Path, repo: Path) -> None:
    folder = tmp_path / "gone"
    wac("workspace", "add", "team", f"sqlite://{folder}/wac.db", "--create", cwd=repo)
    folder.rmdir()
    assert wac("script", "list", cwd=repo, env={"WAC_WORKSPACE": "team"}, code=5).stdout == ""
    assert not folder.exists()


def test_a_token_over_plain_http_to_another_host_is_refused_unless_insecure(repo: Path) -> None:
    r = wac("workspace", "add", "x", "http://203.0.113.5", "--token", "TOKSECRET", cwd=repo, code=2)
    assert r.stderr.startswith("error: refusing to send a token over plain http:// to http://203.0.113.5")
    assert "TOKSECRET" not in r.stderr
    assert not _config().exists()
    wac("workspace", "add", "x", "http://203.0.113.5", "--token", "T", "--insecure", cwd=repo)
    assert _saved("x")["token"] == "T"
    wac("workspace", "add", "lo", "http://127.0.0.1:8000", "--token", "T", cwd=repo)  # loopback: fine
    wac("workspace", "add", "lh", "http://localhost:8000", "--token", "T", cwd=repo)
    wac("workspace", "add", "plain", "http://203.0.113.5", cwd=repo)  # no token: nothing to leak


def test_the_token_can_come_from_stdin_or_the_environment(repo: Path) -> None:
    wac("workspace", "add", "a", "https://wm.example.com", "--token-stdin", cwd=repo, input="from-stdin\n")
    assert _saved("a")["token"] == "from-stdin"
    wac("workspace", "add", "b", "https://wm.example.com", cwd=repo, env={"WAC_TOKEN": "from-env"})
    assert _saved("b")["token"] == "from-env"
    assert wac("workspace", "add", "c", "https://wm.example.com", "--token-stdin", cwd=repo, input="",
               code=2).stderr.startswith("error: --token-stdin read no token")


def test_re_adding_a_workspace_without_a_token_keeps_the_saved_one_for_the_same_server(repo: Path) -> None:
    wac("workspace", "add", "prod", "https://wm.example.com", "--token", "T1", cwd=repo)
    r = wac("workspace", "add", "prod", "https://wm.example.com/", "--workspace-id", "acme", cwd=repo)
    assert "kept the token saved before" in r.stderr
    assert _saved("prod") == {"url": "https://wm.example.com/", "token": "T1", "workspace_id": "acme"}
    r = wac("workspace", "add", "prod", "https://other.example.com", cwd=repo)
    assert "the token saved before was dropped" in r.stderr and "token" not in _saved("prod")
    wac("workspace", "add", "prod", "https://other.example.com", "--token", "T2", cwd=repo)
    wac("workspace", "add", "prod", "https://other.example.com", "--clear-token", cwd=repo)
    assert "token" not in _saved("prod")


def test_the_config_folder_is_made_private_even_when_it_already_exists(repo: Path) -> None:
    folder = Path(os.environ["WAC_CONFIG_DIR"])
    folder.chmod(0o755)
    wac("workspace", "add", "prod", "https://wm.example.com", "--token", "T", cwd=repo)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE(_config().stat().st_mode) == 0o600


def test_a_repo_pinned_to_its_workspace_is_not_moved_by_a_switch_made_elsewhere(tmp_path: Path, repo: Path) -> None:
    wac("workspace", "add", "team", f"sqlite://{tmp_path}/team/wac.db", "--create", cwd=repo)
    other = tmp_path / "other"
    other.mkdir()
    (other / "wmill.yaml").write_text("{}\n")
    wac("workspace", "pin", "local", cwd=repo)
    assert (repo / ".wac" / "workspace").read_text() == "local\n"
    wac("workspace", "switch", "team", cwd=other)  # machine-wide, from the other repo
    mine = wac("script", "list", cwd=repo)
    assert mine.stderr.splitlines()[0] == "workspace: local (embedded, sqlite (.wac/wac.db of the repo); pinned by .wac/workspace)"
    assert "no scripts deployed in workspace 'local'" in mine.stderr
    theirs = wac("script", "list", cwd=other)
    assert theirs.stderr.splitlines()[0].startswith("workspace: team (embedded, sqlite://")
    assert theirs.stderr.splitlines()[0].endswith("; machine-wide default)")
    listed = wac("workspace", "list", "--json", cwd=repo).json()
    assert [w["name"] for w in listed if w["current"]] == ["local"]
    wac("workspace", "unpin", cwd=repo)
    assert "workspace: team" in wac("script", "list", cwd=repo).stderr.splitlines()[0]
    assert wac("workspace", "pin", "nope", cwd=repo, code=5).stderr.startswith("error: unknown workspace 'nope'")


def test_job_commands_show_the_workspace_they_act_on_first(repo: Path) -> None:
    wac("workspace", "pin", "local", cwd=repo)
    r = wac("job", "list", cwd=repo)
    assert r.stderr.startswith("workspace: local ")
