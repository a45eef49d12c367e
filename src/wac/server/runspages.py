"""The runs pages (login token needed): the list, a run's graph (live over server-sent events),
a job's logs, cancel, and fresh links for a waiting approval."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from wac.engine import approvals
from wac.errors import ConflictError, JobNotFoundError
from wac.server.access import read_form
from wac.server.graph import run_graph

if TYPE_CHECKING:
    from wac.server.app import Context

STATUSES = ("queued", "running", "waiting", "suspended", "succeeded", "failed", "cancelled")
PAGE_SIZE = 50


class RunsPages:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _guard(self, request: Request) -> Response | None:
        if self.ctx.access.signed_in(request):
            return None
        return self.ctx.refuse(request, "Sign in with the login link `wac server` printed.", 401)

    async def login(self, request: Request) -> Response:
        if not self.ctx.access.token_ok(request.query_params.get("token")):
            return self.ctx.refuse(request, "This login link is not valid.", 401)
        resp = RedirectResponse("/runs", status_code=303)
        resp.set_cookie("wac_session", self.ctx.access.session_value(), httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
        return resp

    async def list(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        q = request.query_params
        status = q.get("status") or None
        script = q.get("script") or None
        before = int(q["before"]) if (q.get("before") or "").isdigit() else None
        rows = await run_in_threadpool(self.ctx.store.list_runs, status=status, script=script, before=before,
                                       limit=PAGE_SIZE + 1)
        more = len(rows) > PAGE_SIZE
        rows = rows[:PAGE_SIZE]
        older = None
        if more:
            params = {k: v for k, v in (("status", status), ("script", script)) if v}
            older = "/runs?" + urlencode({**params, "before": rows[-1][0]})
        if q.get("format") == "json":
            return JSONResponse({"runs": [_row(j) for _, j in rows], "older": older})
        return self.ctx.render(request, "runs.html", {
            "runs": [_row(j) for _, j in rows], "older": older, "status": status or "", "script": script or "",
            "statuses": STATUSES,
        })

    def _graph(self, root_id: str) -> dict[str, Any] | None:
        store = self.ctx.store
        return run_graph(store, root_id, store.now())

    async def run(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        graph = await run_in_threadpool(self._graph, request.path_params["run_id"])
        if graph is None:
            return self.ctx.refuse(request, "No such run.", 404)
        return self.ctx.render(request, "run.html", {
            "graph_json": json.dumps(graph, separators=(",", ":")).replace("</", "<\\/"), "root": graph["jobs"][graph["root"]],
            "csrf": self.ctx.access.csrf("runs"),
        })

    async def graph(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        graph = await run_in_threadpool(self._graph, request.path_params["run_id"])
        return JSONResponse(graph) if graph is not None else JSONResponse({"error": "no such run"}, 404)

    async def events(self, request: Request) -> Response:
        """Server-sent events: the run's JSON each time a commit changed it."""
        if (refused := self._guard(request)) is not None:
            return refused
        run_id = request.path_params["run_id"]
        store = self.ctx.store

        def next_graph(last: str) -> str:
            """The run's JSON once it differs from ``last`` (or after 10 s, for a keep-alive)."""
            deadline = time.monotonic() + 10
            while True:
                token = store.change_token()
                graph = self._graph(run_id)
                if graph is not None:
                    graph.pop("now", None)
                text = json.dumps(graph, separators=(",", ":"))
                if text != last or time.monotonic() > deadline or self.ctx.stopping:
                    return text
                store.wait_for_change(run_id, 1.0, token)

        async def stream() -> AsyncIterator[str]:
            last = ""
            yield "retry: 1000\n\n"
            while not self.ctx.stopping:
                text = await run_in_threadpool(next_graph, last)
                if await request.is_disconnected():
                    return
                if text == "null":
                    yield "event: gone\ndata: {}\n\n"
                    return
                if text != last:
                    last = text
                    now = json.dumps(store.now())
                    yield f"event: graph\ndata: {text[:-1]}, \"now\": {now}}}\n\n"
                else:
                    yield ": keep-alive\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream",
                                 headers={"cache-control": "no-store", "x-accel-buffering": "no"})

    async def logs(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        job_id = request.path_params["job_id"]
        try:
            lines = await run_in_threadpool(self.ctx.store.read_logs, job_id)
        except JobNotFoundError:
            return PlainTextResponse("no such job", 404)
        return PlainTextResponse("".join(line.text for line in lines))

    async def cancel(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        form = await read_form(request)
        if not self.ctx.access.csrf_ok(request, form, "runs"):
            return self.ctx.refuse(request, "This request did not come from the run page.", 403)
        run_id = request.path_params["run_id"]
        try:
            await run_in_threadpool(self.ctx.store.cancel, run_id, "cancelled from wac server")
        except JobNotFoundError:
            return self.ctx.refuse(request, "No such run.", 404)
        return RedirectResponse(f"/runs/{run_id}", status_code=303)

    async def links(self, request: Request) -> Response:
        """Fresh links for the approval a job of the run waits on (JSON)."""
        if (refused := self._guard(request)) is not None:
            return refused
        form = await read_form(request)
        if not self.ctx.access.csrf_ok(request, form, "runs"):
            return JSONResponse({"error": "anti-forgery check failed"}, 403)
        job_id, key = request.path_params["job_id"], request.path_params["key"]
        try:
            urls = await run_in_threadpool(approvals.mint_waiting, self.ctx.store, self.ctx.workspace, job_id, key)
        except ConflictError as exc:
            return JSONResponse({"error": exc.message}, 409)
        base = self.ctx.public_base(request)
        return JSONResponse({k: _absolute(v, base) for k, v in urls.items()})


def _absolute(url: str, base: str) -> str:
    """A ``wac://`` link becomes a link of this server when no base URL is set."""
    if url.startswith(approvals.SCHEME + "://"):
        rest = url.split("://", 1)[1]
        return base + rest[rest.index("/"):]
    return url


def _row(job: Any) -> dict[str, Any]:
    return {"id": job.id, "status": job.status, "script": job.script_path or job.entry, "created": job.created_at,
            "started": job.started_at, "finished": job.finished_at,
            "duration": (job.finished_at - job.started_at) if job.finished_at and job.started_at else None}
