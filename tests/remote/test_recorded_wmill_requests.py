"""wac sends what the real ``wmill`` CLI sends (requests recorded from wmill 1.819.0, copied from
``shared/conformance/wmill-cli`` into ``tests/data/windmill-api/recorded``), and those recorded
requests validate against the contract the fake enforces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.remote import contract
from tests.remote.fakewindmill import FakeWindmill
from wac.engine.backend import NewScript, ScriptModule
from wac.engine.bundle import MANIFEST, Bundle
from wac.engine.remote.windmill import WindmillBackend

RECORDED = Path(__file__).resolve().parent.parent / "data" / "windmill-api" / "recorded"


def recorded(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (RECORDED / name).read_text().splitlines() if line.strip()]


def one(name: str, method: str, path: str) -> dict[str, Any]:
    return next(r for r in recorded(name) if r["method"] == method and r["path"] == path)


def test_script_push_sends_the_recorded_create_body_of_fx29(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wanted = one("fx29-script-push.requests.jsonl", "POST", "/api/w/test/scripts/create")
    body = wanted["body_json"]
    script = NewScript(
        path=body["path"], content=body["content"], summary=body["summary"], description=body["description"],
        schema=body["schema"], lock=body["lock"],
        modules={k: ScriptModule(m["content"], m["language"], m.get("lock")) for k, m in body["modules"].items()},
    )

    backend.deploy(script)

    sent = wm.calls("createScript")[0]
    assert (sent.method, sent.path, sent.query) == ("POST", wanted["path"], {"skip_if_noop": ["true"]})
    assert sent.json() == body
    assert list(sent.json()) == list(body)  # and in the CLI's key order
    assert [(r.method, r.path) for r in wm.requests] == [
        (r["method"], r["path"]) for r in recorded("fx29-script-push.requests.jsonl") if "whoami" not in r["path"]]


def test_an_update_adds_only_parent_hash_and_auto_parent(backend: WindmillBackend, wm: FakeWindmill) -> None:
    body = one("fx29-script-push.requests.jsonl", "POST", "/api/w/test/scripts/create")["body_json"]
    first = backend.deploy(NewScript(path=body["path"], content="old\n", lock=body["lock"], schema=body["schema"]))
    backend.deploy(NewScript(path=body["path"], content=body["content"], lock=body["lock"], schema=body["schema"]))

    sent = wm.calls("createScript")[1].json()
    assert sent == {**{k: v for k, v in body.items() if k != "modules"}, "parent_hash": first.hash,
                    "auto_parent": True}


def test_script_preview_sends_the_recorded_preview_body_of_fx25(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wanted = one("fx25-script-preview.requests.jsonl", "POST", "/api/w/test/jobs/run/preview")["body_json"]
    mod = "f/demo/my_workflow__mod"
    files = {"f/demo/my_workflow.py": wanted["content"],
             **{f"{mod}/{k}": m["content"] for k, m in wanted["modules"].items()},
             MANIFEST: json.dumps({"entry": "f/demo/my_workflow.py", "module_dir": mod})}

    backend.run_preview(Bundle(files=files, entry="f/demo/my_workflow.py"), wanted["path"], wanted["args"])

    assert wm.calls("runScriptPreview")[0].json() == wanted


def test_script_run_sends_the_recorded_run_request_of_fx28(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wanted = one("fx28-script-run.requests.jsonl", "POST", "/api/w/test/jobs/run/p/f/demo/my_workflow")
    backend.deploy(NewScript(path="f/demo/my_workflow", content="def main(x):\n    return x\n"))

    backend.run_script("f/demo/my_workflow", wanted["body_json"])

    sent = wm.calls("runScriptByPath")[0]
    assert (sent.path, sent.query, sent.json()) == (wanted["path"], {}, wanted["body_json"])


def test_the_export_query_is_the_one_wmill_sync_sends(backend: WindmillBackend, wm: FakeWindmill) -> None:
    wanted = one("fx30-sync-push.requests.jsonl", "GET", "/api/w/test/workspaces/tarball")
    backend.list_scripts()
    assert wm.calls("tarballWorkspace")[0].query == {k: [v] for k, v in wanted["query"].items()}


@pytest.mark.parametrize("name", sorted(p.name for p in RECORDED.glob("*.requests.jsonl")))
def test_recorded_wmill_requests_validate_against_the_contract(name: str) -> None:
    checked = 0
    for req in recorded(name):
        if contract.match(req["method"], req["path"]) is None:
            continue  # whoami, list_ws_specific … : calls wac does not make, so not in wac-operations.yaml
        body = json.dumps(req["body_json"]).encode() if "body_json" in req else b""
        query = {k: [v] for k, v in req["query"].items()}
        _, _, problems = contract.request_violations(req["method"], req["path"], query,
                                                     req["headers"].get("Content-Type", ""), body)
        assert problems == [], req
        checked += 1
    assert checked >= 2
