"""main's signature -> argument list (spec §1.2-§1.7).

main is located as wmill does (first line starting with ``def main(`` / ``async def main(``)
and only its signature is parsed, so errors elsewhere in the file do not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from wac.parser.classes import Classes, TypeResolver
from wac.parser.defaults import FUNCTION_CALL, convert_default, infer_typ
from wac.parser.source import PARSE_ERRORS, find_main
from wac.parser.types import STR, UNKNOWN, Typ, annotation_typ


@dataclass(frozen=True)
class Arg:
    """One argument of main as wmill's parser sees it.

    ``typ`` is the intermediate type (see :mod:`wac.parser.types`); ``otyp`` the docstring text
    given for the argument, if any.
    """

    name: str
    typ: Typ
    default: Any
    has_default: bool
    otyp: str | None = None


@dataclass(frozen=True)
class Signature:
    """main's parsed signature: arguments, dropped parameter names, sync/async."""

    args: tuple[Arg, ...]
    dropped: tuple[str, ...]
    is_async: bool


def parse_signature(sig_source: str) -> cst.FunctionDef | None:
    """The FunctionDef of ``def main(...)`` source cut by :func:`source.cut_signature`."""
    try:
        stmt = cst.parse_statement(sig_source + ": return\n")
    except PARSE_ERRORS:
        return None
    return stmt if isinstance(stmt, cst.FunctionDef) else None


def read_signature(
    fn: cst.FunctionDef, text: str, classes: Callable[[], Classes]
) -> Signature:
    """Arguments of ``fn`` with types resolved against the script's enums and models.

    ``classes`` is called only when enums or models can matter (it may parse the whole file).
    """
    params = fn.params
    first_pass = [(p, *annotation_typ(p.annotation.annotation if p.annotation else None))
                  for p in params.params]
    resolver = _resolver(text, first_pass, classes)
    docs = _docstring_args(fn, text) if "Args:" in text else {}
    args = []
    for param, typ, optional in first_pass:
        name = param.name.value
        has_default, default = convert_default(param.default, resolver.enums if resolver else {})
        typ = resolver.resolve_arg(typ) if resolver else typ
        if has_default and default != FUNCTION_CALL and typ in (UNKNOWN, ("list", None)):
            inferred = infer_typ(default)
            if typ == UNKNOWN or (isinstance(inferred, tuple) and inferred[0] == "list"):
                typ = inferred
        if typ == ("list", None):
            typ = ("list", STR)
        args.append(Arg(name, typ, default, has_default or optional, docs.get(name)))
    dropped = [p.name.value for p in (*params.posonly_params, *params.kwonly_params)]
    return Signature(tuple(args), tuple(dropped), fn.asynchronous is not None)


def _resolver(
    text: str, first_pass: list[tuple[cst.Param, Typ, bool]], classes: Callable[[], Classes]
) -> TypeResolver | None:
    has_resource = any(isinstance(t, tuple) and t[0] == "resource" for _, t, _ in first_pass)
    use_enums = "Enum" in text and (has_resource or "Args:" in text)
    use_models = any(m in text for m in ("BaseModel", "dataclass"))
    if not (use_enums or use_models):
        return None
    return TypeResolver(classes(), use_enums=use_enums)


def _docstring_args(fn: cst.FunctionDef, text: str) -> dict[str, str]:
    """Google-style ``Args:`` descriptions of a plain (not async) main, as wmill reads them."""
    if fn.asynchronous is not None:
        return {}
    # fn was parsed from the signature only: find the docstring in the file text instead
    start = find_main(text)
    if start is None:
        return {}
    body = text[start:]
    try:
        module = cst.parse_module(_body_head(body))
    except PARSE_ERRORS:
        return {}
    func = module.body[0] if module.body else None
    doc = func.get_docstring(clean=False) if isinstance(func, cst.FunctionDef) else None
    return _parse_args_section(doc) if doc else {}


def _body_head(body: str) -> str:
    """The def line(s) and the function's first statement, enough to read its docstring."""
    quote = min((i for i in (body.find('"""'), body.find("'''")) if i >= 0), default=-1)
    if quote < 0:
        return ""
    end = body.find(body[quote:quote + 3], quote + 3)
    return body[: end + 3] + "\n" if end >= 0 else ""


def _parse_args_section(doc: str) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = doc.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Args:")
    except StopIteration:
        return out
    base: int | None = None
    for line in lines[start + 1:]:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        if base is None:
            base = indent
        elif indent < base and line.rstrip().endswith(":"):
            break
        if ":" in line:
            head, _, rest = line.partition(":")
            name = head.split("(")[0].strip()
            if name:
                out.setdefault(name, rest.strip())
    return out
