"""YAML in the exact style of the wmill CLI (the ``yaml`` npm library v2), and a YAML 1.2 reader.

The CLI writes every file with ``yaml.stringify(obj, {singleQuote: true, sortMapEntries})``:
block style, 2-space indent, sequences indented under their key, single quotes preferred,
strings folded at 80 columns, multi-line strings as ``|`` blocks, and every mapping's keys sorted
with :func:`wac.project.collation.yaml_key`. :func:`dump_yaml` reproduces that byte for byte for
the values metadata holds (mappings, sequences, strings, numbers, booleans, null).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from wac.project.collation import yaml_key
from wac.project.yamlfold import FOLD_BLOCK, FOLD_FLOW, FOLD_QUOTED, LINE_WIDTH, fold
from wac.project.yamlread import load_yaml

__all__ = ["dump_yaml", "js_number", "load_yaml", "sort_mapping"]

DOUBLE_QUOTED_MIN_MULTILINE = 40

_NEEDS_QUOTES = re.compile(
    r"^[\n\t ,\[\]{}#&*!|>'\"%@`]|^[?-]\Z|^[?-][ \t]|[\n:][ \t]|[ \t]\n|[\n\t ]#|[\n\t :]\Z"
)
_DOC_MARKER = re.compile(r"^(%|---|\.\.\.)", re.M)
# Scalars that YAML 1.2 core would read as something other than a string.
_CORE_TAGS = (
    re.compile(r"^(?:~|[Nn]ull|NULL)?\Z"),
    re.compile(r"^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)\Z"),
    re.compile(r"^0o[0-7]+\Z"),
    re.compile(r"^[-+]?[0-9]+\Z"),
    re.compile(r"^0x[0-9a-fA-F]+\Z"),
    re.compile(r"^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)\Z"),
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+\Z"),
    re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)\Z"),
)


class _Ctx:
    __slots__ = ("indent", "indent_at_start", "implicit_key")

    def __init__(self, indent: str, indent_at_start: int | None, implicit_key: bool) -> None:
        self.indent = indent
        self.indent_at_start = indent_at_start
        self.implicit_key = implicit_key


def dump_yaml(value: Any) -> str:
    """Render ``value`` as the CLI would (a document ending with a newline)."""
    return _node(value, _Ctx("", None, False)) + "\n"


def sort_mapping(mapping: dict[str, Any]) -> list[tuple[str, Any]]:
    """The entries of ``mapping`` in the CLI's key order."""
    return sorted(mapping.items(), key=lambda kv: yaml_key(str(kv[0])))


# -- nodes ------------------------------------------------------------------------------------


def _node(value: Any, ctx: _Ctx) -> str:
    if isinstance(value, dict):
        return _mapping(value, ctx) if value else "{}"
    if isinstance(value, (list, tuple)):
        return _sequence(list(value), ctx) if value else "[]"
    return _scalar(value, ctx)


def _mapping(mapping: dict[Any, Any], ctx: _Ctx) -> str:
    lines = []
    for key, value in sort_mapping(mapping):
        lines.append(_pair(str(key), value, ctx))
    return _join(lines, ctx.indent)


def _sequence(items: list[Any], ctx: _Ctx) -> str:
    item_ctx = _Ctx(ctx.indent + "  ", ctx.indent_at_start, False)
    lines = ["- " + _node(item, item_ctx) for item in items]
    return _join(lines, ctx.indent)


def _join(lines: list[str], indent: str) -> str:
    out = lines[0]
    for line in lines[1:]:
        out += f"\n{indent}{line}" if line else "\n"
    return out


def _pair(key: str, value: Any, ctx: _Ctx) -> str:
    value_ctx = _Ctx(ctx.indent + "  ", ctx.indent_at_start, True)
    text = _string(key, value_ctx) + ":"
    value_ctx.implicit_key = False
    is_collection = isinstance(value, (dict, list, tuple))
    if not is_collection:
        value_ctx.indent_at_start = len(text) + 1
    value_text = _node(value, value_ctx)
    if is_collection and value:
        sep = f"\n{value_ctx.indent}"
    elif value_text == "" or value_text.startswith("\n"):
        sep = ""
    else:
        sep = " "
    return text + sep + value_text


# -- scalars ----------------------------------------------------------------------------------


def _scalar(value: Any, ctx: _Ctx) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return js_number(value)
    return _string(str(value), ctx)


def js_number(value: int | float) -> str:
    """``JSON.stringify`` of a number: ``1.0`` -> ``1``, ``1e16`` -> ``10000000000000000``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))
    # JS Number::toString: n = exponent position of the decimal point, k = number of digits.
    k = len(digits)
    n = exponent + k
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    exp = n - 1
    mantissa = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{sign}{mantissa}e{'+' if exp >= 0 else '-'}{abs(exp)}"


def _shortest_digits(value: float) -> tuple[str, int]:
    mantissa, _, exp = repr(value).partition("e")
    exponent = int(exp) if exp else 0
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    exponent -= len(frac)
    stripped = digits.rstrip("0")
    exponent += len(digits) - len(stripped)
    return stripped or "0", exponent


def _string(value: str, ctx: _Ctx) -> str:
    """``stringifyString`` of the yaml library for a string with no preferred style."""
    implicit = ctx.implicit_key
    if implicit and "\n" in value:
        return _quoted(value, ctx)
    if value == "" or _NEEDS_QUOTES.search(value):
        if implicit or "\n" not in value:
            return _quoted(value, ctx)
        return _block(value, ctx)
    if not implicit and "\n" in value:
        return _block(value, ctx)
    if _DOC_MARKER.search(value):
        if ctx.indent == "":
            return _block(value, ctx, force_indent=True)
        if implicit and ctx.indent == "  ":
            return _quoted(value, ctx)
    text = re.sub(r"\n+", lambda m: m.group(0) + "\n" + ctx.indent, value)
    if any(tag.match(text) for tag in _CORE_TAGS):
        return _quoted(value, ctx)
    if implicit:
        return text
    return fold(text, ctx.indent, FOLD_FLOW, ctx.indent_at_start)


def _quoted(value: str, ctx: _Ctx) -> str:
    has_double = '"' in value
    has_single = "'" in value
    if has_single and not has_double:
        return _double_quoted(value, ctx)
    return _single_quoted(value, ctx)


def _single_quoted(value: str, ctx: _Ctx) -> str:
    if (ctx.implicit_key and "\n" in value) or re.search(r"[ \t]\n|\n[ \t]", value):
        return _double_quoted(value, ctx)
    indent = ctx.indent or ("  " if _DOC_MARKER.search(value) else "")
    body = re.sub(r"\n+", lambda m: m.group(0) + "\n" + indent, value.replace("'", "''"))
    res = f"'{body}'"
    if ctx.implicit_key:
        return res
    return fold(res, indent, FOLD_FLOW, ctx.indent_at_start)


def _double_quoted(value: str, ctx: _Ctx) -> str:
    js = json.dumps(value, ensure_ascii=False)
    indent = ctx.indent or ("  " if _DOC_MARKER.search(value) else "")
    out = ""
    start = 0
    i = 0
    while i < len(js):
        ch = js[i]
        if ch == " " and js[i + 1 : i + 3] == "\\n":
            out += js[start:i] + "\\ "
            i += 1
            start = i
            ch = "\\"
        if ch == "\\":
            nxt = js[i + 1] if i + 1 < len(js) else ""
            if nxt == "u":
                out += js[start:i]
                code = js[i + 2 : i + 6]
                out += _U_ESCAPES.get(code) or (
                    "\\x" + code[2:] if code.startswith("00") else js[i : i + 6]
                )
                i += 5
                start = i + 1
            elif nxt == "n":
                if ctx.implicit_key or js[i + 2 : i + 3] == '"' or len(js) < DOUBLE_QUOTED_MIN_MULTILINE:
                    i += 1
                else:
                    out += js[start:i] + "\n\n"
                    while js[i + 2 : i + 4] == "\\n" and js[i + 4 : i + 5] != '"':
                        out += "\n"
                        i += 2
                    out += indent
                    if js[i + 2 : i + 3] == " ":
                        out += "\\"
                    i += 1
                    start = i + 1
            else:
                i += 1
        i += 1
    out = out + js[start:] if start else js
    if ctx.implicit_key:
        return out
    return fold(out, indent, FOLD_QUOTED, ctx.indent_at_start)


_U_ESCAPES = {
    "0000": "\\0",
    "0007": "\\a",
    "000b": "\\v",
    "001b": "\\e",
    "0085": "\\N",
    "00a0": "\\_",
    "2028": "\\L",
    "2029": "\\P",
}


def _line_over_limit(text: str, indent_len: int) -> bool:
    limit = LINE_WIDTH - indent_len
    if len(text) <= limit:
        return False
    start = 0
    for i, ch in enumerate(text):
        if ch == "\n":
            if i - start > limit:
                return True
            start = i + 1
            if len(text) - start <= limit:
                return False
    return True


def _block(value: str, ctx: _Ctx, force_indent: bool = False) -> str:
    if re.search(r"\n[\t ]+\Z", value) or re.fullmatch(r"\s*", value):
        return _quoted(value, ctx)
    indent = ctx.indent or ("  " if force_indent or _DOC_MARKER.search(value) else "")
    literal = not _line_over_limit(value, len(indent))
    end_start = len(value)
    while end_start > 0 and value[end_start - 1] in "\n\t ":
        end_start -= 1
    end = value[end_start:]
    nl = end.find("\n")
    if nl == -1:
        chomp = "-"
    elif value == end or nl != len(end) - 1:
        chomp = "+"
    else:
        chomp = ""
    if end:
        value = value[: -len(end)]
        if end.endswith("\n"):
            end = end[:-1]
        end = re.sub(r"\n+(?!\n|\Z)", lambda m: m.group(0) + indent, end)
    start_with_space = False
    start_nl = -1
    start_end = 0
    while start_end < len(value):
        ch = value[start_end]
        if ch == " ":
            start_with_space = True
        elif ch == "\n":
            start_nl = start_end
        else:
            break
        start_end += 1
    start = value[: start_nl + 1 if start_nl < start_end else start_end]
    if start:
        value = value[len(start) :]
        start = re.sub(r"\n+", lambda m: m.group(0) + indent, start)
    header = ("2" if indent else "1") if start_with_space else ""
    header += chomp
    if literal:
        value = re.sub(r"\n+", lambda m: m.group(0) + indent, value)
        return f"|{header}\n{indent}{start}{value}{end}"
    value = re.sub(r"\n+", lambda m: "\n" + m.group(0), value)
    value = re.sub(
        r"(?:^|\n)([\t ].*)(?:([\n\t ]*)\n(?![\n\t ]))?",
        lambda m: (m.group(1) or "") + (m.group(2) or ""),
        value,
    )
    value = re.sub(r"\n+", lambda m: m.group(0) + indent, value)
    body = fold(f"{start}{value}{end}", indent, FOLD_BLOCK, len(indent))
    return f">{header}\n{indent}{body}"
