"""Diagnostics: what the parser reports about user code instead of raising.

Codes are stable; ``docs/reference/diagnostics.md`` lists each with an example and a fix.
"""

from __future__ import annotations

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"

# code -> (severity, short title). The message of a diagnostic says the specifics.
CODES: dict[str, tuple[str, str]] = {
    "WAC000": (ERROR, "internal parser error"),
    "WAC001": (ERROR, "syntax error"),
    "WAC002": (ERROR, "source cannot be decoded"),
    "WAC003": (WARNING, "invalid UTF-8 replaced"),
    "WAC101": (WARNING, "task defined inside a function"),
    "WAC102": (WARNING, "dynamic (non-literal) step or task name"),
    "WAC103": (ERROR, "@workflow on a non-async function"),
    "WAC104": (ERROR, "@workflow called with arguments"),
    "WAC105": (ERROR, "unknown task option"),
    "WAC106": (WARNING, "task option is not a literal"),
    "WAC107": (ERROR, "invalid task option value"),
    "WAC108": (ERROR, "invalid step or task key"),
    "WAC109": (ERROR, "invalid task_script / task_flow path"),
    "WAC110": (WARNING, "@workflow on a function other than main"),
    "WAC111": (ERROR, "more than one @workflow"),
    "WAC113": (WARNING, "non-deterministic call in a workflow body"),
    "WAC114": (WARNING, "blocking sleep in a workflow body"),
    "WAC201": (WARNING, "main is not seen by the wmill signature parser"),
    "WAC202": (WARNING, "parameter of main left out of the schema"),
}


@dataclass(frozen=True)
class Diagnostic:
    """One finding about user code, printed as ``path:line:col CODE message``.

    ``line`` is 1-based, ``col`` 1-based (0 when unknown).
    """

    path: str
    line: int
    col: int
    code: str
    message: str
    severity: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col} {self.code} {self.message}"


def make(path: str, line: int, col: int, code: str, message: str) -> Diagnostic:
    """Build a diagnostic whose severity is the one registered for ``code``."""
    return Diagnostic(path, line, col, code, message, CODES[code][0])
