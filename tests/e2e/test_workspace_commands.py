"""``wac workspace …`` through the real CLI: the config file, tokens, the current workspace."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow  # end to end: real wac processes, seconds each

Write = Callable[[str, str], Path]


def _config() -> Path:
    return Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json"


def test_with_nothing_configured_the_current_workspace_is_the_repos_embedded_store(repo: Path) -> None:
    listed = wac("workspace", "list", "--json", cwd=repo).json()
    assert listed == [{"name": "local", "url": "", "kind": "embedded", "workspace_id": None,
                       "has_token": False, "current": True}]
    assert not _config().exists()
    assert wac("script", "list", cwd=repo).stderr.startswith("no scripts deployed in workspace 'local'")


def test_add_switch_list_remove_and_the_token_never_shows(repo: Path) -> None:
    secret = "tok-very-secret-123"
    added = wac("workspace", "add", "prod", "https://windmill.example.com/", "--token", secret,
                "--workspace-id", "acme", cwd=repo)
    assert secret not in added.stdout + added.stderr
    assert stat.S_IMODE(_config().stat().st_mode) == 0o600
    assert json.loads(_config().read_text())["workspaces"]["prod"] == {
        "url": "https://windmill.example.com/", "token": secret, "workspace_id": "acme"}
    wac("workspace", "switch", "prod", cwd=repo)
    shown = wac("workspace", "list", cwd=repo)
    assert secret not in shown.stdout + shown.stderr
    assert shown.stdout.splitlines() == [
        "  local  embedded  sqlite (.wac/wac.db of the repo)",
        "* prod   windmill  https://windmill.example.com/  token: set",
    ]
    as_json = wac("workspace", "list", "--json", cwd=repo)
    assert secret not in as_json.stdout and [w["current"] for w in as_json.json()] == [False, True]
    overridden = wac("workspace", "list", "--json", cwd=repo, env={"WAC_WORKSPACE": "local"}).json()
    assert [w["current"] for w in overridden] == [True, False]
    wac("workspace", "remove", "prod", cwd=repo)
    assert [w["name"] for w in wac("workspace", "list", "--json", cwd=repo).json()] == ["local"]
    assert stat.S_IMODE(_config().stat().st_mode) == 0o600


def test_an_unknown_workspace_name_exits_5_with_the_known_ones(repo: Path) -> None:
    res = wac("script", "list", cwd=repo, env={"WAC_WORKSPACE": "nope"}, code=5)
    assert "error: unknown workspace 'nope' (from WAC_WORKSPACE); known: local" in res.stderr
    assert "hint: add it with: wac workspace add" in res.stderr
    assert wac("workspace", "switch", "nope", cwd=repo, code=5).stderr.startswith("error: unknown workspace")
    assert wac("workspace", "remove", "local", cwd=repo, code=2).stderr.startswith("error:")
    assert wac("workspace", "add", "x", "ftp://host", cwd=repo, code=2).stderr.startswith("error: unsupported")


def test_a_corrupt_config_is_named_and_left_alone(repo: Path) -> None:
    _config().parent.mkdir(parents=True, exist_ok=True)
    _config().write_text("{not json")
    res = wac("workspace", "list", cwd=repo, code=1)
    assert str(_config()) in res.stderr and "Traceback" not in res.stderr
    assert _config().read_text() == "{not json"


def test_two_repos_share_a_sqlite_workspace(tmp_path: Path, repo: Path, write: Write) -> None:
    shared = tmp_path / "shared" / "wac.db"
    wac("workspace", "add", "team", f"sqlite://{shared}", "--switch", "--create", cwd=repo)
    write("f/demo/greet.py", 'def main(name: str = "x"):\n    return "hi " + name\n')
    wac("script", "push", "f/demo/greet.py", cwd=repo)
    other = tmp_path / "other"
    other.mkdir()
    (other / "wmill.yaml").write_text("{}\n")
    assert wac("script", "run", "f/demo/greet", "-d", '{"name": "bo"}', cwd=other).json() == "hi bo"
    assert not (other / ".wac" / "wac.db").exists()
    assert [s["path"] for s in wac("script", "list", "--json", cwd=other).json()] == ["f/demo/greet"]
    assert wac("script", "list", "--json", cwd=other, env={"WAC_WORKSPACE": "local"}).json() == []
    assert sorted(p.name for p in shared.parent.iterdir() if not p.name.startswith("wac.db")) == []


def test_a_shared_store_whose_folder_is_gone_exits_5_and_creates_nothing(tmp_path: Path, repo: Path) -> None:
    folder = tmp_path / "mounted"
    wac("workspace", "add", "team", f"sqlite://{folder}/wac.db", "--create", cwd=repo)
    folder.rmdir()  # e.g. a share that is not mounted
    res = wac("script", "list", cwd=repo, env={"WAC_WORKSPACE": "team"}, code=5)
    assert f"the folder of its store {folder}/wac.db does not exist" in res.stderr
    assert not folder.exists()
    assert wac("workspace", "add", "rel", "sqlite://relative.db", cwd=repo, code=2).stderr.startswith("error:")


def test_a_password_in_a_workspace_url_is_never_printed(repo: Path) -> None:
    added = wac("workspace", "add", "wm", "https://bob:WMSECRET@wm.example.com", "--token", "TOKSECRET", cwd=repo)
    shown = wac("workspace", "list", cwd=repo)
    as_json = wac("workspace", "list", "--json", cwd=repo)
    everything = added.stdout + added.stderr + shown.stdout + shown.stderr + as_json.stdout
    assert "WMSECRET" not in everything and "TOKSECRET" not in everything
    assert "https://wm.example.com" in shown.stdout
