"""What a failure of the server, the network or the credentials becomes: one wac error with its
exit code, a message naming the workspace, a hint, and never the token."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.backend import NewScript, open_backend
from wac.engine.remote.http import WindmillHTTP
from wac.engine.remote.windmill import WindmillBackend
from wac.errors import AuthError, NetworkError, RejectedError, WacError, WorkspaceError
from wac.workspaces import WorkspaceConfig

WF = "f/demo/wf"


def assert_clean(err: WacError, token: str) -> None:
    text = f"{err.message} {err.hint or ''}"
    assert token not in text and "Traceback" not in text


def test_a_wrong_token_is_an_auth_error_with_the_add_hint(wm: FakeWindmill, opened: list[WindmillBackend]) -> None:
    backend = WindmillBackend("prod", wm.url, "test", "wrong-token-123")
    opened.append(backend)
    with pytest.raises(AuthError) as info:
        backend.get_script(WF)
    assert info.value.exit_code == 3
    assert "workspace 'prod' refused the token" in info.value.message
    assert info.value.hint is not None and f"wac workspace add prod {wm.url} --token" in info.value.hint
    assert_clean(info.value, "wrong-token-123")


def test_without_a_token_anonymous_reads_work_and_the_first_401_asks_for_one(
        wm: FakeWindmill, backend: WindmillBackend, opened: list[WindmillBackend]) -> None:
    backend.deploy(NewScript(path=WF, content="x = 1\n"))
    job_id = backend.run_script(WF, {})
    anonymous = WindmillBackend.from_config(WorkspaceConfig("test", wm.url))
    opened.append(anonymous)

    assert anonymous.get_job(job_id).id == job_id  # jobs_u routes take anonymous calls
    with pytest.raises(AuthError, match="workspace 'test' needs a token") as info:
        anonymous.get_script(WF)
    assert "--token" in (info.value.hint or "")
    assert "authorization" not in wm.calls("getJob")[-1].headers


def test_a_stopped_server_is_a_network_error_naming_the_url(wm: FakeWindmill, backend: WindmillBackend) -> None:
    backend.deploy(NewScript(path=WF, content="x = 1\n"))  # a kept-alive connection to a live server
    wm.stop()
    with pytest.raises(NetworkError) as info:
        backend.get_script(WF)
    assert info.value.exit_code == 7 and wm.url in info.value.message and "prod" in info.value.message
    assert "check the URL" in (info.value.hint or "")
    assert_clean(info.value, wm.token)


def test_nothing_listening_is_a_network_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with WindmillBackend("prod", f"http://127.0.0.1:{port}", "test", "tok-abc") as backend, pytest.raises(NetworkError, match=f"cannot reach workspace 'prod' at http://127.0.0.1:{port}: connection refused"):
        backend.list_jobs()


@pytest.mark.parametrize("status", [400, 403, 409, 422])
def test_a_rejection_is_exit_4_with_the_servers_text(wm: FakeWindmill, backend: WindmillBackend, status: int) -> None:
    wm.fail["createScript"] = (status, f"Path conflict for {WF} with non-archived hash 0123456789abcdef")
    with pytest.raises(RejectedError) as info:
        backend.deploy(NewScript(path=WF, content="x = 1\n"))
    assert info.value.exit_code == 4
    assert f"workspace 'prod' rejected POST scripts/create ({status}: Path conflict for {WF}" in info.value.message


def test_a_server_error_is_a_workspace_error(wm: FakeWindmill, backend: WindmillBackend) -> None:
    wm.fail["getScriptByPath"] = (500, "database is down")
    with pytest.raises(WorkspaceError, match=r"failed on GET scripts/get/p/f/demo/wf \(500: database is down\)") as info:
        backend.get_script(WF)
    assert info.value.exit_code == 5


def test_an_unknown_workspace_id_is_a_workspace_error(wm: FakeWindmill, opened: list[WindmillBackend]) -> None:
    backend = WindmillBackend.from_config(WorkspaceConfig("staging", wm.url, wm.token))  # id = the name
    opened.append(backend)
    with pytest.raises(WorkspaceError, match="workspace 'staging' has no GET scripts/list") as info:
        backend.list_scripts()
    assert info.value.exit_code == 5 and "workspace id 'staging'" in (info.value.hint or "")


def test_open_backend_opens_a_windmill_workspace_by_url(wm: FakeWindmill, opened: list[WindmillBackend]) -> None:
    backend = open_backend(WorkspaceConfig("prod", wm.url + "/", wm.token, "test"), None)
    opened.append(backend)
    assert isinstance(backend, WindmillBackend) and backend.workspace_id == "test" and backend.name == "prod"
    assert backend.list_scripts() == []
    assert wm.calls("listScripts")[0].path == "/api/w/test/scripts/list"  # no double slash


def _http(handler: object, token: str = "tok-secret-9") -> WindmillHTTP:
    return WindmillHTTP("prod", "https://wm.example.com/", "test", token,
                        transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


def test_a_body_that_is_not_json_is_a_workspace_error() -> None:
    http = _http(lambda request: httpx.Response(200, text="<html>login page</html>"))
    with pytest.raises(WorkspaceError, match="answered GET scripts/list with something that is not JSON") as info:
        http.json("GET", "scripts/list")
    assert "https://wm.example.com" in (info.value.hint or "")


def test_the_token_never_shows_even_when_the_server_repeats_it() -> None:
    http = _http(lambda request: httpx.Response(403, text="token tok-secret-9 may not do this"))
    with pytest.raises(RejectedError) as info:
        http.json("GET", "scripts/list")
    assert "tok-secret-9" not in info.value.message and "token *** may not do this" in info.value.message


def test_a_timeout_is_a_network_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    with pytest.raises(NetworkError, match="did not answer in time") as info:
        _http(handler).json("GET", "scripts/list")
    assert info.value.exit_code == 7


def test_credentials_in_the_url_are_not_shown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    http = WindmillHTTP("prod", "https://bob:pw@wm.example.com", "test", None,
                        transport=httpx.MockTransport(handler))
    with pytest.raises(NetworkError, match="at https://wm.example.com: unknown host") as info:
        http.json("GET", "scripts/list")
    assert "pw" not in info.value.message


def test_a_redirect_is_a_workspace_error_naming_the_target() -> None:
    http = _http(lambda request: httpx.Response(301, headers={"location": "https://other.example.com/api"}))
    with pytest.raises(WorkspaceError, match="redirected GET scripts/list to https://other.example.com/api"):
        http.json("GET", "scripts/list")


def test_requests_carry_the_bearer_token_and_raw_slashes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    _http(handler).json("GET", "scripts/get/p/f/demo/my wf")
    assert seen[0].url.raw_path == b"/api/w/test/scripts/get/p/f/demo/my%20wf"
    assert seen[0].headers["authorization"] == "Bearer tok-secret-9"
