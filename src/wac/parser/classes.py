"""Enum and model (pydantic / dataclass) classes defined in a script (spec §1.5, §1.8)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from wac.parser.types import (
    STR,
    UNKNOWN,
    Typ,
    annotation_typ,
    dotted_name,
    name_typ,
    string_value,
)

_ENUM_BASES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"})
_MODEL_BASES = frozenset({"BaseModel", "pydantic.BaseModel"})
_DATACLASS_DECORATORS = frozenset(
    {"dataclass", "dataclasses.dataclass", "pydantic.dataclasses.dataclass"}
)
_MAX_FIELDS = 200


@dataclass
class Classes:
    """Enums (name -> member -> string value) and models (name -> field annotations)."""

    enums: dict[str, dict[str, str]] = field(default_factory=dict)
    models: dict[str, list[tuple[str, cst.BaseExpression]]] = field(default_factory=dict)


def collect_classes(module: cst.Module) -> Classes:
    """Top-level enum and model classes of ``module`` (wherever they are relative to main)."""
    found = Classes()
    for stmt in module.body:
        if not isinstance(stmt, cst.ClassDef):
            continue
        name = stmt.name.value
        bases = [dotted_name(arg.value) for arg in stmt.bases if arg.keyword is None]
        if any(base in _ENUM_BASES for base in bases):
            members = _enum_members(stmt)
            if members:
                found.enums.setdefault(name, members)
        elif any(base in _MODEL_BASES for base in bases) or _is_dataclass(stmt):
            found.models.setdefault(name, _model_fields(stmt))
    return found


def _is_dataclass(cls: cst.ClassDef) -> bool:
    for deco in cls.decorators:
        target = deco.decorator.func if isinstance(deco.decorator, cst.Call) else deco.decorator
        if dotted_name(target) in _DATACLASS_DECORATORS:
            return True
    return False


def _body_statements(cls: cst.ClassDef) -> list[cst.BaseSmallStatement]:
    body = cls.body
    if isinstance(body, cst.SimpleStatementSuite):
        return list(body.body)
    out: list[cst.BaseSmallStatement] = []
    for stmt in body.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
    return out


def _enum_members(cls: cst.ClassDef) -> dict[str, str]:
    members: dict[str, str] = {}
    for small in _body_statements(cls):
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            continue
        target = small.targets[0].target
        if not isinstance(target, cst.Name) or target.value.startswith("_"):
            continue
        value = string_value(small.value)
        if isinstance(value, str):
            members.setdefault(target.value, value)
    return members


def _model_fields(cls: cst.ClassDef) -> list[tuple[str, cst.BaseExpression]]:
    fields: list[tuple[str, cst.BaseExpression]] = []
    for small in _body_statements(cls):
        if isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
            fields.append((small.target.value, small.annotation.annotation))
            if len(fields) == _MAX_FIELDS:
                break
    return fields


class TypeResolver:
    """Resolves names of enums and models found in the script into typs."""

    def __init__(self, classes: Classes, *, use_enums: bool) -> None:
        self._classes = classes
        self._use_enums = use_enums

    @property
    def enums(self) -> dict[str, dict[str, str]]:
        return self._classes.enums if self._use_enums else {}

    def resolve_arg(self, typ: Typ) -> Typ:
        """Resolve an argument's first-pass typ (enums only at top level, models anywhere)."""
        if isinstance(typ, tuple) and typ[0] == "resource":
            members = self.enums.get(typ[1])
            if members is not None:
                return ("str", tuple(members.values()))
        return self._resolve_models(typ)

    def _resolve_models(self, typ: Typ) -> Typ:
        if isinstance(typ, tuple):
            if typ[0] == "resource" and typ[1] in self._classes.models:
                return self.model_typ(typ[1], ())
            if typ[0] == "list" and typ[1] is not None:
                return ("list", self._resolve_models(typ[1]))
        return typ

    def model_typ(self, name: str, active: tuple[str, ...]) -> Typ:
        """``("object", name, props)``; a model met again while resolving it has props None."""
        fields = self._classes.models[name]
        if name in active or not fields:
            return ("object", name, None)
        inner = active + (name,)
        props = tuple((key, self._field_typ(ann, inner)) for key, ann in fields)
        return ("object", name, props)

    def _field_typ(self, node: cst.BaseExpression, active: tuple[str, ...]) -> Typ:
        if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name):
            head = node.value.value
            inner = node.slice[0].slice if node.slice else None
            value = inner.value if isinstance(inner, cst.Index) else None
            if head in ("List", "list") and value is not None:
                return ("list", self._field_typ(value, active))
            if head in ("Optional", "Annotated") and value is not None:
                return self._field_typ(value, active)
            if head in ("Dict", "dict"):
                return ("object", None, ())
            return UNKNOWN
        if isinstance(node, cst.Name):
            if node.value in self._classes.models:
                return self.model_typ(node.value, active)
            if node.value == "Any":
                return UNKNOWN
            typ = name_typ(node.value)
            if typ == ("list", None):
                return ("list", STR)
            return UNKNOWN if isinstance(typ, tuple) and typ[0] == "resource" else typ
        if isinstance(node, cst.Attribute):
            typ, _ = annotation_typ(node)
            return UNKNOWN if isinstance(typ, tuple) and typ[0] == "resource" else typ
        return UNKNOWN

