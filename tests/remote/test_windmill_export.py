"""The workspace export (``workspaces/tarball``) as ``list_scripts`` reads it: the real format of a
recorded export, and paths a server must never get wac to write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.backend import NewScript, ScriptModule
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import NotDeployedError, RejectedError

FX31 = Path(__file__).resolve().parent.parent / "data" / "windmill-api" / "recorded" / "fx31-export"


def test_the_recorded_export_of_fx31_reads_as_full_versions(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wm.extra_members = {p.relative_to(FX31).as_posix(): p.read_bytes() for p in FX31.rglob("*") if p.is_file()}

    versions = {v.path: v for v in backend.list_scripts()}

    assert sorted(versions) == ["f/demo/nolock", "f/demo/simple", "f/demo/wf"]
    wf = versions["f/demo/wf"].script
    assert wf.layout == "folder" and wf.lock == "# py: 3.12\n" and wf.schema["required"] == ["x"]  # type: ignore[index]
    assert wf.modules == {
        "extract.py": ScriptModule("import requests\ndef main(x: int):\n    return x\n", "python3",
                                   "# py: 3.12\nrequests==2.32.3\n"),
        "lib/util.py": ScriptModule("def u():\n    return 1\n", "python3", None),
    }
    simple = versions["f/demo/simple"].script
    assert (simple.summary, simple.description, simple.layout) == ("Simple", "A simple script", "flat")
    assert simple.lock == "# py: 3.12\nrequests==2.32.3\n" and versions["f/demo/nolock"].script.lock == ""
    assert versions["f/demo/wf"].hash == ""  # not listed by scripts/list: the export carries no hash


def _evil(wm: FakeWindmill, members: dict[str, bytes]) -> None:
    wm.extra_members = members


SCRIPT_JSON = json.dumps({"summary": "", "description": "", "schema": {}, "lock": "", "kind": "script"}).encode()


@pytest.mark.parametrize("name", ["../x.py", "/etc/x", "f/demo/../../x.py", "f\\demo\\x.py", "C:/x.py"])
def test_an_export_member_that_could_escape_is_refused(backend: WindmillBackend, wm: FakeWindmill, name: str) -> None:
    backend.deploy(NewScript(path="f/demo/ok", content="x = 1\n"))
    _evil(wm, {name: b"print('pwned')\n"})
    with pytest.raises(RejectedError, match="holds the file") as info:
        backend.list_scripts()
    assert repr(name) in info.value.message and info.value.exit_code == 4


def test_an_escaping_member_is_refused_from_a_tar_export_too(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wm.zip_supported = False
    _evil(wm, {"../x.py": b"x = 1\n", "../x.script.json": SCRIPT_JSON})
    with pytest.raises(RejectedError, match=r"'\.\./x\.py'.*it contains '\.\.'"):
        backend.list_scripts()


def test_a_script_outside_f_u_g_is_refused(backend: WindmillBackend, wm: FakeWindmill) -> None:
    _evil(wm, {"etc/cron.d/x.py": b"x = 1\n", "etc/cron.d/x.script.json": SCRIPT_JSON})
    with pytest.raises(RejectedError, match=r"script path 'etc/cron\.d/x'.*not under f/, u/ or g/"):
        backend.list_scripts()


def test_files_of_other_kinds_outside_f_u_g_are_skipped(backend: WindmillBackend, wm: FakeWindmill) -> None:
    _evil(wm, {"dependencies/requirements.in": b"requests\n", "settings.json": b"{}",
               "c_my.resource-type.json": b"{}", "f/demo/x.flow.json": b"{}"})
    assert backend.list_scripts() == []


@pytest.mark.parametrize("key", ["../../x.py", "/etc/passwd", "lib\\x.py", "a/\0/b.py", "lib/./x.py"])
def test_a_module_key_that_could_escape_is_refused(backend: WindmillBackend, wm: FakeWindmill, key: str) -> None:
    doc = {"summary": "", "description": "", "schema": {}, "lock": "", "kind": "script",
           "modules": {key: {"content": "x = 1\n", "language": "python3", "lock": None}}}
    _evil(wm, {"f/demo/evil.py": b"x = 1\n", "f/demo/evil.script.json": json.dumps(doc).encode()})
    with pytest.raises(RejectedError, match="holds a module") as info:
        backend.list_scripts()
    assert repr(key) in info.value.message


def test_a_module_key_that_could_escape_is_refused_by_get_script(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.deploy(NewScript(path="f/demo/wf", content="x = 1\n"))
    wm.scripts["f/demo/wf"][-1]["modules"] = {"../../x.py": {"content": "", "language": "python3", "lock": None}}
    with pytest.raises(RejectedError, match=r"module '\.\./\.\./x\.py' of f/demo/wf"):
        backend.get_script("f/demo/wf")


def test_a_script_whose_answer_names_another_path_is_not_that_script(backend: WindmillBackend,
                                                                      wm: FakeWindmill) -> None:
    backend.deploy(NewScript(path="f/demo/wf", content="x = 1\n"))
    wm.scripts["f/demo/wf"][-1]["path"] = "../../etc/wf"
    with pytest.raises(NotDeployedError):
        backend.get_script("f/demo/wf")


def test_a_deploy_to_a_path_outside_f_u_g_is_refused_before_any_request(backend: WindmillBackend,
                                                                        wm: FakeWindmill) -> None:
    with pytest.raises(RejectedError):
        backend.deploy(NewScript(path="../x", content="x = 1\n"))
    assert wm.requests == []
