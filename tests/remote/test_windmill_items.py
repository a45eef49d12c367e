"""Flows, schedules, triggers and folders with a Windmill workspace, checked against what the real
``wmill`` 1.819.0 wrote and sent for the same workspace (``tests/data/windmill-api/recorded-items``,
recorded against this fake): the files a pull writes, the bodies a push sends, updates, deletes,
``wmill.yaml``'s options, and a malformed item refused with nothing written."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.items import NewItem
from wac.engine.remote.flowfiles import PathAssigner, flow_body, sanitize
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import MetadataError, WorkspaceError
from wac.project.config import load_config
from wac.sync.items import plan_item_push, read_items
from wac.sync.kinds import local_items

RECORDED = Path(__file__).resolve().parent.parent / "data" / "windmill-api" / "recorded-items"
ITEM_OPS = ("Folder", "Flow", "Schedule", "Trigger", "setScheduleEnabled")


def load_workspace(wm: FakeWindmill) -> None:
    doc = json.loads((RECORDED / "workspace.json").read_text())
    wm.flows.update(copy.deepcopy(doc["flows"]))
    wm.schedules.update(copy.deepcopy(doc["schedules"]))
    wm.folders.update(copy.deepcopy(doc["folders"]))
    for kind, items in doc["triggers"].items():
        wm.triggers[kind].update(copy.deepcopy(items))


def repo_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "f").rglob("*")) if p.is_file()}


def pulled(backend: WindmillBackend, root: Path) -> dict[str, bytes]:
    backend.configure_items(load_config(root))
    return {rel: text.encode() for r in backend.list_items() for rel, text in r.item.files.items()}


def local(root: Path) -> list[NewItem]:
    config = load_config(root)
    found, _ = local_items(root, config)
    return read_items(root, found)


def item_requests(wm: FakeWindmill) -> list[tuple[str, str, Any]]:
    return [(r.method, r.path, r.json() if r.body else None) for r in wm.requests
            if r.op and any(k in r.op for k in ITEM_OPS)]


def recorded_requests(name: str) -> list[list[tuple[str, str, Any]]]:
    """The item requests of each ``wmill sync push`` of the recording (a push starts at its tarball)."""
    pushes: list[list[tuple[str, str, Any]]] = []
    for line in (RECORDED / name).read_text().splitlines():
        r = json.loads(line)
        if r["path"].endswith("/workspaces/tarball"):
            pushes.append([])
        elif any(s in r["path"] for s in ("/folders/", "/flows/", "/schedules/", "_triggers/")):
            pushes[-1].append((r["method"], r["path"], r.get("body_json")))
    return pushes


@pytest.mark.parametrize("layout", ["dotted", "nondotted", "v1"])
def test_a_pull_writes_byte_for_byte_the_files_the_real_wmill_wrote(layout: str, wm: FakeWindmill,
                                                                     backend: WindmillBackend) -> None:
    load_workspace(wm)
    root = RECORDED / f"pull-{layout}"

    assert pulled(backend, root) == repo_files(root)
    tarball = wm.calls("tarballWorkspace")[-1].query
    assert tarball["include_schedules"] == ["true"] and tarball["include_triggers"] == ["true"]


@pytest.mark.parametrize("layout", ["dotted", "v1"])
def test_a_push_sends_the_requests_and_bodies_the_real_wmill_sent(layout: str, wm: FakeWindmill,
                                                                  backend: WindmillBackend) -> None:
    root = RECORDED / f"pull-{layout}"
    backend.configure_items(load_config(root))
    first, _second = recorded_requests(f"push-{layout}.jsonl")

    for item in sorted(local(root), key=lambda i: ["folder", "flow", "schedule", "http_trigger"].index(i.kind)):
        backend.deploy_item(item)

    writes = [r for r in item_requests(wm) if r[0] != "GET"]
    assert writes == [r for r in first if r[0] != "GET"]
    for (_, _, mine), (_, _, theirs) in zip(writes, [r for r in first if r[0] != "GET"], strict=True):
        assert list(mine) == list(theirs)  # the same keys in the same order
    # with syncBehavior v1, wmill reads the folder once more before pushing (its permissions check)
    assert {r[1] for r in item_requests(wm) if r[0] == "GET"} == {r[1] for r in first if r[0] == "GET"}


@pytest.mark.parametrize("layout", ["dotted", "v1"])
def test_a_second_push_updates_and_deletes_as_the_real_wmill_did(layout: str, wm: FakeWindmill,
                                                                 backend: WindmillBackend, tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(RECORDED / f"pull-{layout}", root)
    backend.configure_items(load_config(root))
    for item in local(root):
        backend.deploy_item(item)
    (root / "f/demo/etl.flow/extract_data.inline_script.py").write_text("def main(x: int = 1):\n    return x + 1\n")
    schedule = root / "f/demo/noon.schedule.yaml"
    schedule.write_text(schedule.read_text().replace("Europe/Paris", "UTC").replace("enabled: true", "enabled: false"))
    (root / "f/demo/hook.http_trigger.yaml").unlink()
    meta = root / "f/demo/folder.meta.yaml"
    meta.write_text(meta.read_text().replace("Demo things", "Demo stuff"))
    _first, second = recorded_requests(f"push-{layout}.jsonl")

    plan = plan_item_push(local(root), backend.list_items(), load_config(root))
    assert [(c.action, c.kind) for c in plan.items] == [("change", "folder"), ("change", "flow"),
                                                         ("delete", "http_trigger"), ("change", "schedule")]
    wm.requests.clear()
    for change in sorted(plan.items, key=lambda c: ["folder", "flow", "schedule", "http_trigger"].index(c.kind)):
        if change.item is None:
            backend.archive_item(change.kind, change.path)
        else:
            backend.deploy_item(change.item)

    assert [r for r in item_requests(wm) if r[0] != "GET"] == [r for r in second if r[0] != "GET"]
    assert wm.schedules["f/demo/noon"]["enabled"] is False and wm.triggers["http"] == {}


def test_an_item_already_equal_on_the_server_sends_no_update(wm: FakeWindmill, backend: WindmillBackend) -> None:
    load_workspace(wm)
    root = RECORDED / "pull-dotted"
    backend.configure_items(load_config(root))

    for item in local(root):
        backend.deploy_item(item)

    assert sorted(r.op or "" for r in wm.requests) == ["getFlowByPath", "getFolder", "getHttpTrigger", "getSchedule"]
    assert plan_item_push(local(root), backend.list_items(), load_config(root)).items == []


def test_wmill_yaml_options_leave_kinds_out_of_the_export_and_the_listing(wm: FakeWindmill, backend: WindmillBackend,
                                                                          tmp_path: Path) -> None:
    load_workspace(wm)
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nskipFlows: true\nskipFolders: true\n")

    got = pulled(backend, tmp_path)

    assert got == {}  # schedules and triggers need includeSchedules / includeTriggers
    query = wm.calls("tarballWorkspace")[-1].query
    assert query["include_schedules"] == ["false"] and query["include_triggers"] == ["false"]
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nincludeSchedules: true\nskipFolders: true\n")
    assert sorted(pulled(backend, tmp_path)) == ["f/demo/etl.flow/extract_data.inline_script.lock",
                                                 "f/demo/etl.flow/extract_data.inline_script.py",
                                                 "f/demo/etl.flow/extract_data_1.inline_script.pg.sql",
                                                 "f/demo/etl.flow/failure.inline_script.py",
                                                 "f/demo/etl.flow/flow.yaml",
                                                 "f/demo/etl.flow/inline_script_0.inline_script.ts",
                                                 "f/demo/noon.schedule.yaml"]


@pytest.mark.parametrize("doc, why", [
    ({"summary": "x"}, "has no valid 'value.modules'"),
    ({"summary": "x", "value": {"modules": [{"id": "a", "value": {"type": "rawscript", "content": "!inline a.py",
                                                                   "language": "python3"}}]}}, "instead of code"),
    ({"summary": "x", "value": {"modules": ["not a step"]}}, "is not an object"),
])
def test_a_malformed_flow_from_the_server_is_refused(doc: dict[str, Any], why: str, wm: FakeWindmill,
                                                     backend: WindmillBackend) -> None:
    wm.flows["f/demo/bad"] = doc

    with pytest.raises(WorkspaceError, match=why) as caught:
        backend.list_items()

    assert "f/demo/bad.flow" in caught.value.message


def test_an_export_member_that_is_not_json_is_refused(wm: FakeWindmill, backend: WindmillBackend) -> None:
    wm.extra_members["f/demo/x.flow.json"] = b"{not json"

    with pytest.raises(WorkspaceError, match="f/demo/x.flow.json is not valid JSON"):
        backend.list_items()


def test_a_flow_whose_inline_file_is_missing_is_not_pushed() -> None:
    flow = "summary: x\nvalue:\n  modules:\n    - id: a\n      value:\n        type: rawscript\n" \
           "        content: '!inline a.inline_script.py'\n        language: python3\n"

    with pytest.raises(MetadataError, match="missing inline script file.*a.inline_script.py"):
        flow_body("f/x/y.flow", {"f/x/y.flow/flow.yaml": flow})
    with pytest.raises(MetadataError, match="f/x/y.flow/flow.yaml: it has no 'value' mapping"):
        flow_body("f/x/y.flow", {"f/x/y.flow/flow.yaml": "summary: x\n"})


def test_a_missing_lock_file_is_an_empty_lock_and_the_step_id_is_a_fallback_name() -> None:
    flow = "summary: x\nvalue:\n  modules:\n    - id: a\n      value:\n        type: rawscript\n" \
           "        content: '!inline gone.inline_script.py'\n        language: python3\n" \
           "        lock: '!inline gone.inline_script.lock'\n"

    body = flow_body("f/x/y.flow", {"f/x/y.flow/flow.yaml": flow, "f/x/y.flow/a.inline_script.py": "code\n"})

    assert body["value"]["modules"][0]["value"] == {"type": "rawscript", "content": "code\n",
                                                    "language": "python3", "lock": ""}


def test_inline_script_names_follow_wmills_path_assigner() -> None:
    names = PathAssigner()
    assert names.assign("Extract Data!", "python3") == ("extract_data!.inline_script.", "py")
    assert names.assign("extract data!", "bun") == ("extract_data!_1.inline_script.", "ts")
    assert names.assign("", "deno") == ("inline_script_0.inline_script.", "deno.ts")
    assert names.assign("", "go") == ("inline_script_2.inline_script.", "go")
    assert PathAssigner(non_dotted=True).assign("con", "bash") == ("_con.", "sh")
    assert sanitize("  __A/b:c__ ") == "abc"


def _cli_repo(tmp_path: Path, wm: FakeWindmill, name: str, layout: str = "dotted") -> tuple[Path, dict[str, str]]:
    from tests.clirun import wac

    env = {"WAC_CONFIG_DIR": str(tmp_path / "cfg")}
    root = tmp_path / name
    root.mkdir()
    shutil.copy(RECORDED / f"pull-{layout}" / "wmill.yaml", root / "wmill.yaml")
    if not (tmp_path / "cfg").exists():
        wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", wm.workspace, "--switch",
            cwd=root, env=env)
    return root, env


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["dotted", "nondotted"])
def test_push_then_pull_into_an_empty_clone_gives_back_every_file_byte_for_byte(layout: str, wm: FakeWindmill,
                                                                                tmp_path: Path, esbuild: str) -> None:
    from tests.clirun import wac

    a, env = _cli_repo(tmp_path, wm, "a", layout)
    env["WAC_ESBUILD"] = esbuild
    shutil.copytree(RECORDED / f"pull-{layout}" / "f", a / "f")
    app = a / ("f/demo/app.app" if layout == "dotted" else "f/demo/app__app")  # the layout's own folder name
    app.mkdir()
    (app / "app.yaml").write_text("summary: an app\nvalue: {}\n")
    raw = a / ("f/demo/raw.raw_app" if layout == "dotted" else "f/demo/raw__raw_app")
    (raw / "backend").mkdir(parents=True)
    (raw / "node_modules").mkdir()  # left out of the sync, as wmill leaves it
    (raw / "raw_app.yaml").write_text("summary: a raw app\n")
    (raw / "index.tsx").write_text("import { backend } from './wmill'\nbackend.hello({}).then(console.log)\n")
    (raw / "backend/hello.py").write_text("def main():\n    return 1\n")
    (raw / "backend/hello.yaml").write_text("type: inline\n")  # as wmill writes it back

    pushed = wac("sync", "push", "--yes", cwd=a, env=env)
    again = wac("sync", "push", "--yes", cwd=a, env=env)
    b, _ = _cli_repo(tmp_path, wm, "b", layout)
    wac("sync", "pull", "--yes", cwd=b, env=env)

    assert "not synced" not in pushed.stderr
    assert set(wm.flows) == {"f/demo/etl"} and set(wm.schedules) == {"f/demo/noon"} and "demo" in wm.folders
    assert set(wm.apps) == {"f/demo/app", "f/demo/raw"} and "backendAsync" in wm.bundles["f/demo/raw"]["js"]
    assert "f/demo/hook" in wm.triggers["http"]
    writes = [r for r in wm.requests if r.method != "GET"]
    assert len([r for r in writes if r.op and r.op.startswith(("create", "update"))]) == 6  # the second push: none
    assert "nothing to push" in again.stderr.lower() or "0 added, 0 changed, 0 archived" in again.stderr
    assert repo_files(b) == repo_files(a)


@pytest.mark.slow
def test_a_pull_of_a_malformed_flow_writes_nothing_and_names_it(wm: FakeWindmill, tmp_path: Path) -> None:
    from tests.clirun import wac

    load_workspace(wm)
    wm.flows["f/demo/broken"] = {"summary": "no value"}
    b, env = _cli_repo(tmp_path, wm, "b")

    failed = wac("sync", "pull", "--yes", cwd=b, env=env, code=5)

    assert "\nerror: the workspace's flow f/demo/broken.flow has no valid 'value.modules'\n" in failed.stderr
    assert "hint: nothing was written; fix or archive the flow in the workspace" in failed.stderr
    assert not (b / "f").exists() and "Traceback" not in failed.stderr


def test_a_push_compares_flows_under_the_repos_inline_file_names_as_wmill_does(wm: FakeWindmill,
                                                                                 backend: WindmillBackend,
                                                                                 tmp_path: Path) -> None:
    flow = ("summary: x\nvalue:\n  modules:\n    - id: a\n      summary: Extract\n      value:\n"
            "        type: rawscript\n        content: '!inline steps_extract.py'\n        language: python3\n"
            "        lock: '!inline steps_extract.lock'\n"
            "    - id: b\n      value:\n        type: rawscript\n        content: '!inline ../escape.py'\n"
            "        language: python3\n")
    files = {"f/x/y.flow/flow.yaml": flow, "f/x/y.flow/steps_extract.py": "def main():\n    pass\n",
             "f/x/y.flow/steps_extract.lock": "# py: 3.12\n", "f/x/y.flow/b.py": "def main():\n    return 2\n"}
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\n")
    backend.configure_items(load_config(tmp_path), tmp_path)
    backend.deploy_item(NewItem("flow", "f/x/y", {**files, "f/x/y.flow/flow.yaml": flow.replace("../escape.py", "b.py")}))

    fresh = {r.path: r.item.files for r in backend.list_items()}["f/x/y"]
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    kept = {r.path: r.item.files for r in backend.list_items()}["f/x/y"]

    assert sorted(fresh) == ["f/x/y.flow/b.inline_script.py", "f/x/y.flow/extract.inline_script.lock",
                             "f/x/y.flow/extract.inline_script.py", "f/x/y.flow/flow.yaml"]
    # rendered with the repo's names (an escaping one is not: wmill's name instead), so no change
    assert sorted(kept) == ["f/x/y.flow/b.inline_script.py", "f/x/y.flow/flow.yaml",
                            "f/x/y.flow/steps_extract.lock", "f/x/y.flow/steps_extract.py"]
    assert "content: '!inline steps_extract.py'" in kept["f/x/y.flow/flow.yaml"]
    backend.configure_items(load_config(tmp_path))  # a pull: wmill's own names, whatever the repo has
    assert {r.path: r.item.files for r in backend.list_items()}["f/x/y"] == fresh


@pytest.mark.parametrize("kind, path, route", [
    ("flow", "f/demo/etl", "/api/w/test/flows/delete/f/demo/etl"),
    ("schedule", "f/demo/noon", "/api/w/test/schedules/delete/f/demo/noon"),
    ("http_trigger", "f/demo/hook", "/api/w/test/http_triggers/delete/f/demo/hook"),
    ("folder", "f/demo", "/api/w/test/folders/delete/demo"),
])
def test_an_item_gone_from_the_repo_is_deleted_with_wmills_route(kind: str, path: str, route: str, wm: FakeWindmill,
                                                                 backend: WindmillBackend, tmp_path: Path) -> None:
    load_workspace(wm)
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nincludeSchedules: true\nincludeTriggers: true\n")
    root = RECORDED / "pull-dotted"
    kept = [i for i in local(root) if i.kind != kind]
    backend.configure_items(load_config(tmp_path), tmp_path)

    plan = plan_item_push(kept, backend.list_items(), load_config(tmp_path))
    assert [(c.action, c.kind, c.path) for c in plan.items] == [("delete", kind, path)]
    backend.archive_item(kind, path)

    assert [(r.method, r.path) for r in wm.requests if r.method == "DELETE"] == [("DELETE", route)]
    assert all(r.kind != kind for r in backend.list_items())


def test_a_changed_trigger_is_updated_with_its_path_in_the_body(wm: FakeWindmill, backend: WindmillBackend) -> None:
    load_workspace(wm)
    root = RECORDED / "pull-dotted"
    trigger = next(i for i in local(root) if i.kind == "http_trigger")
    (rel, text), = trigger.files.items()

    backend.deploy_item(NewItem(trigger.kind, trigger.path, {rel: text.replace("demo/hook", "demo/hook2")}))

    update = wm.calls("updateHttpTrigger")[0]
    assert update.path == "/api/w/test/http_triggers/update/f/demo/hook"
    assert list(update.json())[-1] == "path" and update.json()["route_path"] == "demo/hook2"


def test_skip_and_include_options_leave_kinds_out_of_a_push(wm: FakeWindmill, backend: WindmillBackend,
                                                            tmp_path: Path) -> None:
    from wac.sync.items_apply import prepare_push

    shutil.copytree(RECORDED / "pull-dotted" / "f", tmp_path / "f")
    (tmp_path / "wmill.yaml").write_text("includes:\n  - f/**\nskipFlows: true\nincludeTriggers: true\n")

    push = prepare_push(tmp_path, load_config(tmp_path), backend)

    assert [(c.action, c.kind) for c in push.plan.items] == [("add", "folder"), ("add", "http_trigger")]
    assert "1 flow(s) left out by wmill.yaml (skipFlows)" in push.notes
    assert "1 schedule(s) left out by wmill.yaml (includeSchedules)" in push.notes


@pytest.mark.slow
def test_schedule_list_reads_a_windmill_workspaces_schedules_from_its_export(wm: FakeWindmill, tmp_path: Path) -> None:
    from tests.clirun import wac

    load_workspace(wm)
    b, env = _cli_repo(tmp_path, wm, "b")
    (b / "wmill.yaml").write_text("includes:\n  - f/**\n")  # no includeSchedules: listing asks anyway

    listed = wac("schedule", "list", cwd=b, env=env)

    assert listed.stdout == "f/demo/noon  0 0 12 * * *  Europe/Paris  flow f/demo/etl  enabled\n"
    assert "note: the Windmill server fires these schedules" in listed.stderr
    assert wm.calls("tarballWorkspace")[-1].query["include_schedules"] == ["true"]
