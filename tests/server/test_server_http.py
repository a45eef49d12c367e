"""`wac server` over HTTP: the real server in a subprocess, a real run waiting for approval."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.clirun import SRC, wac
from tests.server.serverrun import Run, Server, start_gate, start_server

pytestmark = pytest.mark.slow


@pytest.fixture
def server(repo: Path):
    srv = start_server(repo)
    yield srv
    srv.stop()


@pytest.fixture
def gate(repo: Path, server: Server):
    run = start_gate(repo, server.url)
    yield run
    run.kill()


def _state(repo: Path, job_id: str) -> tuple:
    with sqlite3.connect(repo / ".wac" / "wac.db") as conn:
        return (conn.execute("SELECT status, suspended_key FROM jobs WHERE id = ?", (job_id,)).fetchone(),
                conn.execute("SELECT key, done, value FROM steps WHERE job_id = ? ORDER BY seq", (job_id,)).fetchall())


def _csrf(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def _client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30, follow_redirects=False)


def test_resume_urls_are_http_links_of_the_server_each_with_its_own_secret(gate: Run, server: Server) -> None:
    urls = gate.links["any"]
    assert set(urls) == {"approvalPage", "resume", "cancel"}
    for url in urls.values():
        assert url.startswith(f"{server.url}/jobs/{gate.job_id}/approvals/approval")
    tokens = {re.search(r"token=([^&]+)", u).group(1) for u in urls.values()}
    assert len(tokens) == 3
    assert "approver=alice" in gate.links["alice"]["resume"]


def test_the_approval_page_shows_the_run_and_its_form_and_a_get_never_decides(
    repo: Path, gate: Run, server: Server
) -> None:
    before = _state(repo, gate.job_id)
    with _client(server) as http:
        for name in ("approvalPage", "resume", "cancel"):
            r = http.get(gate.links["any"][name])
            assert r.status_code == 200, r.text
        page = http.get(gate.links["any"]["approvalPage"]).text
    assert _state(repo, gate.job_id) == before
    facts = page[page.index('<table class="facts">'):page.index("<h2>Steps")]
    assert "f/s/gate" in facts and "Refund for ada" in facts and '"customer": "ada"' in facts, facts
    for key in ("links", "sleep"):
        assert f"<code>{key}" in page
    assert 'type="number" id="f_amount" name="f_amount" value="10" min="1" max="1000" required' in page
    assert '<option value="gold"' in page and 'type="checkbox" id="f_urgent"' in page
    assert 'id="approve"' in page and 'id="reject"' in page


def test_a_cancel_page_offers_only_reject_and_a_resume_page_only_approve(gate: Run, server: Server) -> None:
    with _client(server) as http:
        cancel = http.get(gate.links["any"]["cancel"]).text
        resume = http.get(gate.links["any"]["resume"]).text
    assert 'id="reject"' in cancel and 'id="approve"' not in cancel
    assert 'id="approve"' in resume and 'id="reject"' not in resume


def _post(http: httpx.Client, url: str, data: dict[str, str], csrf_from: str | None = None) -> httpx.Response:
    page = http.get(csrf_from or url)
    fields = {"csrf": _csrf(page.text), **data} if "csrf" not in data else data
    return http.post(url, data=fields)


def test_every_bad_request_is_refused_and_changes_nothing(repo: Path, gate: Run, server: Server) -> None:
    urls, alice = gate.links["any"], gate.links["alice"]
    good = {"decision": "approve", "f_amount": "5", "f_tier": "gold"}
    token = re.search(r"token=([^&]+)", urls["resume"]).group(1)
    before = _state(repo, gate.job_id)
    with _client(server) as http:
        wrong = urls["resume"].replace(token, token[:-1] + ("A" if token[-1] != "A" else "B"))
        truncated = urls["resume"].replace(token, token[:20])
        other = start_gate(repo, server.url)
        other.kill()
        other_token = re.search(r"token=([^&]+)", other.links["any"]["resume"]).group(1)
        for bad in (wrong, truncated, urls["resume"].replace(token, ""), urls["resume"].replace("/approval/", "/x/")):
            assert http.get(bad).status_code in (403, 404)
            assert http.post(bad, data={"csrf": "x", **good}).status_code in (403, 404)
        # another approval's secret: a run of its own, same workflow
        assert http.get(urls["resume"].replace(token, other_token)).status_code == 403
        assert http.post(urls["resume"].replace(token, other_token), data={"csrf": "x", **good}).status_code == 403
        # a cancel link used to approve, a resume link used to reject
        assert _post(http, urls["cancel"], good).status_code == 403
        assert _post(http, urls["resume"], {"decision": "reject"}).status_code == 403
        # a cancel link whose path was changed to /resume still cannot approve
        forged = urls["cancel"].replace("/cancel?", "/resume?")
        assert http.get(forged).status_code == 403
        # form values that break the schema
        for data in ({"f_amount": "5000", "f_tier": "gold"}, {"f_amount": "5", "f_tier": "bronze"},
                     {"f_amount": "x", "f_tier": "gold"}, {"f_tier": "gold"}):
            r = _post(http, urls["resume"], {"decision": "approve", **data})
            assert r.status_code == 422 and 'id="errors"' in r.text, data
        # no anti-forgery field, a wrong one, one from another approval link, a foreign origin
        assert http.post(urls["resume"], data=good).status_code == 403
        assert http.post(urls["resume"], data={"csrf": "0" * 64, **good}).status_code == 403
        other_csrf = _csrf(http.get(urls["approvalPage"]).text)
        assert http.post(urls["resume"], data={"csrf": other_csrf, **good}).status_code == 403
        csrf = _csrf(http.get(urls["resume"]).text)
        assert http.post(urls["resume"], data={"csrf": csrf, **good},
                         headers={"origin": "https://evil.example"}).status_code == 403
        # a link bound to alice, with the approver changed
        assert http.get(alice["resume"].replace("approver=alice", "approver=alic0")).status_code == 403
        # the runs pages without the token
        for path in ("/runs", f"/runs/{gate.job_id}", f"/runs/{gate.job_id}/graph",
                     f"/runs/{gate.job_id}/jobs/{gate.job_id}/logs", f"/runs/{gate.job_id}/events"):
            assert http.get(path).status_code == 401, path
        assert http.get("/runs", headers={"authorization": "Bearer nope"}).status_code == 401
        assert http.get("/login?token=nope").status_code == 401
        assert http.post(f"/runs/{gate.job_id}/cancel", data={"csrf": csrf}).status_code == 401
    assert _state(repo, gate.job_id) == before
    out = server.stop()
    for secret in [server.token, token, other_token] + [re.search(r"token=([^&]+)", u).group(1) for u in urls.values()]:
        assert secret not in out
    assert "GET /jobs/" in out


def test_approving_on_the_page_with_a_valid_form_finishes_the_run_with_typed_values(
    gate: Run, server: Server
) -> None:
    with _client(server) as http:
        r = _post(http, gate.links["alice"]["resume"],
                  {"decision": "approve", "f_amount": "25", "f_tier": "silver", "f_urgent": "on", "approver": "mallory"})
        assert r.status_code == 303
        shown = http.get(gate.links["alice"]["resume"]).text
    assert "Approved" in shown and "by alice" in shown
    code, out, err = gate.finish()
    assert code == 0, err
    decision = json.loads(out)["decision"]
    assert decision == {"value": {"amount": 25, "tier": "silver", "urgent": True},
                        "approver": "alice", "approved": True}


def test_rejecting_with_the_cancel_link_needs_no_form(gate: Run, server: Server) -> None:
    with _client(server) as http:
        r = _post(http, gate.links["any"]["cancel"], {"decision": "reject", "approver": "bob"})
        assert r.status_code == 303
    code, out, err = gate.finish()
    assert code == 0, err
    assert json.loads(out)["decision"] == {"value": None, "approver": "bob", "approved": False}


def _login(http: httpx.Client, server: Server) -> None:
    r = http.get(f"/login?token={server.token}")
    assert r.status_code == 303 and "wac_session" in r.headers["set-cookie"]
    assert server.token not in r.headers["set-cookie"]


def test_the_run_page_shows_the_graph_and_follows_it_live(repo: Path, gate: Run, server: Server) -> None:
    with _client(server) as http:
        _login(http, server)
        assert gate.job_id in http.get("/runs").text
        page = http.get(f"/runs/{gate.job_id}").text
        assert 'id="graph-data"' in page and "/static/run.js" in page
        assert http.get("/static/run.js").status_code == 200
        graph = http.get(f"/runs/{gate.job_id}/graph").json()
        root = graph["jobs"][gate.job_id]
        assert root["status"] == "suspended" and root["waiting_on"] == "approval" and root["version"]
        kinds = [s["kind"] for s in graph["steps"][gate.job_id]]
        assert kinds.count("task") == 4 and "sleep" in kinds and "approval" in kinds and "step" in kinds
        squares = [s for s in graph["steps"][gate.job_id] if s["key"].startswith("square")]
        assert len({graph["jobs"][s["child"]]["created"] for s in squares}) == 1  # one parallel batch
        sleep = next(s for s in graph["steps"][gate.job_id] if s["kind"] == "sleep")
        assert sleep["finished"] - sleep["started"] > 0.99  # its wake time
        notify = next(s for s in graph["steps"][gate.job_id] if s["key"].startswith("notify"))
        assert "LINKS" in http.get(f"/runs/{gate.job_id}/jobs/{notify['child']}/logs").text
        assert graph["approvals"][f"{gate.job_id}/approval"]["form"]["form"]["required"] == ["amount", "tier"]

        # fresh links from the run page, and the live stream seeing the approval land
        csrf = _csrf(page)
        assert http.post(f"/runs/{gate.job_id}/jobs/{gate.job_id}/approvals/approval/links", data={}).status_code == 403
        links = http.post(f"/runs/{gate.job_id}/jobs/{gate.job_id}/approvals/approval/links",
                          data={"csrf": csrf}).json()
        assert links["resume"].startswith(server.url)
        seen = []
        with http.stream("GET", f"/runs/{gate.job_id}/events", timeout=60) as events:
            approved = False
            for line in events.iter_lines():
                if not line.startswith("data: "):
                    continue
                status = json.loads(line[6:])["jobs"][gate.job_id]["status"]
                seen.append(status)
                if not approved:
                    wac("job", "approve", links["resume"], "--value", '{"amount": 3, "tier": "gold"}', cwd=repo)
                    approved = True
                if status == "succeeded":
                    break
        assert seen[0] == "suspended" and seen[-1] == "succeeded"
    assert gate.finish()[0] == 0


def test_cancel_from_the_run_page_needs_the_anti_forgery_field(repo: Path, gate: Run, server: Server) -> None:
    with _client(server) as http:
        _login(http, server)
        assert http.post(f"/runs/{gate.job_id}/cancel", data={}).status_code == 403
        assert _state(repo, gate.job_id)[0][0] == "suspended"
        csrf = _csrf(http.get(f"/runs/{gate.job_id}").text)
        assert http.post(f"/runs/{gate.job_id}/cancel", data={"csrf": csrf}).status_code == 303
    assert wac("job", "get", gate.job_id, "--json", cwd=repo).json()["status"] == "cancelled"


def test_the_runs_list_filters_by_status_and_script_and_pages_by_keyset(repo: Path, server: Server) -> None:
    from wac.engine.store import open_store
    from wac.engine.store.base import JobSpec

    store = open_store(f"sqlite:///{repo / '.wac' / 'wac.db'}")
    try:
        store.put_bundle("b", {"main.py": ""})
        ids = [store.submit(JobSpec(bundle_hash="b", entry="main.py", script_path=f"f/x/s{i % 2}", args={}))
               for i in range(120)]
        store.cancel(ids[0], "x")
    finally:
        store.close()
    with _client(server) as http:
        http.headers["authorization"] = f"Bearer {server.token}"
        first = http.get("/runs?format=json").json()
        assert [r["id"] for r in first["runs"]] == ids[::-1][:50]
        second = http.get(first["older"] + "&format=json").json()
        assert [r["id"] for r in second["runs"]] == ids[::-1][50:100]
        s0 = http.get("/runs?format=json&script=f/x/s0").json()["runs"]
        assert {r["script"] for r in s0} == {"f/x/s0"} and len(s0) == 50
        assert [r["id"] for r in http.get("/runs?format=json&status=cancelled").json()["runs"]] == [ids[0]]
        html = http.get("/runs?status=cancelled").text
        assert ids[0] in html and ids[1] not in html


def test_behind_a_proxy_a_post_from_the_base_url_origin_is_accepted_and_others_are_not(repo: Path) -> None:
    srv = start_server(repo, "--base-url", "https://wac.example.com")
    try:
        run = start_gate(repo, None)
        try:
            local = run.links["any"]["cancel"].replace("https://wac.example.com", srv.url)
            with _client(srv) as http:
                csrf = _csrf(http.get(local).text)
                data = {"csrf": csrf, "decision": "reject"}
                assert http.post(local, data=data, headers={"origin": "https://evil.example.com"}).status_code == 403
                assert http.post(local, data=data, headers={"origin": "https://wac.example.com"}).status_code == 303
            assert run.finish()[0] == 0
        finally:
            run.kill()
    finally:
        srv.stop()


def test_the_server_refuses_a_bad_base_url_and_keeps_a_good_one_for_the_workers(repo: Path) -> None:
    r = wac("server", "--base-url", "ftp://x", cwd=repo, code=2)
    assert r.stderr.startswith("error: not an http(s) base URL")
    srv = start_server(repo, "--base-url", "https://wac.example.com/")
    try:
        run = start_gate(repo, None)
        try:
            assert run.links["any"]["resume"].startswith(f"https://wac.example.com/jobs/{run.job_id}/approvals/")
            wac("job", "approve", run.links["any"]["resume"], "--value", '{"amount": 1, "tier": "gold"}', cwd=repo)
            assert run.finish()[0] == 0
        finally:
            run.kill()
    finally:
        srv.stop()


def test_importing_wac_or_running_other_commands_loads_no_server_stack(repo: Path) -> None:
    code = ("import sys, wac, wac.cli.app, wac.engine.worker, wac.engine.approvals, wac.engine.approvalform\n"
            "bad = [m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules]\n"
            "assert not bad, bad\n"
            "from wac.cli.app import main\n"
            "try:\n    main(['job', 'list', '--json'])\nexcept SystemExit:\n    pass\n"
            "bad = [m for m in ('starlette', 'uvicorn', 'jinja2') if m in sys.modules]\n"
            "assert not bad, bad\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60,
                       env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin", "WAC_CONFIG_DIR": str(repo / "cfg")})
    assert r.returncode == 0, r.stderr
    assert time.time() > 0
