"""Approval tokens and resume URLs.

Each approval gets its own secret: ``HMAC(job secret, job id + approval key)``. URLs carry the
token; the store keeps only its SHA-256, so a leaked database does not leak working URLs. The
embedded engine has no HTTP server, so its URLs use the ``wac://`` scheme and are answered with
``wac job approve URL`` / ``wac job reject URL``. Stdlib only: the round process imports this.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit

from wac.errors import UsageError

SCHEME = "wac"


def approval_token(job_secret: str, job_id: str, key: str) -> str:
    """The secret token of one approval of one job."""
    return hmac.new(job_secret.encode(), f"{job_id}/{key}".encode(), hashlib.sha256).hexdigest()[:40]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resume_urls(workspace: str, job_id: str, key: str, token: str, approver: str | None = None) -> dict[str, str]:
    """``{approvalPage, resume, cancel}`` for one approval, shaped like Windmill's answer."""
    base = f"{SCHEME}://{workspace}/jobs/{job_id}/approvals/{key}"
    suffix = f"?token={token}" + (f"&approver={approver}" if approver else "")
    return {
        "approvalPage": f"{base}{suffix}",
        "resume": f"{base}/resume{suffix}",
        "cancel": f"{base}/cancel{suffix}",
    }


def parse_resume_url(url: str) -> tuple[str, str, str, str | None]:
    """``(job_id, key, token, approver)`` from a URL made by :func:`resume_urls`."""
    parts = urlsplit(url)
    segs = [s for s in parts.path.split("/") if s]
    query = dict(p.split("=", 1) for p in parts.query.split("&") if "=" in p)
    if parts.scheme != SCHEME or len(segs) < 4 or segs[0] != "jobs" or segs[2] != "approvals" or "token" not in query:
        raise UsageError(f"not a wac approval URL: {url}", hint="pass a job id or a URL from get_resume_urls()")
    return segs[1], segs[3], query["token"], query.get("approver")
