"""Variables, resources and resource types on a Windmill workspace, against the contract-checked
fake: what the Backend sends, secrets decrypted only when asked, and sync through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import wac
from tests.remote.fakewindmill import FakeWindmill
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import ObjectNotFoundError
from wac.project.objectfiles import ObjectFile


def test_put_list_get_and_delete_map_to_the_windmill_api(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.put_object(ObjectFile("resource_type", "pg", {"type": "object"}, "PG"))
    backend.put_object(ObjectFile("variable", "f/a/api", "https://x", "base"))
    backend.put_object(ObjectFile("variable", "f/a/tok", "s3cr3t", "", True))
    backend.put_object(ObjectFile("resource", "f/a/db", {"host": "h", "pw": "$var:f/a/tok"}, "", False, "pg"))
    backend.put_object(ObjectFile("variable", "f/a/api", "https://y", "base"))  # an update
    assert wm.calls("createVariable")[0].json() == {"path": "f/a/api", "value": "https://x", "is_secret": False,
                                                    "description": "base"}
    assert wm.calls("updateVariable")[0].path == "/api/w/test/variables/update/f/a/api"
    assert wm.calls("createResource")[0].query == {"update_if_exists": ["true"]}
    hidden = backend.list_objects("variable")
    assert [(v.path, v.value, v.is_secret) for v in hidden] == [("f/a/api", "https://y", False), ("f/a/tok", None, True)]
    assert not [c for c in wm.calls("getVariable") if c.query.get("decrypt_secret")]
    shown = backend.list_objects("variable", reveal=True)
    assert shown[1].value == "s3cr3t"
    assert backend.get_object("resource", "f/a/db").value == {"host": "h", "pw": "$var:f/a/tok"}
    assert [(t.path, t.value) for t in backend.list_objects("resource_type")] == [("pg", {"type": "object"})]
    backend.delete_object("resource", "f/a/db")
    with pytest.raises(ObjectNotFoundError, match="resource f/a/db not found in workspace 'prod'"):
        backend.get_object("resource", "f/a/db")
    with pytest.raises(ObjectNotFoundError):
        backend.delete_object("variable", "f/a/none")


@pytest.mark.slow
def test_sync_push_and_pull_of_objects_with_a_windmill_workspace(tmp_path: Path, wm: FakeWindmill) -> None:
    env = {"WAC_CONFIG_DIR": str(tmp_path / "cfg")}
    a = tmp_path / "a"
    (a / "f/demo").mkdir(parents=True)
    (a / "wmill.yaml").write_text("includes:\n  - f/**\n")
    var = "description: ''\nvalue: https://api.example.com\nis_secret: false\n"
    res = "description: ''\nvalue:\n  host: db\nresource_type: any\n"
    (a / "f/demo/api.variable.yaml").write_text(var)
    (a / "f/demo/db.resource.yaml").write_text(res)
    wac("workspace", "add", "prod", wm.url, "--token", wm.token, "--workspace-id", wm.workspace, cwd=a, env=env)
    wac("workspace", "switch", "prod", cwd=a, env=env)
    wac("sync", "push", "--yes", cwd=a, env=env)
    assert wm.variables["f/demo/api"]["value"] == "https://api.example.com"
    b = tmp_path / "b"
    b.mkdir()
    (b / "wmill.yaml").write_text("includes:\n  - f/**\n")
    wac("sync", "pull", "--yes", cwd=b, env=env)
    assert (b / "f/demo/api.variable.yaml").read_text() == var
    assert (b / "f/demo/db.resource.yaml").read_text() == res
    listed = wac("variable", "list", "--json", cwd=b, env=env).json()
    assert listed == [{"path": "f/demo/api", "is_secret": False, "description": "", "value": "https://api.example.com"}]
