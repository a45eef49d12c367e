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
