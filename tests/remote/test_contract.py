"""The contract the fake enforces is real: the merged document resolves, and requests or answers
that break it are caught. Plus: httpx stays out of ``import wac``."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx

from tests.remote import contract
from tests.remote.fakewindmill import FakeWindmill


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_every_ref_of_the_merged_document_resolves() -> None:
    doc = contract.merged_document()
    refs = set(_refs(doc))
    assert "#/components/parameters/WorkspaceId" in refs and "#/components/schemas/ScriptLang" in refs
    for ref in refs:
        target: Any = doc
        for part in ref.removeprefix("#/").split("/"):
            assert part in target, f"{ref} does not resolve"
            target = target[part]


def test_the_corrections_are_merged_in() -> None:
    op, params = contract.match("GET", "/api/w/test/workspaces/tarball")  # type: ignore[misc]
    assert op.id == "tarballWorkspace" and params == {"workspace": "test"}
    create, _ = contract.match("POST", "/api/w/test/scripts/create")  # type: ignore[misc]
    assert "skip_if_noop" in create.parameters("query")
    queue, _ = contract.match("GET", "/api/w/test/jobs/queue/list")  # type: ignore[misc]
    assert "created_after" in queue.parameters("query")


def test_a_path_parameter_keeps_its_slashes_but_other_parameters_do_not() -> None:
    op, params = contract.match("GET", "/api/w/test/scripts/get/p/f/demo/deep/wf")  # type: ignore[misc]
    assert op.id == "getScriptByPath" and params["path"] == "f/demo/deep/wf"
    assert contract.match("GET", "/api/w/test/jobs_u/get/a/b") is None


def _call(wm: FakeWindmill, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {wm.token}"}
    return httpx.request(method, f"{wm.url}{path}", headers=headers, **kw)


def test_the_fake_records_requests_that_break_the_contract() -> None:
    wm = FakeWindmill().start()
    try:
        _call(wm, "GET", "/api/w/test/scripts/get/p/f/a/b", params={"bogus": "1"})
        _call(wm, "POST", "/api/w/test/scripts/create", json={"path": "f/a/b", "content": "x", "language": "py"})
        _call(wm, "GET", "/api/w/test/jobs_u/get/not-a-uuid")
        _call(wm, "POST", "/api/w/test/jobs/list")
        _call(wm, "POST", "/api/w/test/jobs_u/queue/cancel/01900000-0000-7000-8000-000000000001")
    finally:
        wm.stop()
    text = "\n".join(wm.violations)
    assert "undeclared query parameter 'bogus'" in text
    assert "'summary' is a required property" in text and "'py' is not one of" in text
    assert "path id='not-a-uuid'" in text
    assert "POST /api/w/test/jobs/list: no such operation" in text
    assert "the required body is missing" in text


def test_the_fake_answers_are_checked_too() -> None:
    op, _ = contract.match("GET", "/api/w/test/jobs_u/get/01900000-0000-7000-8000-000000000001")  # type: ignore[misc]
    problems = contract.response_violations(op, 200, "application/json", b'{"id": "x", "type": "QueuedJob"}')
    assert problems and any("is not valid under any of the given schemas" in p for p in problems)
    assert contract.response_violations(op, 404, "application/json", b"{}") == [
        f"GET {op.template} -> 404: an error answer must be text/plain, not 'application/json'"]


def test_import_wac_does_not_load_httpx() -> None:
    code = ("import sys, wac, wac.workspaces, wac.engine.backend; "
            "assert 'httpx' not in sys.modules, 'httpx imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
