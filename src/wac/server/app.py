"""The ASGI app of ``wac server`` and the loop that serves it."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from wac.server.access import Access
from wac.server.approvalpage import ApprovalPages
from wac.server.runspages import RunsPages
from wac.timeformat import duration, local_time

HERE = Path(__file__).parent


def _when(ts: float | None) -> str:
    return local_time(ts, none="")


class Context:
    """What every page shares: the store, access checks, templates."""

    def __init__(self, store: Any, workspace: str, access: Access, base_url: str | None) -> None:
        self.store = store
        self.workspace = workspace
        self.access = access
        self.base_url = base_url
        self.stopping = False
        self.env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]))
        self.env.filters["when"] = _when
        self.env.filters["took"] = duration

    def render(self, request: Request, name: str, data: dict[str, Any], status: int = 200) -> Response:
        html = self.env.get_template(name).render(workspace=self.workspace, **data)
        return HTMLResponse(html, status, headers={"cache-control": "no-store", "referrer-policy": "no-referrer",
                                                   "x-frame-options": "DENY"})

    def refuse(self, request: Request, message: str, status: int) -> Response:
        return self.render(request, "refused.html", {"message": message, "status": status}, status)

    def public_base(self, request: Request) -> str:
        return self.base_url or f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}"


class _AccessLog:
    """One stderr line per request: method, path (never the query: it carries secrets), status, time."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = [0]

        async def send_status(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                print(f"{scope['method']} {scope['path']} {status[0]} {(time.perf_counter() - start) * 1000:.1f}ms",
                      file=sys.stderr, flush=True)
            await send(message)

        await self.app(scope, receive, send_status)


def build_app(ctx: Context) -> Any:
    approvals = ApprovalPages(ctx)
    runs = RunsPages(ctx)
    where = "/jobs/{job_id}/approvals/{key}"

    async def home(request: Request) -> Response:
        return RedirectResponse("/runs", status_code=303)

    routes = [
        Route("/", home),
        Route("/login", runs.login),
        Route("/runs", runs.list),
        Route("/runs/{run_id}", runs.run),
        Route("/runs/{run_id}/graph", runs.graph),
        Route("/runs/{run_id}/events", runs.events),
        Route("/runs/{run_id}/cancel", runs.cancel, methods=["POST"]),
        Route("/runs/{run_id}/jobs/{job_id}/logs", runs.logs),
        Route("/runs/{run_id}/jobs/{job_id}/approvals/{key}/links", runs.links, methods=["POST"]),
        Route(where, approvals.show, methods=["GET"]),
        Route(where, approvals.decide, methods=["POST"]),
        Route(where + "/{action:str}", approvals.show, methods=["GET"]),
        Route(where + "/{action:str}", approvals.decide, methods=["POST"]),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(routes=routes)
    return _AccessLog(app)


def serve(ctx: Context, host: str, port: int, token_shown: bool) -> None:
    """Bind, print the address and login link on stdout, and serve until interrupted."""
    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms Nagle stalls on kept-alive connections
    sock.bind((host, port))
    sock.listen(128)
    bound = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{bound}"
    print(f"listening {url}", flush=True)
    print(f"login {url}/login" + (f"?token={ctx.access.login_token}" if token_shown else "  (token in --token-file)"),
          flush=True)
    config = uvicorn.Config(build_app(ctx), log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    try:
        server.run(sockets=[sock])
    finally:
        ctx.stopping = True
        sock.close()
