"""The approval prompt of a preview on a terminal.

While a run waits in ``wait_for_approval()`` the preview asks on the terminal, with the live tree
stopped so the question is seen: what waits, its form (if any), its resume links, and then
``Approve? [y/n]`` and a value for each field of the form. The question is read without blocking:
between keystrokes the job is looked at, so a decision made elsewhere (``wac job approve`` from
another terminal, a resume URL) or the approval's timeout drops the prompt and the run goes on.
"""

from __future__ import annotations

import json
import os
import select
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wac.cli import output

if TYPE_CHECKING:
    from wac.engine.backend import PendingApproval


class Decided(Exception):
    """The approval was answered elsewhere (or timed out) while the prompt waited."""


def form_fields(form: Any) -> dict[str, dict[str, Any]]:
    """The fields of an approval form: Windmill's ``{"schema": {"properties": …}}`` or a bare
    JSON schema ``{"properties": …}``; ``{}`` when there is no form."""
    if not isinstance(form, dict):
        return {}
    schema = form.get("schema") if isinstance(form.get("schema"), dict) else form
    props = schema.get("properties") if isinstance(schema, dict) else None
    return {k: v if isinstance(v, dict) else {} for k, v in props.items()} if isinstance(props, dict) else {}


def read_line(prompt: str, still_waiting: Callable[[], bool], poll: float = 0.25) -> str:
    """One line typed on stdin after ``prompt`` (on stderr); raises Decided as soon as
    ``still_waiting()`` turns False, EOFError at the end of input."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    fd = sys.stdin.fileno()
    buf = b""
    while True:
        ready, _, _ = select.select([fd], [], [], poll)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                raise EOFError
            buf += chunk
            if b"\n" in buf or b"\r" in buf:
                return buf.splitlines()[0].decode("utf-8", "replace").strip()
        elif not still_waiting():
            _drop_typed_input(fd)
            sys.stderr.write("\n")
            raise Decided


def _drop_typed_input(fd: int) -> None:
    """Forget what was typed and not yet read, so it does not land in the shell afterwards."""
    try:
        import termios

        termios.tcflush(fd, termios.TCIFLUSH)
    except (ImportError, OSError):
        pass


def describe(job: Any, key: str, info: PendingApproval) -> list[str]:
    """The lines shown above the question."""
    lines = [f"⏸ {job.script_path} (job {job.id}) waits for approval '{key}'"]
    form = info.get("form") or {}
    if isinstance(form, dict) and form.get("description"):
        lines.append(f"  {form['description']}")
    fields = form_fields(form.get("form") if isinstance(form, dict) and "form" in form else form)
    for name, prop in fields.items():
        kind = prop.get("type", "any")
        what = f" — {prop['description']}" if prop.get("description") else ""
        lines.append(f"  form field {name} ({kind}){what}")
    if info.get("timeout_at"):
        lines.append(f"  times out at {output.when(info['timeout_at'])}")
    urls = info.get("urls") or {}
    for label, name in (("approve", "resume"), ("reject", "cancel"), ("page", "approvalPage")):
        if urls.get(name):
            lines.append(f"  {label:8} {urls[name]}")
    lines.append(f"  or from another terminal: wac job approve {job.id}   /   wac job reject {job.id}")
    return lines


def _value(text: str, prop: dict[str, Any]) -> Any:
    if prop.get("type") == "string":
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def ask(job: Any, key: str, info: PendingApproval, still_waiting: Callable[[], bool]) -> tuple[bool, Any]:
    """Ask on the terminal: (approved, value). Raises Decided or EOFError."""
    for line in describe(job, key, info):
        output.info(line)
    while True:
        answer = read_line("Approve? [y/n] ", still_waiting).lower()
        if answer in ("y", "yes"):
            approved = True
            break
        if answer in ("n", "no"):
            approved = False
            break
        output.info("answer y or n")
    form = info.get("form") or {}
    fields = form_fields(form.get("form") if isinstance(form, dict) and "form" in form else form)
    if not fields:
        return approved, None
    value: dict[str, Any] = {}
    for name, prop in fields.items():
        default = prop.get("default")
        shown = f" [{json.dumps(default)}]" if default is not None else ""
        text = read_line(f"  {name}{shown}: ", still_waiting)
        if text == "" and default is not None:
            value[name] = default
        elif text != "":
            value[name] = _value(text, prop)
    return approved, value
