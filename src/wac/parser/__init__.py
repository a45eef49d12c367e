"""The Python script parser: main's signature -> schema, workflow detection, imports.

Everything here works on source text and never raises on user code: problems come back as
:class:`Diagnostic` values (``path:line:col CODE message``, codes in
``docs/reference/diagnostics.md``). Only this package imports libcst.
"""

from __future__ import annotations

from wac.parser.diagnostics import CODES, Diagnostic
from wac.parser.schema import build_schema, empty_schema
from wac.parser.script import ScriptInfo, parse_script
from wac.parser.signature import Arg
from wac.parser.validate import validate_args
from wac.parser.workflow import TaskInfo

__all__ = [
    "Arg",
    "CODES",
    "Diagnostic",
    "ScriptInfo",
    "TaskInfo",
    "build_schema",
    "empty_schema",
    "parse_script",
    "validate_args",
]
