"""Scripts on a Windmill workspace: deploy, read, list from the export, history, archive."""

from __future__ import annotations

import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.backend import NewScript, ScriptModule
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import NotDeployedError

WF = "f/demo/wf"


def script(content: str = "def main(x: int):\n    return x\n", **kw: object) -> NewScript:
    kw.setdefault("modules", {"extract.py": ScriptModule("def main(url: str):\n    return url\n", lock="# py: 3.12\n")})
    return NewScript(path=WF, content=content, lock="# py: 3.12\nhttpx==1.0.0\n",
                     schema={"type": "object", "properties": {"x": {"type": "integer"}}, "required": ["x"]},
                     **kw)  # type: ignore[arg-type]


def test_deploy_of_a_new_path_creates_a_version_without_parent(backend: WindmillBackend, wm: FakeWindmill) -> None:
    deployed = backend.deploy(script())

    assert deployed.created and deployed.parent_hash is None and len(deployed.hash) == 16
    assert [r.op for r in wm.requests] == ["getScriptByPath", "createScript"]
    create = wm.calls("createScript")[0]
    assert create.path == "/api/w/test/scripts/create" and create.query == {"skip_if_noop": ["true"]}
    body = create.json()
    assert "parent_hash" not in body and "auto_parent" not in body
    assert body["modules"] == {"extract.py": {"content": "def main(url: str):\n    return url\n",
                                              "language": "python3", "lock": "# py: 3.12\n"}}
    assert wm.calls("getScriptByPath")[0].path == "/api/w/test/scripts/get/p/f/demo/wf"  # raw slashes


def test_deploy_of_an_unchanged_script_posts_nothing(backend: WindmillBackend, wm: FakeWindmill) -> None:
    first = backend.deploy(script(options={"tag": "gpu", "timeout": 60}))

    again = backend.deploy(script(options={"tag": "gpu", "timeout": 60}, deployment_message="same"))

    assert again.hash == first.hash and not again.created
    assert len(wm.calls("createScript")) == 1


def test_deploy_of_a_changed_script_names_its_parent(backend: WindmillBackend, wm: FakeWindmill) -> None:
    first = backend.deploy(script())

    second = backend.deploy(script("def main(x: int):\n    return x + 1\n", deployment_message="plus one"))

    assert second.created and second.hash != first.hash and second.parent_hash == first.hash
    body = wm.calls("createScript")[-1].json()
    assert body["parent_hash"] == first.hash and body["auto_parent"] is True
    assert body["deployment_message"] == "plus one"
    assert backend.get_script(WF).parent_hash == first.hash


def test_deploy_sends_options_and_preprocessor_only_when_set(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.deploy(script(options={"tag": "gpu", "priority": 0, "envs": ["A=1"]}, has_preprocessor=True, modules={}))

    body = wm.calls("createScript")[0].json()
    assert {k: body[k] for k in ("tag", "priority", "envs", "has_preprocessor")} == {
        "tag": "gpu", "priority": 0, "envs": ["A=1"], "has_preprocessor": True}
    assert "modules" not in body and "timeout" not in body


def test_deploy_of_a_metadata_change_creates_a_version(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.deploy(script())
    changed = backend.deploy(script(summary="Now with a summary"))
    assert changed.created and len(wm.calls("createScript")) == 2


def test_get_script_reads_the_head_or_a_version_by_hash(backend: WindmillBackend) -> None:
    first = backend.deploy(script(summary="v1"))
    backend.deploy(script("def main():\n    return 2\n", summary="v2", modules={}))

    head = backend.get_script(WF)
    old = backend.get_script(WF, first.hash)

    assert head.script.summary == "v2" and head.script.layout == "flat" and head.script.modules == {}
    assert old.hash == first.hash and old.script.summary == "v1" and old.script.layout == "folder"
    assert old.script.modules["extract.py"].lock == "# py: 3.12\n"
    assert old.script.lock == "# py: 3.12\nhttpx==1.0.0\n" and old.script.metadata is None
    assert head.created_by == "admin" and head.created_at > 1.7e9


def test_get_script_of_an_unknown_path_is_not_deployed(backend: WindmillBackend) -> None:
    with pytest.raises(NotDeployedError, match=r"f/demo/nothing is not deployed in workspace 'prod'") as info:
        backend.get_script("f/demo/nothing")
    assert info.value.exit_code == 1
    with pytest.raises(NotDeployedError, match="version 0123456789abcdef of f/demo/wf"):
        backend.get_script(WF, "0123456789abcdef")


def test_list_scripts_reads_full_versions_from_the_export(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wf = backend.deploy(script(options={"tag": "gpu"}))
    backend.deploy(NewScript(path="f/demo/simple", content="def main():\n    return 1\n", lock=""))
    backend.deploy(NewScript(path="f/demo/other", content="export function main() {}", language="bun"))

    versions = backend.list_scripts()

    assert [v.path for v in versions] == ["f/demo/simple", WF]  # python only, by path
    simple, got = versions
    assert got.hash == wf.hash and got.script.layout == "folder" and got.script.options == {"tag": "gpu"}
    assert got.script.modules == script().modules and got.script.schema == script().schema
    assert simple.script.lock is None and simple.script.layout == "flat"
    tarball = wm.calls("tarballWorkspace")[0]
    assert tarball.query["archive_type"] == ["zip"] and tarball.query["skip_secrets"] == ["true"]


def test_list_scripts_falls_back_to_tar_when_the_server_has_no_zip(backend: WindmillBackend,
                                                                    wm: FakeWindmill) -> None:
    wm.zip_supported = False
    backend.deploy(script())

    assert [v.path for v in backend.list_scripts()] == [WF]
    assert [r.query["archive_type"] for r in wm.calls("tarballWorkspace")] == [["zip"], ["tar"]]


def test_script_history_is_newest_first(backend: WindmillBackend) -> None:
    first = backend.deploy(script())
    second = backend.deploy(script("def main(x: int):\n    return -x\n", deployment_message="negate"))

    history = backend.script_history(WF)

    assert [h.hash for h in history] == [second.hash, first.hash]
    assert history[0].deployment_message == "negate" and history[1].deployment_message is None
    assert history[0].created_at >= history[1].created_at > 1.7e9
    with pytest.raises(NotDeployedError):
        backend.script_history("f/demo/never")


def test_archive_removes_the_path_from_reads_and_lists(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.deploy(script())

    backend.archive_script(WF)

    assert wm.calls("archiveScriptByPath")[0].path == "/api/w/test/scripts/archive/p/f/demo/wf"
    with pytest.raises(NotDeployedError):
        backend.get_script(WF)
    assert backend.list_scripts() == []
    with pytest.raises(NotDeployedError):
        backend.archive_script(WF)
    assert backend.deploy(script()).created  # a new head after the archive, without parent
