"""``wac job logs``: a run's logs as people read them, each task's output under its own header.

The store keeps a job's log as its rounds wrote it, protocol lines included: the SDK writes
``--- WAC: KEY ---`` where a round reaches a task, sleep or approval, and ``WM_WAC_STEP: {…}``
before an inline step (the wmill client reads them; Windmill shows them too). People want the
output: the protocol lines are dropped (``--raw`` keeps the stored text) and each child job's log
is printed where its marker stood, under a header naming the task, in the order the run reached
them. Children the root log never named (a log cut by the size cap) follow at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from wac.engine.backend import Backend
    from wac.engine.store.base import Job, TimelineEntry

_MARKER = re.compile(r"^--- WAC: (.*) ---$")
_PROTOCOL = ("WM_WAC_STEP:",)
# A marker names the key, possibly wrapped: sleep(KEY, 3s), wait_for_approval(KEY), or
# "KEY failed" / "sleep(KEY, 2s) before retrying BASE" / "fast path for KEY unavailable (…)".
_MARKER_KEY = re.compile(r"^(?:sleep|wait_for_approval)\(([^,)]+)|^fast path for (\S+)|^(\S+)")


def is_protocol_line(line: str) -> bool:
    """True for the SDK's own log lines (markers and step records), not the user's output."""
    return bool(_MARKER.match(line)) or line.startswith(_PROTOCOL)


def marker_key(line: str) -> str | None:
    """The step key a ``--- WAC: … ---`` line is about, or None for another line."""
    found = _MARKER.match(line)
    if not found:
        return None
    inner = _MARKER_KEY.match(found.group(1))
    return next((g for g in inner.groups() if g), None) if inner else None


def render_logs(backend: Backend, job: Job, *, raw: bool = False, label: str | None = None) -> Iterator[str]:
    """Lines to print for ``job`` and the jobs under it."""
    label = label or job.script_path
    text = backend.logs(job.id)
    if raw:
        if text:
            yield f"== {label} ({job.id})"
            yield text.rstrip("\n")
        for child in backend.children(job.id):
            yield from render_logs(backend, child, raw=True, label=f"{label} / {child.name}")
        return
    children = {e.key: e for e in backend.timeline(job.id) if e.child_job_id}
    shown: set[str] = set()
    own: list[str] = []
    for line in text.splitlines() + ["--- WAC: (end) ---"]:
        key = marker_key(line)
        if key is None:
            if not is_protocol_line(line) and (line or own):
                own.append(line)
            continue
        while own and not own[-1]:
            own.pop()
        if own:  # the job's own output since the last marker, under its header again
            yield f"== {label} ({job.id})"
            yield from own
            own = []
        entry = children.get(key)
        if entry is not None and key not in shown:
            shown.add(key)
            yield from _child(backend, entry, label)
    for key, entry in children.items():
        if key not in shown:
            yield from _child(backend, entry, label)


def _child(backend: Backend, entry: TimelineEntry, label: str) -> Iterator[str]:
    if entry.child_job_id is None:  # only entries with a child job are passed
        return
    child = backend.get_job(entry.child_job_id)
    sub = f"{label} / {entry.key}"
    lines = list(render_logs(backend, child, label=sub))
    if not lines:
        yield f"== {sub} ({child.id}): no output"
        return
    yield from lines
