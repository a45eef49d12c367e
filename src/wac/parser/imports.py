"""Top-level imports -> workspace scripts and third-party modules (spec §3.1, §3.2, §3.4).

As in wmill, only top-level ``import`` / ``from ... import`` statements before main count
(imports inside ``try:``/``if``/functions, or after main, are not seen).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import libcst as cst

from wac.parser.source import PARSE_ERRORS, split_lines
from wac.parser.types import dotted_name

_PIN = re.compile(r"^\s*#\s*(pin|repin):\s+(\S+)")


@dataclass(frozen=True)
class ImportedModule:
    """A non-workspace import: the module as written, plus a trailing pin comment if any.

    ``names`` are the imported names of a ``from`` import (used to map ``google.cloud``).
    """

    module: str
    names: tuple[str, ...] = ()
    pin: str | None = None
    repin: bool = False


@dataclass(frozen=True)
class ImportScan:
    """Result of :func:`scan_imports`."""

    packages: tuple[ImportedModule, ...]
    workspace: tuple[str, ...]


def relative_path(remote_path: str, level: int, module: str | None) -> str:
    """Remote path of ``from <level dots><module> import`` in the script at ``remote_path``.

    Reproduces wmill: more dots than path segments keeps the whole path (unsigned wrap-around).
    """
    segments = remote_path.split("/")
    kept = segments[: len(segments) - level] if level <= len(segments) else segments
    base = "/".join(kept)
    return f"{base}/{module.replace('.', '/')}" if module else base


def _statements_before_main(module: cst.Module, text: str) -> list[cst.BaseStatement]:
    cut = text.find("def main(")
    if cut < 0:
        return list(module.body)
    line_start = text.rfind("\n", 0, cut) + 1
    head = text[line_start:cut]
    if head in ("", "async "):
        for index, stmt in enumerate(module.body):
            if _is_wmill_main(stmt):
                return list(module.body[:index])
    # the first "def main(" is somewhere unusual (a method, a comment): parse the prefix
    prefix = text[:cut]
    lines = split_lines(prefix)
    if lines and lines[-1].startswith("@"):
        lines = lines[:-1]
    try:
        return list(cst.parse_module("".join(lines)).body)
    except PARSE_ERRORS:
        return list(module.body)


def _is_wmill_main(stmt: cst.BaseStatement) -> bool:
    if not isinstance(stmt, cst.FunctionDef) or stmt.name.value != "main":
        return False
    spaces = [stmt.whitespace_after_def, stmt.whitespace_before_params]
    expected = [" ", ""]
    if stmt.asynchronous is not None:
        spaces.append(stmt.asynchronous.whitespace_after)
        expected.append(" ")
    return all(isinstance(ws, cst.SimpleWhitespace) and ws.value == want
               for ws, want in zip(spaces, expected, strict=True))


def scan_imports(module: cst.Module, text: str, remote_path: str | None) -> ImportScan:
    """Workspace imports (sorted, unique) and third-party imports (in order) of a script."""
    packages: list[ImportedModule] = []
    workspace: set[str] = set()
    for stmt in _statements_before_main(module, text):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        comment = stmt.trailing_whitespace.comment
        pin = _PIN.match(comment.value) if comment is not None else None
        first = True
        for small in stmt.body:
            found = _modules_of(small, remote_path, workspace)
            for imported in found:
                if first and pin is not None:
                    imported = ImportedModule(imported.module, imported.names, pin.group(2),
                                              pin.group(1) == "repin")
                first = False
                packages.append(imported)
    return ImportScan(tuple(packages), tuple(sorted(workspace)))


def _modules_of(
    small: cst.BaseSmallStatement, remote_path: str | None, workspace: set[str]
) -> list[ImportedModule]:
    out: list[ImportedModule] = []
    if isinstance(small, cst.Import):
        for alias in small.names:
            name = dotted_name(alias.name)
            if name is None:
                continue
            if name.split(".")[0] in ("f", "u"):
                workspace.add(name.replace(".", "/"))
            else:
                out.append(ImportedModule(name))
    elif isinstance(small, cst.ImportFrom):
        level = len(small.relative)
        name = dotted_name(small.module) if small.module is not None else None
        if level:
            if remote_path is not None:
                workspace.add(relative_path(remote_path, level, name))
        elif name is not None:
            if name.split(".")[0] in ("f", "u"):
                workspace.add(name.replace(".", "/"))
            else:
                names: tuple[str, ...] = ()
                if not isinstance(small.names, cst.ImportStar):
                    names = tuple(a.name.value for a in small.names
                                  if isinstance(a.name, cst.Name))
                out.append(ImportedModule(name, names))
    return out
