"""Run the real ``wac`` CLI in a subprocess and check exit code, stdout and stderr separately."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SRC = Path(__file__).resolve().parent.parent / "src"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def wac(*args: str, cwd: Path, code: int | None = 0, env: dict[str, str] | None = None,
        timeout: float = 60, input: str | None = None) -> Result:
    """``wac ARGS`` in ``cwd``; asserts the exit code when ``code`` is not None."""
    full_env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC), **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", "from wac.cli.app import main; main()", *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout,
        input=input, stdin=None if input is not None else subprocess.DEVNULL,
    )
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    if code is not None:
        assert proc.returncode == code, f"exit {proc.returncode} != {code}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    return result


def wac_on_terminal(*args: str, cwd: Path, answer: bytes | None, when: bytes, env: dict[str, str] | None = None,
                    color: bool = False, timeout: float = 30,
                    then: list[tuple[bytes, Any]] | None = None) -> tuple[int, str]:
    """``wac ARGS`` with stdin/stdout/stderr on a pseudo-terminal; types ``answer`` the first time
    ``when`` appears on the screen. Returns (exit code, everything the terminal showed).

    ``then``: further ``(when, what)`` pairs, in order, each after the previous one happened: when
    ``when`` appears on the screen (after what was there at the previous step), ``what`` is typed
    (bytes), or called (a function of no argument, e.g. approving from "another terminal"; what it
    returns, if bytes, is typed)."""
    import pty
    import select
    import time

    main_fd, child_fd = pty.openpty()
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(SRC), "TERM": "xterm", "COLUMNS": "100"}
    if color:
        full_env.pop("NO_COLOR", None)
    else:
        full_env["NO_COLOR"] = "1"
    proc = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", *args],
                            cwd=cwd, env=full_env, stdin=child_fd, stdout=child_fd, stderr=child_fd, close_fds=True)
    os.close(child_fd)
    steps: list[tuple[bytes, Any]] = ([(when, answer)] if answer is not None else []) + list(then or [])
    screen, seen = b"", 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main_fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            screen += chunk
            while steps and steps[0][0] in screen[seen:]:
                step_when, what = steps.pop(0)
                seen = screen.index(step_when, seen) + len(step_when)
                typed = what() if callable(what) else what
                if typed:
                    os.write(main_fd, typed)
        elif proc.poll() is not None:
            break
    if proc.poll() is None:
        proc.kill()
        screen += b"\n[wac_on_terminal: killed after the timeout]"
    code = proc.wait(timeout=10)
    os.close(main_fd)
    return code, screen.decode("utf-8", "replace")


def alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie waiting for its parent counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
