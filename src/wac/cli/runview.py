"""Showing a run as it goes: a live tree on a TTY, one line per finished item otherwise.

Everything here goes to stderr; the result is printed by the command on stdout.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from wac.cli import output
from wac.engine.store.base import TERMINAL, Job, TimelineEntry
from wac.timeformat import duration

if TYPE_CHECKING:
    from rich.tree import Tree

    from wac.engine.backend import Backend

_ICONS = {
    "done": "✓", "succeeded": "✓", "failed": "✗", "cancelled": "⊘", "running": "▶", "queued": "…",
    "blocked": "…", "waiting": "▶", "sleeping": "☾", "suspended": "⏸", "skipped": "↷",
}
_STYLES = {"failed": "red", "cancelled": "yellow", "done": "green", "succeeded": "green", "suspended": "magenta"}


def entry_status(entry: TimelineEntry, now: float) -> str:
    """A timeline entry's state as people see it: a sleep whose wake-up time is still ahead is
    ``sleeping`` (the store writes it done with its wake-up time as soon as the round parks),
    and a sleep ended at once by ``--skip-sleeps`` is ``skipped``."""
    if entry.kind == "sleep" and entry.status == "done" and entry.finished_at is not None:
        if entry.finished_at > now:
            return "sleeping"
        if entry.started_at is not None and entry.finished_at - entry.started_at < 0.001:
            return "skipped"
    return entry.status


def entry_label(entry: TimelineEntry, now: float) -> str:
    status = entry_status(entry, now)
    icon = _ICONS.get(status, "·")
    kind = "" if entry.kind == "task" else f" ({entry.kind})"
    if status == "sleeping" and entry.finished_at is not None:
        wake = time.strftime("%H:%M:%S", time.localtime(entry.finished_at))
        return f"{icon} {entry.key}{kind}  sleeping, {duration(entry.finished_at - now)} left (wakes at {wake})"
    if status == "skipped":
        return f"{icon} {entry.key}{kind}  skipped"
    end = entry.finished_at if entry.finished_at is not None else None
    dur = duration((end - entry.started_at) if end and entry.started_at else None)
    running = "" if end else (f" {duration(now - entry.started_at)}" if entry.started_at else "")
    return f"{icon} {entry.key}{kind}  {status}{' ' + dur if dur else running}"


MIN_INTERVAL = 0.1  # seconds between two redraws of a run, at least
MAX_INTERVAL = 1.0  # …and at most (a costly redraw waits COST_FACTOR times its cost, up to this)
COST_FACTOR = 6.0  # so the view uses at most about 1/6 of the time while the run goes on

VIEW_LINES = 40  # lines of a task's log the line-mode view prints; `wac job logs` has the rest
VIEW_BYTES = 16 * 1024


def shown_log_lines(text: str, job_id: str, max_lines: int) -> list[str]:
    """The end of a task's log as a view shows it: at most ``max_lines`` lines (and about
    16 KB), after one line saying how much more there is and where to read it."""
    from wac.cli.joblogs import is_protocol_line
    from wac.engine.logcap import human_size

    text = text.rstrip("\n")
    if not text:
        return []
    kept_text = text[-VIEW_BYTES:] if len(text) > VIEW_BYTES else text
    lines = [line for line in kept_text.splitlines() if not is_protocol_line(line)]
    if len(kept_text) < len(text):
        lines = lines[1:]  # the first one was cut in the middle
    kept = lines[-max_lines:]
    hidden = len(text.encode("utf-8", "replace")) - len("\n".join(kept).encode("utf-8", "replace"))
    if len(kept) < len(lines) or len(kept_text) < len(text):
        return [f"… {human_size(hidden)} more, see `wac job logs {job_id}`", *kept]
    return kept


class RunView:
    """Follows one root job and the jobs under it."""

    def __init__(self, backend: Backend, root_id: str, *, live: bool, show_logs: bool = True) -> None:
        self.backend = backend
        self.root_id = root_id
        self.live_mode = live
        self.show_logs = show_logs
        self._printed: set[tuple[str, ...]] = set()
        self._live: Any = None
        self._last_render = 0.0
        self._interval = MIN_INTERVAL
        self._logs: dict[str, str] = {}

    def __enter__(self) -> RunView:
        if self.live_mode:
            from rich.live import Live

            # drawn by update() only (not by rich's own thread 8 times a second): a tree of a
            # thousand tasks costs real time to lay out, and the run shares this process's GIL
            self._live = Live(console=output.stderr_console(), auto_refresh=False, transient=False)
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.update(self._tree(), refresh=True)
            self._live.__exit__(None, None, None)
            self._live = None

    def pause(self) -> Any:
        """A context in which the live tree is stopped (drawn once more, then left on screen) so a
        question can be asked below it; it starts again afterwards."""
        import contextlib

        @contextlib.contextmanager
        def paused() -> Any:
            live = self._live
            if live is None:
                yield
                return
            live.update(self._tree(), refresh=True)
            live.stop()
            try:
                yield
            finally:
                live.start()

        return paused()

    def update(self, force: bool = False) -> tuple[Job, bool]:
        """The root job now, and whether the view was redrawn: at most 10 times a second, less
        often when a redraw is costly (reading and laying out a run of a thousand tasks competes
        with the run itself, in this process: a redraw waits at least ``COST_FACTOR`` times as long
        as the last one took), and always at the end."""
        root = self.backend.get_job(self.root_id)
        now = time.monotonic()
        if not (force or now - self._last_render >= self._interval or root.status in TERMINAL):
            return root, False
        self._last_render = now
        if self._live is not None:
            self._live.update(self._tree(root), refresh=True)
        else:
            self._print_finished(root)
        self._interval = min(MAX_INTERVAL, max(MIN_INTERVAL, (time.monotonic() - now) * COST_FACTOR))
        return root, True

    # ---- line mode
    def _print_finished(self, job: Job) -> None:
        lines: list[str] = []
        self._finished_lines(job.id, self.backend.now(), 1, lines)
        if lines:  # one write for the lines of a redraw (the same text as one write per line)
            output.info("\n".join(lines))

    def _finished_lines(self, job_id: str, now: float, depth: int, lines: list[str]) -> None:
        for entry in self.backend.timeline(job_id):
            marker = (job_id, entry.key)
            # a nested workflow is walked until its own line is printed (it had ended: nothing
            # under it changes any more)
            if entry.child_job_id and entry.kind in ("script", "flow") and marker not in self._printed:
                self._finished_lines(entry.child_job_id, now, depth + 1, lines)
            status = entry_status(entry, now)
            if status == "sleeping" and (job_id, entry.key, "sleeping") not in self._printed:
                self._printed.add((job_id, entry.key, "sleeping"))
                lines.append("  " * depth + entry_label(entry, now))
            if marker in self._printed or status not in ("done", "failed", "cancelled", "skipped"):
                continue
            self._printed.add(marker)
            lines.append("  " * depth + entry_label(entry, now))
            if self.show_logs and entry.child_job_id:
                for line in shown_log_lines(self._finished_logs(entry.child_job_id), entry.child_job_id, VIEW_LINES):
                    lines.append("  " * (depth + 1) + "│ " + line)

    def _finished_logs(self, job_id: str) -> str:
        """A finished job's log (read once: it does not change any more)."""
        text = self._logs.get(job_id)
        if text is None:
            text = self._logs[job_id] = self.backend.logs(job_id)
        return text

    # ---- live tree
    def _tree(self, root: Job | None = None) -> Tree:
        from rich.text import Text
        from rich.tree import Tree

        from wac.cli.jobdoc import shown_status

        root = root if root is not None else self.backend.get_job(self.root_id)  # read by update() already
        now = self.backend.now()
        status = shown_status(self.backend, root, now)
        label = Text(f"{_ICONS.get(status, '·')} {root.script_path}  {status}{self._progress(root)}",
                     style=_STYLES.get(status, "bold"))
        tree = Tree(label)
        self._add_entries(tree, root, now)
        return tree

    def _progress(self, job: Job) -> str:
        """`` 40%`` while a running job has reported progress (wmill.set_progress), else ``""``."""
        if job.status in TERMINAL:
            return ""
        value = self.backend.job_progress(job.id)
        return "" if value is None else f" {value}%"

    def _add_entries(self, tree: Tree, job: Job, now: float) -> None:
        from rich.text import Text

        for entry in self.backend.timeline(job.id):
            shown = entry_label(entry, now)
            child_id = entry.child_job_id
            if child_id and entry.status == "running":  # the progress of a running one only
                value = self.backend.job_progress(child_id)
                shown += "" if value is None else f" {value}%"
            node = tree.add(Text(shown, style=_STYLES.get(entry_status(entry, now), "")))
            if child_id:  # a task's own job is read only to draw what is under a nested workflow
                if entry.kind in ("script", "flow"):
                    self._add_entries(node, self.backend.get_job(child_id), now)
                if self.show_logs and entry.status in ("done", "failed"):
                    for line in shown_log_lines(self._finished_logs(child_id), child_id, 5):
                        node.add(Text("│ " + line, style="dim"))
