"""Turning user bytes into text and text into syntax trees, never raising on bad input.

Decoding follows the wmill CLI (a UTF-8 BOM is dropped, UTF-16/32 are refused, invalid UTF-8 is
replaced). Parsing recovers from syntax errors: top-level blocks that do not parse are blanked
(line numbers kept) so the rest of the file can still be analysed.
"""

from __future__ import annotations

import ast
import re
import tokenize
import warnings

import libcst as cst

from wac.parser.diagnostics import Diagnostic, make

_BOMS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)
# everything libcst raises on bad input (CSTValidationError: e.g. "a" b"b" concatenation)
PARSE_ERRORS = (cst.ParserSyntaxError, cst.CSTValidationError, RecursionError, MemoryError,
                ValueError)
_MAIN_LINE = re.compile(r"^(?:async )?def main\(", re.MULTILINE)


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


def split_lines(text: str) -> list[str]:
    """Lines with their endings, split only where Python ends a line (not at \\f, \\x1c ...)."""
    return _LINE.findall(text)


def decode(source: str | bytes, path: str) -> tuple[str | None, list[Diagnostic]]:
    """Text of ``source`` as the wmill CLI reads it, or None when it cannot be decoded."""
    if isinstance(source, str):
        return source.removeprefix("\ufeff"), []
    for bom, name in _BOMS:
        if source.startswith(bom):
            msg = f"file is {name} encoded; save it as UTF-8 (wmill refuses {name} too)"
            return None, [make(path, 1, 1, "WAC002", msg)]
    data = source.removeprefix(b"\xef\xbb\xbf")
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = "invalid UTF-8 bytes replaced by U+FFFD; save the file as UTF-8"
        return data.decode("utf-8", errors="replace"), [make(path, line, col, "WAC003", msg)]


def find_main(text: str) -> int | None:
    """Offset of the first line starting (column 0) with ``def main(`` or ``async def main(``.

    This is how wmill locates main; ``def main (``, indented or nested mains are not seen.
    """
    found = _MAIN_LINE.search(text)
    return found.start() if found else None


def cut_signature(text: str, start: int) -> str | None:
    """Source of ``def main(...)`` starting at ``start`` up to its balancing parenthesis.

    Unlike wmill, which counts parentheses naively, this tokenizes, so a parenthesis inside a
    string or a comment does not end the signature early. None when the signature never closes.
    """
    depth = 0
    lines = split_lines(text[start:])
    reader = iter(lines).__next__
    try:
        for tok in tokenize.generate_tokens(reader):
            if tok.type == tokenize.OP and tok.string in "([{":
                depth += 1
            elif tok.type == tokenize.OP and tok.string in ")]}":
                depth -= 1
                if depth == 0:
                    row, col = tok.end
                    head = "".join(lines[: row - 1]) + lines[row - 1][:col]
                    return head.replace("\r\n", "\n").replace("\r", "\n")
    except (tokenize.TokenError, SyntaxError, StopIteration):
        return None
    return None


def syntax_error(text: str, path: str, fallback: tuple[int, int] = (1, 1)) -> Diagnostic:
    """A WAC001 diagnostic for ``text``, located by CPython's parser (precise positions)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except SyntaxError as exc:
        line = exc.lineno or fallback[0]
        col = exc.offset or fallback[1]
        return make(path, line, col, "WAC001", f"syntax error: {exc.msg}")
    except (ValueError, MemoryError, RecursionError) as exc:  # NUL bytes, absurd nesting
        return make(path, fallback[0], fallback[1], "WAC001", f"syntax error: {exc}")
    return make(path, fallback[0], fallback[1], "WAC001", "syntax error")


def parse_module(text: str, path: str) -> tuple[cst.Module | None, list[Diagnostic]]:
    """Parse ``text``; on a syntax error, report it and parse what remains.

    Returns the module (None when nothing could be recovered) and the diagnostics.
    """
    try:
        return cst.parse_module(text), []
    except cst.ParserSyntaxError as exc:
        diag = syntax_error(text, path, (exc.editor_line, exc.editor_column))
    except PARSE_ERRORS:
        diag = syntax_error(text, path)
    repaired = _blank_broken_blocks(text)
    if repaired is None:
        return None, [diag]
    try:
        return cst.parse_module(repaired), [diag]
    except PARSE_ERRORS:
        return None, [diag]


_CONTINUATION = re.compile(r"(else|elif|except|finally)\b")


def _blocks(lines: list[str]) -> list[tuple[int, int]]:
    """Top-level blocks as (first line, end line) index ranges, decorators kept with their def."""
    starts: list[int] = []
    prev_decorator = False
    prev_backslash = False
    for i, line in enumerate(lines):
        first = line[:1]
        if first in ("", " ", "\t", "\n", "\r", "#", ")", "]", "}") or prev_backslash:
            prev_backslash = line.rstrip("\r\n").endswith("\\")
            continue
        prev_backslash = line.rstrip("\r\n").endswith("\\")
        if _CONTINUATION.match(line) or prev_decorator:
            prev_decorator = first == "@"
            continue
        prev_decorator = first == "@"
        starts.append(i)
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    ends = starts[1:] + [len(lines)]
    return list(zip(starts, ends, strict=True))


def _blank_broken_blocks(text: str) -> str | None:
    lines = split_lines(text)
    out: list[str] = []
    changed = False
    for first, end in _blocks(lines):
        chunk = "".join(lines[first:end])
        try:
            cst.parse_module(chunk)
            out.append(chunk)
        except PARSE_ERRORS:
            changed = True
            out.extend(_newline_of(line) for line in lines[first:end])
    return "".join(out) if changed else None


def _newline_of(line: str) -> str:
    stripped = line.rstrip("\r\n")
    return line[len(stripped):]


def line_of(text: str, offset: int) -> int:
    """1-based line number of ``offset`` in ``text``."""
    return text.count("\n", 0, offset) + 1


_PREPROCESSOR_LINE = re.compile(r"^(?:async )?def preprocessor\(", re.MULTILINE)
_WORKFLOW_HINT = re.compile(r"@\s*(?:\w+\s*\.\s*)?workflow\b|\bworkflow\s*\(")
_WAC_IMPORT = re.compile(r"^\s*(?:import|from)\s+(?:wac|wmill)\b", re.MULTILINE)
_ANY_MAIN = re.compile(r"^([ \t]*)(async\s+)?def\s+main\s*\(", re.MULTILINE)
_MAIN_ASSIGN = re.compile(r"^main\s*(?::[^=]*)?=", re.MULTILINE)


def has_preprocessor(text: str) -> bool:
    """A line starts with ``def preprocessor(`` or ``async def preprocessor(`` (wmill's test)."""
    return _PREPROCESSOR_LINE.search(text) is not None


def looks_like_workflow(text: str) -> bool:
    """Cheap textual guess of :attr:`ScriptInfo.is_workflow`, used when not analysing."""
    return bool(_WORKFLOW_HINT.search(text) and _WAC_IMPORT.search(text))


def unseen_main(text: str, path: str) -> list[Diagnostic]:
    """WAC201 when a main exists that wmill's line scan misses (so the schema is empty)."""
    found = _ANY_MAIN.search(text)
    if found is not None:
        line = line_of(text, found.start())
        indent = found.group(1)
        if indent:
            if _inside_class(text, found.start(), len(indent)):
                return []
            msg = ("main is defined inside a block: wmill only sees a main defined at the top "
                   "level, so the script gets no arguments")
        else:
            msg = ("wmill only recognises a line starting exactly with 'def main(' or "
                   "'async def main(': the script gets no arguments")
        return [make(path, line, len(indent) + 1, "WAC201", msg)]
    assigned = _MAIN_ASSIGN.search(text)
    if assigned is not None:
        msg = ("main is assigned, not defined with 'def main(': wmill sees no arguments; "
               "decorate a 'def main(...)' instead")
        return [make(path, line_of(text, assigned.start()), 1, "WAC201", msg)]
    return []


def _inside_class(text: str, offset: int, indent: int) -> bool:
    for line in reversed(text[:offset].splitlines()):
        stripped = line.lstrip()
        if stripped and not stripped.startswith("#") and len(line) - len(stripped) < indent:
            return stripped.startswith("class ")
    return False
