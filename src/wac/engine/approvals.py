"""Approval secrets and resume URLs.

Every call of ``get_resume_urls()`` / ``get_approval_urls()`` draws three fresh random secrets,
one per URL, and the store keeps only their SHA-256 (``approval_tokens``), each with what it
may do and the approver it is bound to:

- ``approvalPage`` — its secret may approve or reject (the page has both buttons);
- ``resume`` — its secret may only approve;
- ``cancel`` — its secret may only reject.

Nothing in the store derives a secret, so a copy of ``wac.db`` holds no working URL. Every URL
handed out stays valid until its approval is resolved (a replayed round hands out new URLs; the
old ones, maybe already emailed by a step, still work). The approver given to
``get_resume_urls(approver=…)`` is stored with the hash: a URL whose ``approver=`` was changed
is refused.

With a base URL (``WAC_BASE_URL``, ``WM_BASE_URL`` or the store's ``base_url`` setting, set by
``wac server --base-url``) the URLs are ``http(s)`` URLs of ``wac server``; otherwise they use
the ``wac://`` scheme, answered by ``wac job approve URL`` / ``wac job reject URL``. Stdlib
only: the round process imports this.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

from wac.errors import UsageError

if TYPE_CHECKING:
    from wac.engine.store.base import Store

SCHEME = "wac"
PAGE, RESUME, CANCEL = "page", "resume", "cancel"
# What each kind of secret may do.
ALLOWS = {PAGE: frozenset({True, False}), RESUME: frozenset({True}), CANCEL: frozenset({False})}


def new_secret() -> str:
    """A fresh approval secret: 32 random bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedUrls:
    """URLs for one approval, and the ``(hash, action)`` rows the store must keep for them."""

    urls: dict[str, str]
    rows: list[tuple[str, str]]


def issue(base: str | None, workspace: str, job_id: str, key: str, approver: str | None) -> IssuedUrls:
    """Fresh ``{approvalPage, resume, cancel}`` URLs for one approval (shaped like Windmill's)."""
    prefix = (base.rstrip("/") if base else f"{SCHEME}://{quote(workspace, safe='')}")
    where = f"{prefix}/jobs/{quote(job_id, safe='')}/approvals/{quote(key, safe='')}"
    suffix = "&approver=" + quote(approver, safe="") if approver else ""
    urls: dict[str, str] = {}
    rows: list[tuple[str, str]] = []
    for name, action, tail in (("approvalPage", PAGE, ""), ("resume", RESUME, "/resume"),
                               ("cancel", CANCEL, "/cancel")):
        secret = new_secret()
        urls[name] = f"{where}{tail}?token={secret}{suffix}"
        rows.append((token_hash(secret), action))
    return IssuedUrls(urls, rows)


@dataclass(frozen=True)
class ParsedUrl:
    job_id: str
    key: str
    token: str
    approver: str | None
    action: str  # PAGE | RESUME | CANCEL, from the path


def parse_resume_url(url: str) -> ParsedUrl:
    """The parts of a URL made by :func:`issue` (``wac://`` or ``http(s)://``)."""
    parts = urlsplit(url)
    segs = [unquote(s) for s in parts.path.split("/") if s]
    query: dict[str, str] = {}
    for pair in parts.query.split("&"):
        if "=" in pair:
            name, _, val = pair.partition("=")
            query[name] = unquote(val)
    action = PAGE
    if segs and segs[-1] in (RESUME, CANCEL):
        action = segs.pop()
    ok = parts.scheme in (SCHEME, "http", "https") and len(segs) >= 4 and segs[-4] == "jobs" \
        and segs[-2] == "approvals" and bool(query.get("token"))
    if not ok:
        raise UsageError(f"not a wac approval URL: {url}", hint="pass a job id or a URL from get_resume_urls()")
    return ParsedUrl(segs[-3], segs[-1], query["token"], query.get("approver") or None, action)


def base_url_from_env() -> str | None:
    """``WAC_BASE_URL``, else Windmill's ``WM_BASE_URL``, else None."""
    import os

    for name in ("WAC_BASE_URL", "WM_BASE_URL"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    return None


def check_base_url(url: str) -> str:
    """``url`` without its trailing slash, or a UsageError when it is not an http(s) URL."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise UsageError(f"not an http(s) base URL: {url}", hint="e.g. --base-url https://wac.example.com")
    return url.rstrip("/")


def base_url_of(store: Store) -> str | None:
    """The base URL resume URLs use with this store: the environment's, else its setting."""
    return base_url_from_env() or store.get_setting("base_url")


def mint_waiting(store: Store, workspace: str, job_id: str, key: str) -> dict[str, str]:
    """Fresh URLs for the approval a suspended job waits on, their hashes kept in ``store``."""
    issued = issue(base_url_of(store), workspace, job_id, key, None)
    store.add_waiting_approval_tokens(job_id, key, issued.rows)
    return issued.urls
