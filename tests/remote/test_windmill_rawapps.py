"""Raw apps, ``extra_perms`` and ``deployment_message`` with a Windmill workspace, checked against what the
real ``wmill`` 1.819.0 wrote and sent for the same workspace (``tests/data/windmill-api/recorded-rawapps``,
recorded against this fake by ``recorded-items/record/rawapps.py``): the files a pull writes (both
layouts), the multipart ``apps/create_raw`` / ``update_raw`` bodies with the esbuild bundle, the ACL
calls, a delete; and a raw app refused, with nothing sent, when it cannot be bundled."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.remote.fakewindmill import FakeWindmill, form_fields
from wac.engine.items import NewItem
from wac.engine.remote.rawappfiles import (
    deploys,
    raw_app_body,
    raw_app_files,
    raw_app_policy,
)
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import MetadataError, WorkspaceError
from wac.project.config import load_config
from wac.sync.items_apply import apply_item_push, prepare_push
from wac.sync.kinds import local_items

RECORDED = Path(__file__).resolve().parent.parent / "data" / "windmill-api" / "recorded-rawapps"
_NOT_ITEMS = ("list_ws_specific", "file_resource_type_to_file_ext_map", "tarball", "version", "queue/list",
              "completed/list")


def load_workspace(wm: FakeWindmill) -> None:
    doc = json.loads((RECORDED / "workspace.json").read_text())
    wm.apps.update(copy.deepcopy(doc["apps"]))
    wm.apps["f/demo/board"]["raw_app"] = True
    wm.flows.update(copy.deepcopy(doc["flows"]))
    wm.acls.update({(kind, path): dict(perms) for kind, path, perms in doc["acls"]})


def repo_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "f").rglob("*")) if p.is_file()}


def writes(requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The item requests but the reads, grouped by route (each route's own order kept)."""
    out = [r for r in requests if r["method"] != "GET" and not r["path"].endswith(_NOT_ITEMS)]
    return sorted(out, key=lambda r: r["path"])


def recorded_requests() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (RECORDED / "push.jsonl").read_text().splitlines()]


def sent(wm: FakeWindmill) -> list[dict[str, Any]]:
    out = []
    for r in wm.requests:
        doc: dict[str, Any] = {"method": r.method, "path": r.path, "query": {k: v[-1] for k, v in r.query.items()},
                               "status": r.status}
        ctype = r.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            form = form_fields(ctype, r.body)
            doc["form"] = {k: (json.loads(v) if k == "app" else f"<{len(v)} chars>") for k, v in form.items()}
            doc["bundle"] = form
        elif r.body:
            doc["body_json"] = json.loads(r.body)
        out.append(doc)
    return out


@pytest.mark.parametrize("layout", ["dotted", "nondotted"])
def test_a_pull_writes_the_raw_app_flow_and_app_wmill_wrote_byte_for_byte(layout: str, wm: FakeWindmill,
                                                                          tmp_path: Path) -> None:
    load_workspace(wm)
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(RECORDED / f"pull-{layout}" / "wmill.yaml", root / "wmill.yaml")
    backend = WindmillBackend("prod", wm.url + "/", wm.workspace, wm.token)
    try:
        backend.configure_items(load_config(root))
        files = {rel: text.encode() for r in backend.list_items() for rel, text in r.item.files.items()}
    finally:
        backend.close()

    assert files == repo_files(RECORDED / f"pull-{layout}")
    exports = [r for r in wm.requests if r.path.endswith("/workspaces/tarball")]
    assert exports and all(r.query.get("preserve_extra_perms") == ["true"] for r in exports)


def _push(root: Path, wm: FakeWindmill, message: str | None = None) -> None:
    backend = WindmillBackend("prod", wm.url + "/", wm.workspace, wm.token)
    try:
        items = prepare_push(root, load_config(root), backend)
        apply_item_push(backend, items.plan, message)
    finally:
        backend.close()


@pytest.mark.slow
def test_three_pushes_send_the_requests_wmill_sent_with_its_bundle(wm: FakeWindmill, tmp_path: Path, esbuild: str,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WAC_ESBUILD", esbuild)
    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)
    app = root / "f/demo/board.raw_app"
    (app / "node_modules").mkdir()  # wmill (and wac) run `npm install` in a raw app without one

    _push(root, wm, "first deploy")
    first = sent(wm)
    (app / "backend/load_rows.py").write_text("def main(n: int = 3):\n    return list(range(n + 1))\n")
    (app / "raw_app.yaml").write_text((app / "raw_app.yaml").read_text().replace("Ops board", "Ops board 2"))
    (app / "index.css").write_text("body {\n  margin: 1px;\n}\n")
    flow = root / "f/demo/etl.flow/flow.yaml"
    flow.write_text(flow.read_text().replace("  u/bob: true\n", "  u/carl: true\n"))
    _push(root, wm)
    shutil.rmtree(app)
    _push(root, wm)
    ours = sent(wm)

    created = next(r for r in first if r["path"].endswith("/apps/create_raw"))
    # what wmill's FormData sent: esbuild's output with its line breaks as CRLF
    assert created["bundle"]["js"].encode() == (RECORDED / "bundle.js").read_bytes()
    assert created["bundle"]["css"].encode() == (RECORDED / "bundle.css").read_bytes()
    strip = [{k: v for k, v in r.items() if k != "bundle"} for r in writes(ours)]
    assert strip == writes(recorded_requests())
    assert wm.acls[("flow", "f/demo/etl")] == {"g/all": False, "u/carl": True}
    assert wm.acls[("app", "f/demo/plain")] == {"u/ann": True}
    assert "f/demo/board" not in wm.apps and "f/demo/board" not in wm.bundles


def test_a_pushed_raw_app_with_its_files_unchanged_sends_nothing_but_reads(wm: FakeWindmill, tmp_path: Path) -> None:
    load_workspace(wm)
    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)

    _push(root, wm)

    assert [r for r in wm.requests if r.method != "GET"] == []


@pytest.mark.slow
def test_without_node_a_raw_app_is_refused_with_a_hint_and_nothing_is_sent(wm: FakeWindmill, tmp_path: Path) -> None:
    from tests.clirun import wac

    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)
    shutil.rmtree(root / "f/demo/etl.flow")
    shutil.rmtree(root / "f/demo/plain.app")
    env = {"WAC_CONFIG_DIR": str(tmp_path / "cfg"), "PATH": str(tmp_path / "empty-bin")}
    wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", wm.workspace, "--switch",
        cwd=root, env=env)

    failed = wac("sync", "push", "--yes", cwd=root, env=env, code=1)

    assert "error: cannot push raw app f/demo/board: wmill bundles a raw app's frontend with esbuild on Node.js, " \
           "and node is not on PATH" in failed.stderr
    assert "hint: install Node.js 18 or later" in failed.stderr and "Traceback" not in failed.stderr
    assert wm.calls("createAppRaw") == [] and wm.apps == {}


@pytest.mark.slow
def test_a_frontend_that_does_not_build_is_refused_with_esbuilds_reason(wm: FakeWindmill, tmp_path: Path,
                                                                          esbuild: str) -> None:
    from tests.clirun import wac

    root = tmp_path / "repo"
    shutil.copytree(RECORDED / "pull-dotted", root)
    app = root / "f/demo/board.raw_app"
    (app / "node_modules").mkdir()
    (app / "index.tsx").write_text("import { nothing } from './missing'\nconst x = (\n")
    env = {"WAC_CONFIG_DIR": str(tmp_path / "cfg"), "WAC_ESBUILD": esbuild}
    wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", wm.workspace, "--switch",
        cwd=root, env=env)

    failed = wac("sync", "push", "--yes", cwd=root, env=env, code=1)

    assert "error: cannot push raw app f/demo/board: its frontend does not build with esbuild: " in failed.stderr
    assert "f/demo/board.raw_app/index.tsx:3: Unexpected end of file\nhint: fix the frontend files" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert wm.calls("createAppRaw") == []


def test_a_raw_app_without_its_entry_point_or_with_a_bad_esbuild_is_refused(wm: FakeWindmill, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from wac.engine.remote.rawbundle import bundle

    if shutil.which("node") is None:
        pytest.skip("no Node.js")
    app = tmp_path / "f/x.raw_app"
    app.mkdir(parents=True)
    with pytest.raises(MetadataError, match="its entry point index.tsx is missing") as missing:
        bundle("f/x", app, tmp_path)
    assert missing.value.hint == "add f/x.raw_app/index.tsx"
    (app / "package.json").write_text('{"dependencies": {"svelte": "^5"}}')
    with pytest.raises(MetadataError, match="index.ts is missing"):
        bundle("f/x", app, tmp_path)
    (app / "package.json").write_text('{"dependencies": {"vue": "3.5.13"}}')
    with pytest.raises(MetadataError, match="bundles no Vue raw app"):
        bundle("f/x", app, tmp_path)
    (app / "package.json").write_text("{}")
    (app / "index.tsx").write_text("export {}\n")
    (app / "node_modules").mkdir()
    monkeypatch.setenv("WAC_ESBUILD", str(tmp_path / "nowhere"))
    with pytest.raises(MetadataError, match="holds no npm esbuild package") as bad:
        bundle("f/x", app, tmp_path)
    assert "npm install esbuild@0.28.2" in (bad.value.hint or "")


def test_the_files_wmill_never_deploys_are_not_part_of_a_raw_app(tmp_path: Path) -> None:
    assert deploys("index.tsx") and deploys("lib/a.ts") and deploys("backend/a.py")
    assert not deploys("backend/sub/a.py") and not deploys("node_modules/x/index.js") and not deploys("dist/b.js")
    assert not deploys("lib/package-lock.json") and not deploys("wmill.d.ts") and not deploys("AGENTS.md")
    assert not deploys("recordings/r.json") and deploys("lib/recordings/r.json") and not deploys("sql_to_apply/1.sql")
    folder = tmp_path / "f/demo/board.raw_app"
    shutil.copytree(RECORDED / "pull-dotted/f/demo/board.raw_app", folder)
    shutil.copy(RECORDED / "pull-dotted/wmill.yaml", tmp_path / "wmill.yaml")
    for extra in ("node_modules/react/index.js", "dist/bundle.js", "package-lock.json", "DATATABLES.md",
                  "backend/old/x.py", "recordings/r.json"):
        (folder / extra).parent.mkdir(parents=True, exist_ok=True)
        (folder / extra).write_text("x\n")

    found, _ = local_items(tmp_path, load_config(tmp_path))

    (raw,) = [i for i in found if i.kind == "raw_app"]
    assert raw.path == "f/demo/board"
    assert sorted(raw.files) == sorted(f"f/demo/board.raw_app/{p.relative_to(RECORDED / 'pull-dotted/f/demo/board.raw_app').as_posix()}"
                                       for p in (RECORDED / "pull-dotted/f/demo/board.raw_app").rglob("*") if p.is_file())


def test_legacy_runnables_in_raw_app_yaml_and_code_files_without_yaml_are_read_as_wmill_reads_them() -> None:
    folder = "f/x.raw_app"
    legacy = {f"{folder}/raw_app.yaml": "summary: s\nrunnables:\n  a:\n    inlineScript:\n      content: |\n"
                                        "        def main(n): return n\n      language: python3\n    fields:\n"
                                        "      n:\n        value: 1\n  b:\n    runType: flow\n    path: f/x/etl\n",
              f"{folder}/index.tsx": "x\n"}
    local, runnables, files = raw_app_body(folder, legacy)
    assert runnables == {"a": {"type": "inline", "inlineScript": {"content": "def main(n): return n\n",
                                                                  "language": "python3"},
                               "fields": {"n": {"value": 1, "type": "static"}}},
                         "b": {"runType": "flow", "path": "f/x/etl", "type": "path"}}
    assert files == {"/index.tsx": "x\n"} and local["summary"] == "s"
    bare = {f"{folder}/raw_app.yaml": "summary: s\n", f"{folder}/backend/Go.ts": "export const main = () => 1\n",
            f"{folder}/backend/Go.LOCK": "{}\n", f"{folder}/backend/q.pg.sql": "select 1\n"}
    _, runnables, _ = raw_app_body(folder, bare, default_ts="deno")
    assert runnables == {"Go": {"type": "inline", "inlineScript": {"content": "export const main = () => 1\n",
                                                                   "language": "deno", "lock": "{}\n"}},
                         "q": {"type": "inline", "inlineScript": {"content": "select 1\n", "language": "postgresql"}}}
    policy = raw_app_policy(runnables, {"execution_mode": "viewer", "triggerables": {"x": 1}}, "publisher")
    assert policy["execution_mode"] == "publisher" and "triggerables" not in policy
    digest = hashlib.sha256(b"export const main = () => 1\n").hexdigest()
    assert policy["triggerables_v2"][f"Go:rawscript/{digest}"] == {"static_inputs": {}, "one_of_inputs": {},
                                                                  "allow_user_resources": []}
    assert len(policy["triggerables_v2"]) == 2
    missing = {f"{folder}/raw_app.yaml": "summary: s\nrunnables:\n  a:\n    inlineScript:\n      content: '!inline a.py'\n"}
    with pytest.raises(MetadataError, match="missing inline script file"):
        raw_app_body(folder, missing)


def test_a_raw_app_whose_file_paths_leave_its_folder_is_refused_on_pull() -> None:
    doc = {"summary": "s", "value": {"runnables": {}, "files": {"/../../evil.sh": "x"}}}
    with pytest.raises(WorkspaceError, match="escapes the app folder"):
        raw_app_files("f/x.raw_app", doc)
    with pytest.raises(WorkspaceError, match="is not a string"):
        raw_app_files("f/x.raw_app", {"value": {"files": {"/a": 1}}})
    kept = raw_app_files("f/x.raw_app", {"value": {"files": {"/a.ts": "a\n", "/dist/b.js": "b\n", "/x/package-lock.json": "{}",
                                                             "/node_modules/c/index.js": "c\n"}}})
    assert sorted(kept) == ["f/x.raw_app/a.ts", "f/x.raw_app/raw_app.yaml"]


def test_extra_perms_are_granted_and_revoked_as_wmill_does_and_left_alone_when_malformed(
        wm: FakeWindmill, backend: WindmillBackend, capsys: pytest.CaptureFixture[str]) -> None:
    wm.acls[("flow", "f/x/a")] = {"u/old": True, "u/keep": False, "u/odd": True}
    assert backend.apply_perms("flow", "f/x/a", {"u/keep": False, "u/new": True, "u/odd": "yes"},
                               {"u/old": True, "u/keep": False, "u/odd": True}) == 2
    assert wm.acls[("flow", "f/x/a")] == {"u/keep": False, "u/new": True, "u/odd": True}
    assert "non-boolean value" in capsys.readouterr().err
    assert backend.apply_perms("flow", "f/x/a", None, {"u/keep": False}) == 0
    assert backend.apply_perms("flow", "f/x/a", ["u/x"], {"u/keep": False}) == 0
    assert "is not an {owner: boolean} map" in capsys.readouterr().err


def test_a_push_with_a_message_sends_it_as_the_deployment_message(wm: FakeWindmill, backend: WindmillBackend) -> None:
    backend.deploy_item(NewItem("flow", "f/x/etl", {"f/x/etl.flow/flow.yaml": "summary: s\nvalue:\n  modules: []\n"},
                                deployment_message="ship it"))
    backend.deploy_item(NewItem("app", "f/x/app", {"f/x/app.app/app.yaml": "summary: s\nvalue: {}\n"},
                                deployment_message="ship it"))
    backend.deploy_item(NewItem("flow", "f/x/etl2", {"f/x/etl2.flow/flow.yaml": "summary: s\nvalue:\n  modules: []\n"}))

    bodies = [r.json() for r in wm.requests if r.method == "POST"]
    assert [b.get("deployment_message") for b in bodies] == ["ship it", "ship it", None]
    assert "deployment_message" not in bodies[2]


def test_a_scripts_extra_perms_become_its_acls_whether_its_code_changed_or_not(wm: FakeWindmill,
                                                                              backend: WindmillBackend) -> None:
    from wac.engine.backend import NewScript

    def script(content: str, perms: dict[str, bool]) -> NewScript:
        return NewScript(path="f/x/job", content=content, lock="",
                         metadata={"summary": "", "description": "", "lock": "", "kind": "script",
                                   "schema": None, "extra_perms": perms})

    backend.deploy(script("def main():\n    return 1\n", {"u/ann": True}))
    backend.deploy(script("def main():\n    return 1\n", {"g/ops": False}))  # same code: no new version

    assert [r.op for r in wm.requests] == ["getScriptByPath", "createScript", "addGranularAcls",
                                           "getScriptByPath", "addGranularAcls", "removeGranularAcls"]
    assert wm.acls[("script", "f/x/job")] == {"g/ops": False}


@pytest.mark.slow
def test_sync_push_message_is_the_deployment_message_of_scripts_and_items(wm: FakeWindmill, tmp_path: Path) -> None:
    from tests.clirun import wac

    root = tmp_path / "repo"
    (root / "f/x/etl.flow").mkdir(parents=True)
    (root / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\nskipFolders: true\n")
    (root / "f/x/job.py").write_text("def main():\n    return 1\n")
    (root / "f/x/etl.flow/flow.yaml").write_text("summary: s\nvalue:\n  modules: []\n")
    env = {"WAC_CONFIG_DIR": str(tmp_path / "cfg")}
    wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", wm.workspace, "--switch",
        cwd=root, env=env)

    wac("sync", "push", "--yes", "--message", "release 7", cwd=root, env=env)

    assert wm.calls("createScript")[0].json()["deployment_message"] == "release 7"
    assert wm.calls("createFlow")[0].json()["deployment_message"] == "release 7"
