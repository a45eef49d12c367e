"""Who may see what: the login token of the runs pages, and anti-forgery tokens for POSTs.

The runs pages need the server's login token (printed as a login link at start, or kept in
``--token-file``); ``/login?token=…`` turns it into an HttpOnly, SameSite=Strict cookie holding
an HMAC of it, never the token itself. An approval page needs only its URL's secret. Every POST
carries a ``csrf`` field: an HMAC, under a key drawn when the server starts, of what the page was
for (the session, or the approval secret's hash); a request from another origin is refused too.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

COOKIE = "wac_session"


class Access:
    def __init__(self, login_token: str, public_origin: str | None = None) -> None:
        self.login_token = login_token
        self._key = secrets.token_bytes(32)
        # behind a reverse proxy the browser's Origin is the public one (--base-url), not Host
        self._public = public_origin.rstrip("/").split("://", 1)[-1].split("/", 1)[0] if public_origin else None

    def _mac(self, what: str) -> str:
        return hmac.new(self._key, what.encode(), hashlib.sha256).hexdigest()

    def token_ok(self, token: str | None) -> bool:
        return bool(token) and secrets.compare_digest(str(token).encode(), self.login_token.encode())

    def session_value(self) -> str:
        return self._mac("session:" + self.login_token)

    def signed_in(self, request: Any) -> bool:
        cookie = request.cookies.get(COOKIE, "")
        if cookie and secrets.compare_digest(cookie.encode(), self.session_value().encode()):
            return True
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and self.token_ok(auth[7:].strip())

    def csrf(self, scope: str) -> str:
        return self._mac("csrf:" + scope)

    def csrf_ok(self, request: Any, form: Any, scope: str) -> bool:
        origin = request.headers.get("origin")
        if origin and origin != "null":
            seen = origin.split("://", 1)[-1]
            if seen != request.headers.get("host", "") and seen != self._public:
                return False
        sent = str(form.get("csrf") or "")
        return bool(sent) and secrets.compare_digest(sent.encode(), self.csrf(scope).encode())


async def read_form(request: Any, limit: int = 1 << 20) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` POST (the only kind the pages send);
    empty for anything else or a body over ``limit`` bytes."""
    from urllib.parse import parse_qsl

    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    body = await request.body()
    if len(body) > limit:
        return {}
    return dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
