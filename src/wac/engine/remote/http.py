"""The HTTP client of one Windmill workspace: its routes, bearer auth, and what a failure becomes.

Routes are ``{base}/api/w/{workspace_id}/{route}``; a Windmill path inside a route keeps its raw
slashes (``scripts/get/p/f/demo/wf``), as the server routes them. Failures become wac errors
(contract §1: error bodies are text/plain):

=====================================  ==========================================
cannot connect / DNS / timeout         NetworkError (7), naming the URL
401                                    AuthError (3), with the ``--token`` hint
400, 403, 409, 422 (and other 4xx)     RejectedError (4), with the server's text
404                                    the caller's ``not_found`` (a script or job
                                       lookup), else WorkspaceError (5)
3xx, 5xx, a body that is not JSON      WorkspaceError (5)
=====================================  ==========================================

No message ever carries the token: it is only in a header, and is blanked out of any server text
we repeat.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import quote

import httpx

from wac.errors import AuthError, NetworkError, RejectedError, WorkspaceError
from wac.workspaces import redact_url as shown_url

JsonValue = Any
NotFound = Callable[[str], NoReturn]  # raises the caller's error for a 404, given the server's text

_SHOWN_TEXT = 300  # characters of a server's error text repeated in a message
_UNSET: Any = object()


def raw_path(path: str) -> str:
    """A Windmill path as a route segment: slashes kept, anything else unusual %-encoded."""
    return quote(path, safe="/")


def segment(value: str) -> str:
    """One route segment (a job id, a hash, the workspace id)."""
    return quote(value, safe="")


class WindmillHTTP:
    """Requests to one workspace of a Windmill server."""

    def __init__(self, name: str, url: str, workspace_id: str, token: str | None, *,
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.name = name
        self.base = url.rstrip("/")
        self.workspace_id = workspace_id
        self._token = token or None
        headers = {"User-Agent": "wac"}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        self._client = httpx.Client(headers=headers, timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                    transport=transport, follow_redirects=False)

    @property
    def shown(self) -> str:
        return shown_url(self.base)

    def close(self) -> None:
        self._client.close()

    # ---- requests
    def request(self, method: str, route: str, *, params: dict[str, Any] | None = None,
                body: JsonValue = _UNSET, not_found: NotFound | None = None,
                timeout: float | None = None, form: dict[str, str] | None = None) -> httpx.Response:
        """Send ``method`` to ``route`` (relative to the workspace) and return a 2xx response
        (``form``: text fields sent as multipart/form-data, as a raw app's ``app``, ``js``, ``css``)."""
        url = f"{self.base}/api/w/{segment(self.workspace_id)}/{route}"
        kwargs: dict[str, Any] = {"params": params}
        if body is not _UNSET:
            kwargs["json"] = body
        if form is not None:
            kwargs["files"] = {name: (None, value.encode("utf-8")) for name, value in form.items()}
        if timeout is not None:
            kwargs["timeout"] = httpx.Timeout(timeout, connect=10.0)
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.UnsupportedProtocol:
            raise WorkspaceError(f"workspace '{self.name}' has an unusable URL: {self.shown}",
                                 hint=f"use https://host (re-add it: wac workspace add {self.name} URL --token …)") from None
        except httpx.TimeoutException:
            raise NetworkError(f"workspace '{self.name}' at {self.shown} did not answer in time ({method} {_bare(route)})",
                               hint="check the URL and that the server is up (wac workspace list)") from None
        except (httpx.TransportError, httpx.InvalidURL) as exc:
            raise NetworkError(f"cannot reach workspace '{self.name}' at {self.shown}: {_reason(exc)}",
                               hint="check the URL and that the server is up (wac workspace list)") from None
        if response.status_code >= 300:
            self._fail(response, method, route, not_found)
        return response

    def json(self, method: str, route: str, **kwargs: Any) -> JsonValue:
        """The JSON body of a 2xx answer (WorkspaceError when it is not JSON)."""
        response = self.request(method, route, **kwargs)
        try:
            return json.loads(response.content)
        except ValueError:
            raise WorkspaceError(
                f"workspace '{self.name}' answered {method} {_bare(route)} with something that is not JSON: "
                f"{self._excerpt(response)!r}",
                hint=f"check that {self.shown} is a Windmill server") from None

    def text(self, method: str, route: str, **kwargs: Any) -> str:
        return self.request(method, route, **kwargs).text

    # ---- failures
    def _excerpt(self, response: httpx.Response) -> str:
        try:
            text = response.text
        except (UnicodeDecodeError, LookupError):
            text = response.content.decode("utf-8", "replace")
        text = " ".join(text.split())
        if self._token:
            text = text.replace(self._token, "***")
        return text if len(text) <= _SHOWN_TEXT else text[:_SHOWN_TEXT] + "…"

    def _fail(self, response: httpx.Response, method: str, route: str, not_found: NotFound | None) -> NoReturn:
        status = response.status_code
        text = self._excerpt(response)
        what = f"{method} {_bare(route)}"
        said = f": {text}" if text else ""
        if status == 401:
            hint = f"wac workspace add {self.name} {self.shown} --token TOKEN"
            if self.workspace_id != self.name:
                hint += f" --workspace-id {self.workspace_id}"
            if self._token:
                raise AuthError(f"workspace '{self.name}' refused the token{said}", hint=f"set a valid token: {hint}")
            raise AuthError(f"workspace '{self.name}' needs a token for {what}{said}", hint=f"add one: {hint}")
        if status == 404 and not_found is not None:
            not_found(text)
        if status == 404:
            raise WorkspaceError(
                f"workspace '{self.name}' has no {what} (404{said})",
                hint=f"check its workspace id '{self.workspace_id}' and URL {self.shown}; fix them with: "
                     f"wac workspace add {self.name} URL --token … --workspace-id ID")
        if 300 <= status < 400:
            where = response.headers.get("location", "elsewhere")
            raise WorkspaceError(f"workspace '{self.name}' redirected {what} to {shown_url(where)}",
                                 hint=f"use the server's own URL: wac workspace add {self.name} URL --token …")
        if status >= 500:
            raise WorkspaceError(f"workspace '{self.name}' failed on {what} ({status}{said})",
                                 hint="the server had an error; retry, or check its logs")
        raise RejectedError(f"workspace '{self.name}' rejected {what} ({status}{said})")


def _bare(route: str) -> str:
    return route.split("?", 1)[0]


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    lowered = text.lower()
    if "refused" in lowered:
        return "connection refused"
    if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
        return "unknown host"
    return text or type(exc).__name__
