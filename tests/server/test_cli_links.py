"""`wac job approve|reject|get` with the links of get_resume_urls() (issue 11 items 10-12, issue 15)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.clirun import wac
from tests.server.serverrun import start_gate

pytestmark = pytest.mark.slow


def test_links_without_a_base_url_use_wac_scheme_and_each_kind_does_only_its_part(repo: Path) -> None:
    run = start_gate(repo, None)
    try:
        urls, alice = run.links["any"], run.links["alice"]
        assert all(u.startswith(f"wac://local/jobs/{run.job_id}/approvals/approval") for u in urls.values())
        before = wac("job", "get", run.job_id, "--json", cwd=repo).json()["status"]
        r = wac("job", "approve", urls["cancel"], "--value", '{"amount": 1, "tier": "gold"}', cwd=repo, code=2)
        assert r.stderr.startswith("error: a cancel link only rejects")
        r = wac("job", "reject", urls["resume"], cwd=repo, code=2)
        assert r.stderr.startswith("error: a resume link only approves")
        # the path says resume, the secret is the cancel link's: refused by the secret
        forged = urls["cancel"].replace("/cancel?", "/resume?")
        r = wac("job", "approve", forged, "--value", '{"amount": 1, "tier": "gold"}', cwd=repo, code=1)
        assert "cannot approve" in r.stderr
        # the approver bound to a link cannot be swapped, in the URL or with --approver
        swapped = alice["resume"].replace("approver=alice", "approver=alic0")
        assert "bound to approver 'alice'" in wac("job", "approve", swapped, "--value", '{"amount": 1, "tier": "gold"}',
                                                  cwd=repo, code=1).stderr
        assert "bound" in wac("job", "approve", alice["resume"], "--approver", "bob",
                              "--value", '{"amount": 1, "tier": "gold"}', cwd=repo, code=1).stderr
        # a value that breaks the form, through the CLI too
        for bad in ('{"amount": 1}', '{"amount": 1, "tier": "bronze"}', '{"amount": 0, "tier": "gold"}', "3"):
            r = wac("job", "approve", urls["resume"], "--value", bad, cwd=repo, code=2)
            assert r.stderr.startswith("error: the value does not fit the form") and "hint:" in r.stderr
        assert wac("job", "get", run.job_id, "--json", cwd=repo).json()["status"] == before == "suspended"
        wac("job", "approve", alice["resume"], "--value", '{"amount": 7, "tier": "gold"}', cwd=repo)
        code, out, err = run.finish()
        assert code == 0, err
        assert json.loads(out)["decision"] == {"value": {"amount": 7, "tier": "gold"}, "approver": "alice",
                                               "approved": True}
    finally:
        run.kill()


def test_job_get_shows_the_waiting_approval_its_form_and_fresh_working_links(repo: Path) -> None:
    run = start_gate(repo, None)
    try:
        doc = wac("job", "get", run.job_id, "--json", cwd=repo).json()
        approval = doc["approval"]
        assert approval["key"] == "approval" and approval["description"] == "Refund for ada"
        assert approval["form"]["required"] == ["amount", "tier"]
        assert set(approval["links"]) == {"approvalPage", "resume", "cancel"}
        text = wac("job", "get", run.job_id, cwd=repo).stdout
        assert "approval" in text and "resume" in text
        wac("job", "reject", approval["links"]["cancel"], "--approver", "carol", cwd=repo)
        code, out, err = run.finish()
        assert code == 0, err
        assert json.loads(out)["decision"] == {"value": None, "approver": "carol", "approved": False}
    finally:
        run.kill()


def test_the_store_keeps_only_a_hash_per_link_and_no_job_secret(repo: Path) -> None:
    """What the store holds about links: one SHA-256 per URL, its action and bound approver.
    (The workflow itself keeps its URLs in its step value and task logs: its own data.)"""
    import hashlib

    run = start_gate(repo, None)
    try:
        with sqlite3.connect(repo / ".wac" / "wac.db") as conn:
            secrets = conn.execute("SELECT DISTINCT secret FROM jobs").fetchall()
            rows = set(conn.execute("SELECT hash, action, approver FROM approval_tokens WHERE job_id = ?",
                                    (run.job_id,)).fetchall())
        assert secrets == [("",)]
        expected = set()
        for who, urls in run.links.items():
            for name, action in (("approvalPage", "page"), ("resume", "resume"), ("cancel", "cancel")):
                token = urls[name].split("token=")[1].split("&")[0]
                expected.add((hashlib.sha256(token.encode()).hexdigest(), action, "alice" if who == "alice" else None))
        assert rows == expected
    finally:
        run.kill()


FORMED = """
    from wac import wait_for_approval, workflow

    @workflow
    async def main():
        form = {"properties": {"amount": {"type": "integer", "default": 5},
                               "tier": {"type": "string", "enum": ["a", "b"]{extra}}},
                "required": ["amount", "tier"]}
        return await wait_for_approval(timeout=600, form=form)
"""


def test_preview_approve_answers_a_form_with_its_defaults_and_refuses_a_form_they_do_not_fill(repo: Path, write) -> None:
    write("f/s/ok.py", FORMED.replace("{extra}", ', "default": "b"'))
    out = wac("script", "preview", "f/s/ok.py", "--approve", "--json", cwd=repo).json()
    assert out["result"]["value"] == {"amount": 5, "tier": "b"}
    write("f/s/no.py", FORMED.replace("{extra}", ""))
    r = wac("script", "preview", "f/s/no.py", "--approve", cwd=repo, code=2)
    assert "tier: required" in r.stderr and "hint:" in r.stderr
