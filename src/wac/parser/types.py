"""Annotation -> wmill ``typ``, the parser's intermediate type (spec §1.4).

A typ is a plain value, mirroring the real parser's serde encoding:
``"int" "float" "bool" "bytes" "datetime" "date" "sql" "unknown"``, or a tuple
``("str", None | tuple[str, ...])``, ``("list", typ | None)`` (None: bare ``list``, item type
still open), ``("resource", name)``, ``("object", name | None, props | None)`` with props a tuple
of ``(key, typ)``, ``("dynselect", x)``, ``("dynmultiselect", x)``.
"""

from __future__ import annotations

from typing import Any

import libcst as cst

Typ = str | tuple[Any, ...]
UNKNOWN: Typ = "unknown"
STR: Typ = ("str", None)

_SIMPLE: dict[str, Typ] = {
    "str": STR,
    "int": "int",
    "float": "float",
    "bool": "bool",
    "bytes": "bytes",
    "datetime": "datetime",
    "date": "date",
    "sql": "sql",
    "Sql": "sql",
    "dict": ("object", None, ()),
    "list": ("list", None),
    "S3Object": ("resource", "s3_object"),
}


def dotted_name(node: cst.BaseExpression) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        head = dotted_name(node.value)
        return None if head is None else f"{head}.{node.attr.value}"
    return None


def name_typ(name: str) -> Typ:
    """Typ of a bare (or ``wmill.``-prefixed, already stripped) annotation name."""
    simple = _SIMPLE.get(name)
    if simple is not None:
        return simple
    if name == "None":
        return UNKNOWN
    if name.startswith("DynSelect_"):
        return ("dynselect", name[len("DynSelect_"):])
    if name.startswith("DynMultiselect_"):
        return ("dynmultiselect", name[len("DynMultiselect_"):])
    return ("resource", name)


def _dotted_typ(dotted: str) -> Typ:
    if dotted.startswith("wmill.") and dotted.count(".") == 1:
        return name_typ(dotted[len("wmill."):])
    if dotted == "datetime.datetime":
        return "datetime"
    if dotted == "datetime.date":
        return "date"
    return ("resource", dotted)


def string_value(node: cst.BaseExpression) -> str | bytes | None:
    """Value of a string literal (None for f-strings, invalid escapes, str+bytes mixes)."""
    if not isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        return None
    try:
        value = node.evaluated_value
    except Exception:  # libcst evaluates with literal_eval: any error means "not a literal"
        return None
    return value if isinstance(value, (str, bytes)) else None


def _literal_values(sub: cst.Subscript) -> Typ:
    # wmill reads a single member as a non-tuple slice and gives up on it: kept for compat.
    if len(sub.slice) < 2:
        return STR
    values: list[str] = []
    for element in sub.slice:
        index = element.slice
        if isinstance(index, cst.Index):
            value = string_value(index.value)
            if isinstance(value, str):
                values.append(value)
    return ("str", tuple(values)) if values else STR


def _single_index(sub: cst.Subscript) -> cst.BaseExpression | None:
    if len(sub.slice) != 1 or not isinstance(sub.slice[0].slice, cst.Index):
        return None
    return sub.slice[0].slice.value


def annotation_typ(node: cst.BaseExpression | None) -> tuple[Typ, bool]:
    """(typ, optional) of an annotation; ``optional`` is True for ``Optional[X]``/``X | None``."""
    if node is None:
        return UNKNOWN, False
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name):
        head = node.value.value
        if head == "Optional":
            inner = _single_index(node)
            return (_optional_inner(annotation_typ(inner)[0]) if inner is not None else UNKNOWN), True
        if head in ("list", "List"):
            inner = _single_index(node)
            return ("list", item_typ(inner) if inner is not None else UNKNOWN), False
        if head == "Literal":
            return _literal_values(node), False
        return UNKNOWN, False
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        if isinstance(node.right, cst.Name) and node.right.value == "None":
            return _optional_inner(annotation_typ(node.left)[0]), True
        return UNKNOWN, False
    if isinstance(node, cst.Name):
        return name_typ(node.value), False
    if isinstance(node, cst.Attribute):
        dotted = dotted_name(node)
        return (_dotted_typ(dotted) if dotted else UNKNOWN), False
    return UNKNOWN, False


def _optional_inner(typ: Typ) -> Typ:
    """Windmill's parser: a bare ``list`` under ``Optional[...]`` / ``| None`` is unknown."""
    return UNKNOWN if typ == ("list", None) else typ


def item_typ(node: cst.BaseExpression) -> Typ:
    """Typ of a list item annotation (Optional unwrapped, same table)."""
    typ, _ = annotation_typ(node)
    if typ == ("list", None):
        return ("list", STR)
    return typ
