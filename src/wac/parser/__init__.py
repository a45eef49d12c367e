"""The Python script parser: main's signature -> schema, workflow detection, imports.

Everything here works on source text and never raises on user code: problems come back as
:class:`Diagnostic` values (``path:line:col CODE message``, codes in
``docs/reference/diagnostics.md``). Only this package imports libcst.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from wac.parser.diagnostics import CODES, Diagnostic
    from wac.parser.schema import build_schema, empty_schema
    from wac.parser.script import ScriptInfo, parse_script
    from wac.parser.signature import Arg
    from wac.parser.validate import validate_args
    from wac.parser.workflow import TaskInfo

# Loaded on first use (PEP 562), so ``wac.parser.validate`` (stdlib only) can be imported without
# libcst: a preview whose schema is cached checks its ``-d`` without importing the parser.
_HOMES = {
    "CODES": "diagnostics", "Diagnostic": "diagnostics", "build_schema": "schema", "empty_schema": "schema",
    "ScriptInfo": "script", "parse_script": "script", "Arg": "signature", "validate_args": "validate",
    "TaskInfo": "workflow",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'wac.parser' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"wac.parser.{home}"), name)
    globals()[name] = value
    return value


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
