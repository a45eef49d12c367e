"""The approval prompt of a preview on a real pseudo-terminal (issue 12, items 1 and 2).

The prompt must be seen (the live tree stops redrawing over it), show the form and the links,
take a value for the form; and a decision made from another terminal, or the timeout, must drop
the prompt and let the preview finish with the result on stdout.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.clirun import wac, wac_on_terminal

pytestmark = pytest.mark.slow

GATE = """
    from wac import task, wait_for_approval, workflow

    @task
    def before() -> int:
        return 1

    @workflow
    async def main():
        await before()
        d = await wait_for_approval(timeout={timeout}, description="Ship it?",
                                    form={{"schema": {{"properties": {{"ok": {{"type": "integer", "description": "how sure"}}}}}}}})
        return {{"approved": d["approved"], "by": d["approver"], "value": d["value"]}}
"""

_REDRAW = re.compile(r"\x1b\[(?:\d*A|2K)")  # cursor up / erase line: the live tree redrawing


def _later(what: bytes, seconds: float = 1.0):  # type: ignore[no-untyped-def]
    """Type ``what`` after a pause, long enough for a live display to have redrawn over a prompt."""
    def act() -> bytes:
        time.sleep(seconds)
        return what
    return act


def test_the_approval_prompt_stays_on_screen_shows_form_and_links_and_takes_a_value(repo: Path, write) -> None:
    write("f/i/gate.py", GATE.format(timeout=600))
    code, screen = wac_on_terminal("script", "preview", "f/i/gate.py", cwd=repo, answer=None, when=b"",
                                   then=[(b"Approve? [y/n] ", _later(b"y\n")), (b"ok: ", b"7\n")], timeout=60)
    assert code == 0, screen
    asked = screen.index("Approve? [y/n] ")
    # nothing redrew the screen between the question and the answer: the prompt stayed visible
    answered = screen.index("y", asked + len("Approve? [y/n] "))
    assert not _REDRAW.search(screen[asked:answered]), repr(screen[asked - 200:answered + 20])
    before_question = screen[:asked]
    assert "waits for approval 'approval'" in before_question
    assert "Ship it?" in before_question
    assert "form field ok (integer) — how sure" in before_question
    assert re.search(r"approve +wac://local/jobs/\w+/approvals/approval/resume\?token=\w+", before_question)
    assert re.search(r"reject +wac://local/jobs/\w+/approvals/approval/cancel\?token=\w+", before_question)
    assert '"approved": true' in screen and '"by": "preview"' in screen
    assert '"ok": 7' in screen


def _approve_from_another_terminal(repo: Path):  # type: ignore[no-untyped-def]
    def act() -> None:
        jobs = wac("job", "list", "--status", "suspended", "--json", cwd=repo).json()
        assert len(jobs) == 1, jobs
        wac("job", "approve", jobs[0]["id"], "--value", '{"ok": 1}', "--approver", "bob", cwd=repo)
    return act


def test_an_approval_decided_from_another_terminal_drops_the_prompt_and_prints_the_result(repo: Path, write) -> None:
    write("f/i/gate.py", GATE.format(timeout=600))
    code, screen = wac_on_terminal("script", "preview", "f/i/gate.py", cwd=repo, answer=None, when=b"",
                                   then=[(b"Approve? [y/n] ", _approve_from_another_terminal(repo))], timeout=60)
    assert code == 0, screen
    assert "was answered elsewhere or timed out" in screen
    assert '"approved": true' in screen and '"by": "bob"' in screen and '"ok": 1' in screen
    assert "is not waiting for approval" not in screen


def test_an_approval_that_times_out_while_asked_drops_the_prompt_and_reports_the_failure(repo: Path, write) -> None:
    write("f/i/gate.py", GATE.format(timeout=2))
    code, screen = wac_on_terminal("script", "preview", "f/i/gate.py", cwd=repo, answer=None, when=b"",
                                   timeout=60)
    assert code == 1, screen
    assert "Approve? [y/n] " in screen
    assert "was answered elsewhere or timed out" in screen
    assert "approval 'approval' timed out" in screen
