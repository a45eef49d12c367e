"""The approval page: ``/jobs/{job}/approvals/{key}[/resume|/cancel]?token=…``.

A GET only shows the page (a link preview in a chat client never decides anything); a POST
with the page's anti-forgery field approves or rejects. What a link may do comes from its secret
(see :mod:`wac.engine.approvals`), narrowed by its path: ``/resume`` only approves, ``/cancel``
only rejects."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from wac.engine import approvalform, approvals
from wac.errors import ArgsError, ConflictError, JobNotFoundError
from wac.server.access import read_form

if TYPE_CHECKING:
    from wac.server.app import Context

_PATH_ALLOWS = approvals.ALLOWS


class ApprovalPages:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _lookup(self, request: Request) -> tuple[dict[str, Any] | None, str, int]:
        """What the page needs, or ``(None, message, status)`` when the link does not open it."""
        store = self.ctx.store
        job_id, key = request.path_params["job_id"], request.path_params["key"]
        path_action = request.path_params.get("action") or approvals.PAGE
        token = request.query_params.get("token", "")
        approver = request.query_params.get("approver") or None
        if not token:
            return None, "This link has no secret.", 403
        try:
            action, bound = store.check_approval_secret(job_id, key, approvals.token_hash(token), approver)
            job = store.get_job(job_id)
        except (ConflictError, JobNotFoundError):
            return None, "This approval link is not valid: it may be incomplete, or changed.", 403
        allowed = sorted(_PATH_ALLOWS[action] & _PATH_ALLOWS[path_action], reverse=True)
        if not allowed:
            return None, "This link cannot be used here.", 403
        info = store.get_approval(job_id, key)
        extra = (info.form if info is not None else None) or {}
        schema = approvalform.schema_of(extra)
        root = store.get_job(job.root_id) if job.root_id != job.id else job
        return {
            "job": job, "root": root, "key": key, "token": token, "approver_bound": bound,
            "allowed": allowed, "path_action": path_action, "description": extra.get("description"),
            "fields": approvalform.fields(schema) if schema else [], "schema": schema,
            "waiting": job.status == "suspended" and job.suspended_key == key,
            "started_by": store.started_by(job_id), "timeline": store.timeline(job_id),
            "args": root.args, "csrf": self.ctx.access.csrf("approval:" + approvals.token_hash(token)),
            "decided": store.get_steps(job_id), "info": info,
        }, "", 200

    def _decision(self, page: dict[str, Any]) -> Any:
        for step in page["decided"]:
            if step.key == page["key"] and step.done:
                return step.value
        return None

    def _render(self, request: Request, page: dict[str, Any], status: int = 200, **extra: Any) -> Response:
        page = {**page, "decision": self._decision(page), "errors": [], "posted": {}, **extra}
        return self.ctx.render(request, "approval.html", page, status)

    async def show(self, request: Request) -> Response:
        page, message, status = await run_in_threadpool(self._lookup, request)
        if page is None:
            return self.ctx.refuse(request, message, status)
        return self._render(request, page)

    async def decide(self, request: Request) -> Response:
        page, message, status = await run_in_threadpool(self._lookup, request)
        if page is None:
            return self.ctx.refuse(request, message, status)
        form = await read_form(request)
        if not self.ctx.access.csrf_ok(request, form, "approval:" + approvals.token_hash(page["token"])):
            return self.ctx.refuse(request, "This request did not come from the approval page.", 403)
        decision = str(form.get("decision") or "")
        if decision not in ("approve", "reject"):
            return self.ctx.refuse(request, "Choose Approve or Reject.", 400)
        approved = decision == "approve"
        if approved not in page["allowed"]:
            return self.ctx.refuse(request, f"This link cannot {decision}.", 403)
        posted = form
        fields = {k[2:]: v for k, v in posted.items() if k.startswith("f_")}
        approver = page["approver_bound"] or (posted.get("approver") or "").strip() or None
        value: Any = None
        errors: list[str] = []
        if page["schema"] is not None and approved:
            value, errors = approvalform.from_strings(page["schema"], fields)
            errors += [] if errors else approvalform.problems(page["schema"], value)
        if errors:
            return self._render(request, page, 422, errors=errors, posted=fields)
        job_id, key = page["job"].id, page["key"]
        try:
            await run_in_threadpool(self.ctx.store.resume, job_id, key, approvals.token_hash(page["token"]),
                                    approved, value, approver)
        except ArgsError as exc:
            return self._render(request, page, 422, errors=[exc.message], posted=fields)
        except ConflictError as exc:
            return self.ctx.refuse(request, exc.message, 409)
        return RedirectResponse(str(request.url), status_code=303)
