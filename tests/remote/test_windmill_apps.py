"""Apps with a Windmill workspace, checked against what the real ``wmill`` 1.819.0 wrote and sent for
the same workspace (``tests/data/windmill-api/recorded-apps``, recorded against this fake by
``recorded-items/record/apps.py``): the files a pull writes (both layouts), the bodies and generated
policies a push sends, an update, a delete, ``skipApps``, and a malformed app refused with nothing
written."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.items import NewItem
from wac.engine.remote.appfiles import app_body, app_files, app_policy
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import MetadataError, WorkspaceError
from wac.project.config import load_config
from wac.sync.items import plan_item_push, read_items
from wac.sync.kinds import local_items

RECORDED = Path(__file__).resolve().parent.parent / "data" / "windmill-api" / "recorded-apps"


def load_workspace(wm: FakeWindmill) -> None:
    wm.apps.update(copy.deepcopy(json.loads((RECORDED / "workspace.json").read_text())["apps"]))


def repo_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "f").rglob("*")) if p.is_file()}


def pulled(backend: WindmillBackend, root: Path) -> dict[str, bytes]:
    backend.configure_items(load_config(root))
    return {rel: text.encode() for r in backend.list_items() for rel, text in r.item.files.items()}


def local(root: Path) -> list[NewItem]:
    found, _ = local_items(root, load_config(root))
    return read_items(root, found)


def app_requests(wm: FakeWindmill) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.json() if r.body else None) for r in wm.requests if r.op and "App" in r.op]


def recorded_pushes() -> list[list[tuple[str, str, Any]]]:
    """The app requests of each ``wmill sync push`` of the recording (a push starts at its tarball)."""
    pushes: list[list[tuple[str, str, Any]]] = []
    for line in (RECORDED / "push.jsonl").read_text().splitlines():
        r = json.loads(line)
        if r["path"].endswith("/workspaces/tarball"):
            pushes.append([])
        elif "/apps/" in r["path"]:
            pushes[-1].append((r["method"], r["path"], r.get("body_json")))
    return pushes


def writes(requests: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    return [r for r in requests if r[0] != "GET"]


@pytest.mark.parametrize("layout", ["dotted", "nondotted"])
def test_a_pull_writes_byte_for_byte_the_app_files_the_real_wmill_wrote(layout: str, wm: FakeWindmill,
                                                                         backend: WindmillBackend) -> None:
    load_workspace(wm)
    root = RECORDED / f"pull-{layout}"

    got = pulled(backend, root)

    assert got == repo_files(root)
    assert any(rel.endswith(".lock") for rel in got) and any(rel.endswith("/app.yaml") for rel in got)


def test_a_push_sends_the_bodies_and_generated_policies_the_real_wmill_sent(wm: FakeWindmill,
                                                                            backend: WindmillBackend) -> None:
    root = RECORDED / "pull-dotted"
    backend.configure_items(load_config(root))
    first = recorded_pushes()[0]

    for item in local(root):
        backend.deploy_item(item)

    mine = app_requests(wm)
    assert writes(mine) == writes(first)
    for (_, _, body), (_, _, theirs) in zip(writes(mine), writes(first), strict=True):
        assert list(body) == list(theirs) and list(body["policy"]) == list(theirs["policy"])
    assert [r[:2] for r in mine if r[0] == "GET"] == [r[:2] for r in first if r[0] == "GET"]
    assert wm.apps["f/demo/public"]["policy"]["execution_mode"] == "anonymous"


def test_a_second_push_updates_and_a_third_deletes_as_the_real_wmill_did(wm: FakeWindmill, backend: WindmillBackend,
                                                                         tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)
    backend.configure_items(load_config(root))
    for item in local(root):
        backend.deploy_item(item)
    app = root / "f/demo/dash.app"
    (app / "greet_user.inline_script.py").write_text("def main(x: int, choice: str, db: dict):\n    return x + 1\n")
    (app / "app.yaml").write_text((app / "app.yaml").read_text().replace("Demo dashboard", "Demo board"))
    _first, second, third = recorded_pushes()

    def push() -> list[tuple[str, str]]:
        backend.configure_items(load_config(root), root)
        plan = plan_item_push(local(root), backend.list_items(), load_config(root))
        wm.requests.clear()
        for change in plan.items:
            if change.item is None:
                backend.archive_item(change.kind, change.path)
            else:
                backend.deploy_item(change.item)
        return [(c.action, c.path) for c in plan.items]

    assert push() == [("change", "f/demo/dash")]
    assert writes(app_requests(wm)) == writes(second)
    shutil.rmtree(root / "f/demo/public.app")
    # like wmill, wac sees the untouched dash changed too: the server now types its path runnables "path"
    assert push() == [("change", "f/demo/dash"), ("delete", "f/demo/public")]
    assert sorted(writes(app_requests(wm))) == sorted(writes(third))
    assert sorted(wm.apps) == ["f/demo/dash"] and wm.apps["f/demo/dash"]["summary"] == "Demo board"


def test_with_sync_behavior_v1_an_admin_keeps_the_deployed_owner_as_the_real_wmill_did(
        wm: FakeWindmill, backend: WindmillBackend, tmp_path: Path) -> None:
    load_workspace(wm)
    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)
    (root / "wmill.yaml").write_text((root / "wmill.yaml").read_text() + "syncBehavior: v1\n")
    app = root / "f/demo/dash.app/app.yaml"
    app.write_text(app.read_text().replace("Demo dashboard", "Demo board"))
    recorded = [(json.loads(line)["method"], json.loads(line)["path"], json.loads(line).get("body_json"))
                for line in (RECORDED / "push-v1.jsonl").read_text().splitlines() if "/apps/" in line]
    backend.configure_items(load_config(root), root)

    for item in plan_item_push(local(root), backend.list_items(), load_config(root)).items:
        assert item.item is not None
        backend.deploy_item(item.item)

    mine = writes(app_requests(wm))
    assert mine == writes(recorded)
    assert list(mine[0][2]) == list(writes(recorded)[0][2]) and mine[0][2]["preserve_on_behalf_of"] is True
    assert list(mine[0][2]["policy"]) == list(writes(recorded)[0][2]["policy"])
    assert wm.apps["f/demo/dash"]["policy"]["on_behalf_of"] == "u/admin"


def test_with_sync_behavior_v1_a_non_admin_sends_no_owner(wm: FakeWindmill, backend: WindmillBackend,
                                                           tmp_path: Path) -> None:
    load_workspace(wm)
    wm.is_admin = False
    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)
    (root / "wmill.yaml").write_text((root / "wmill.yaml").read_text() + "syncBehavior: v1\n")
    backend.configure_items(load_config(root), root)

    backend.deploy_item(next(i for i in local(root) if i.path == "f/demo/dash"))

    (_, _, body), = writes(app_requests(wm))
    assert "preserve_on_behalf_of" not in body and "on_behalf_of" not in body["policy"]
    assert body["policy"]["execution_mode"] == "publisher"


@pytest.mark.slow
def test_a_cli_pull_of_a_malformed_app_writes_nothing_and_names_it(wm: FakeWindmill, tmp_path: Path) -> None:
    from tests.clirun import wac

    load_workspace(wm)
    wm.apps["f/demo/broken"] = {"summary": "no value", "policy": {}}
    env = {"WAC_CONFIG_DIR": str(tmp_path / "cfg")}
    root = tmp_path / "b"
    root.mkdir()
    shutil.copy(RECORDED / "pull-dotted" / "wmill.yaml", root / "wmill.yaml")
    wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", wm.workspace, "--switch",
        cwd=root, env=env)

    failed = wac("sync", "pull", "--yes", cwd=root, env=env, code=5)

    assert "\nerror: the workspace's app f/demo/broken.app has no 'value' mapping\n" in failed.stderr
    assert "hint: nothing was written; fix or archive the app in the workspace" in failed.stderr
    assert not (root / "f").exists() and "Traceback" not in failed.stderr
    del wm.apps["f/demo/broken"]
    wac("sync", "pull", "--yes", cwd=root, env=env)
    assert repo_files(root) == repo_files(RECORDED / "pull-dotted")


def test_skip_apps_leaves_apps_out_of_the_listing(wm: FakeWindmill, backend: WindmillBackend, tmp_path: Path) -> None:
    load_workspace(wm)
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nskipApps: true\nskipFolders: true\n")

    assert pulled(backend, tmp_path) == {}
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nskipFolders: true\n")
    assert "f/demo/public.app/app.yaml" in pulled(backend, tmp_path)


@pytest.mark.parametrize("doc, why", [
    ({"summary": "x"}, "has no 'value' mapping"),
    ({"summary": "x", "value": {"hiddenInlineScripts": [{"inlineScript": {"content": "!inline a.py",
                                                                          "language": "python3"}}]}}, "instead of code"),
    ({"summary": "x", "value": {"grid": [{"id": "a", "data": {"componentInput": {"runnable": {
        "name": "n", "inlineScript": {"content": 3, "language": "python3"}}}}}]}}, "has no code"),
])
def test_a_malformed_app_from_the_server_is_refused_before_anything_is_written(
        doc: dict[str, Any], why: str, wm: FakeWindmill, backend: WindmillBackend) -> None:
    load_workspace(wm)
    wm.apps["f/demo/bad"] = doc

    with pytest.raises(WorkspaceError, match=why) as caught:
        backend.list_items()

    assert "f/demo/bad.app" in caught.value.message


def test_an_app_whose_inline_file_is_missing_or_whose_yaml_is_not_an_app_is_not_pushed(
        wm: FakeWindmill, backend: WindmillBackend) -> None:
    files = {rel: data.decode() for rel, data in repo_files(RECORDED / "pull-dotted").items()}
    del files["f/demo/dash.app/row_action.inline_script.ts"]

    with pytest.raises(MetadataError, match="missing inline script file.*row_action.inline_script.ts"):
        backend.deploy_item(NewItem("app", "f/demo/dash", {k: v for k, v in files.items() if "dash.app" in k}))
    with pytest.raises(MetadataError, match="app.yaml: it has no 'value' mapping"):
        app_body("f/x/y.app", {"f/x/y.app/app.yaml": "summary: x\n"})
    assert wm.apps == {} and writes(app_requests(wm)) == []


def test_the_policy_keeps_a_viewer_mode_and_the_deployed_owner_only_when_claimed() -> None:
    value = {"grid": [{"id": "a", "data": {"type": "formcomponent", "componentInput": {"type": "runnable", "fields": {}, "runnable": {
        "type": "inline", "inlineScript": {"content": "x", "schema": {"properties": {"f": {"type": "object",
                                                                                          "format": "resource-s3_object"}}}}}}}},
                      {"id": "p", "data": {"type": "pdfcomponent", "configuration": {"source": {
                          "type": "uploadS3", "value": {"s3": "a/b.pdf", "storage": "second"}}}}}]}
    deployed = {"execution_mode": "viewer", "on_behalf_of": "u/x", "on_behalf_of_email": "x@y", "triggerables": {}}

    from wac.engine.remote.appfiles import base_policy, execution_mode
    policy = app_policy(value, base_policy({}, deployed, False), execution_mode({}, deployed))

    assert policy["execution_mode"] == "viewer" and "on_behalf_of" not in policy and "triggerables" not in policy
    assert policy["allowed_s3_keys"] == [{"s3_path": "a/b.pdf", "storage": "second"}]
    assert policy["s3_inputs"] == [{"allow_workspace_resource": True, "allowed_resources": [],
                                    "allow_user_resources": False, "file_key_regex": ""}]
    assert list(policy["triggerables_v2"]) == ["a:rawscript/2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"]
    assert base_policy({}, deployed, True)["on_behalf_of"] == "u/x"
    assert app_files("f/x.app", {"value": {}, "policy": {"execution_mode": "guest"}})["f/x.app/app.yaml"] == \
        "value: {}\nguests: true\n"


def test_menu_items_and_grid_actions_get_policy_entries_and_a_database_explorer_is_refused() -> None:
    def runnable(path: str) -> dict[str, Any]:
        return {"type": "runnable", "fields": {}, "runnable": {"type": "path", "runType": "hubscript", "path": path}}

    value = {"grid": [{"id": "m", "data": {"type": "menucomponent", "menuItems": [{"id": "m_0", "componentInput": runnable("hub/1/x")}]}},
                      {"id": "g", "data": {"type": "aggridcomponent", "actions": [{"id": "g_0", "componentInput": runnable("f/a/y")}]}}]}

    policy = app_policy(value, None, "publisher")

    assert list(policy["triggerables_v2"]) == ["m_0:script/hub/1/x", "g_0:script/f/a/y"]
    explorer = {"grid": [{"id": "x", "data": {"type": "dbexplorercomponent", "configuration": {}}}]}
    with pytest.raises(MetadataError, match="component x is a database explorer"):
        app_policy(explorer, None, "publisher")
