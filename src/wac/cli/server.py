"""``wac server``: approval pages by link and the runs in a browser, over the workspace's store.

Starlette, uvicorn and Jinja2 are imported inside the command only."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer

from wac.cli import output


def register(app: typer.Typer) -> None:
    app.command("server")(server)


def _login_token(token_file: Path | None) -> tuple[str, bool]:
    """``(token, shown)``: the token kept in ``token_file`` (made 0600 with a fresh token when
    missing), else a fresh one printed in the login link."""
    from wac.errors import UsageError

    if token_file is None:
        return secrets.token_urlsafe(32), True
    try:
        text = token_file.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    except OSError as exc:
        raise UsageError(f"cannot read --token-file {token_file}: {exc.strerror}") from None
    if text:
        if len(text) < 16:
            raise UsageError(f"the token in {token_file} is too short", hint="use at least 16 characters")
        return text, False
    token = secrets.token_urlsafe(32)
    tmp = token_file.with_name(token_file.name + ".tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(token + "\n")
        os.replace(tmp, token_file)
    except OSError as exc:
        raise UsageError(f"cannot write --token-file {token_file}: {exc.strerror}") from None
    return token, False


def server(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port (0: any free port)."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Public http(s) root of this server; resume URLs use it (kept in the store)."),
    token_file: Path | None = typer.Option(
        None, "--token-file", help="File holding the login token of the runs pages (made, 0600, when missing)."),
) -> None:
    """Serve approval pages (by link) and the runs of the workspace in a browser."""
    from wac.cli.prepare import open_workspace
    from wac.engine import approvals
    from wac.engine.local_backend import LocalBackend
    from wac.errors import UsageError

    if base_url is not None:
        base_url = approvals.check_base_url(base_url)
    token, shown = _login_token(token_file)
    backend = open_workspace()
    if not isinstance(backend, LocalBackend):
        backend.close()
        raise UsageError(f"workspace '{backend.name}' is served by its own server",
                         hint="wac server serves embedded workspaces (the repo's .wac/wac.db or a sqlite:/// URL)")
    store = backend.store
    try:
        from wac.server.access import Access
        from wac.server.app import Context, serve

        if base_url is not None:
            store.set_setting("base_url", base_url)
        public = base_url or approvals.base_url_of(store)
        ctx = Context(store, backend.name, Access(token, public), public)
        output.info(f"serving workspace '{backend.name}'; resume URLs use "
                    f"{ctx.base_url or 'wac:// (no base URL: --base-url, WAC_BASE_URL)'}; Ctrl-C stops")
        try:
            serve(ctx, host, port, shown)
        except OSError as exc:
            raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror}",
                             hint="choose another --port (0 picks a free one)") from None
    finally:
        backend.close()
