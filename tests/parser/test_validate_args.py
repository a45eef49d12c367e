"""validate_args: one message per bad field, naming it; unknown fields allowed."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings, strategies as st

from wac.parser import parse_script, validate_args

SOURCE = '''
from typing import Literal, Optional
from datetime import datetime

def main(n: int, name: str, ratio: float = 0.5, flag: bool = False,
         color: Literal["red", "green"] = "red", tags: list[str] = [],
         when: Optional[datetime] = None, blob: bytes = b"", db: postgresql = None,
         cfg: dict = {}):
    pass
'''
SCHEMA = parse_script(SOURCE).schema
assert SCHEMA is not None


def test_valid_arguments_give_no_message() -> None:
    args = {"n": 3, "name": "x", "ratio": 1, "flag": True, "color": "green", "tags": ["a"],
            "when": "2024-01-02T03:04:05Z", "blob": "aGk=", "db": "$res:f/x/db",
            "cfg": {"a": 1}, "extra": "unknown fields are fine"}
    assert validate_args(SCHEMA, args) == []


def test_wrong_type_names_the_field_and_the_value() -> None:
    assert validate_args(SCHEMA, {"n": "x", "name": "a"}) == [
        "'n': expected integer, got string \"x\""]


def test_missing_required_argument_is_reported() -> None:
    assert validate_args(SCHEMA, {"n": 1}) == ["missing required 'name'"]


def test_each_bad_field_gets_its_own_message() -> None:
    messages = validate_args(SCHEMA, {
        "n": True, "name": None, "ratio": "1", "color": "blue", "tags": ["a", 2],
        "when": "yesterday", "blob": "***", "cfg": [1]})
    assert messages == [
        "'n': expected integer, got boolean true",
        "'name': expected string, got null",
        "'ratio': expected number, got string \"1\"",
        "'color': expected one of \"red\", \"green\", got \"blue\"",
        "'tags': item 1: expected string, got integer 2",
        "'when': expected an ISO 8601 date-time, got \"yesterday\"",
        "'blob': expected base64-encoded bytes, got \"***\"",
        "'cfg': expected object, got array [1]",
    ]


def test_null_is_accepted_for_an_optional_argument() -> None:
    assert validate_args(SCHEMA, {"n": 1, "name": "a", "when": None, "ratio": None}) == []


def test_integral_float_is_an_integer_but_a_fraction_is_not() -> None:
    assert validate_args(SCHEMA, {"n": 2.0, "name": "a"}) == []
    assert validate_args(SCHEMA, {"n": 2.5, "name": "a"}) == [
        "'n': expected integer, got number 2.5"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=8,
)


@settings(deadline=None)
@given(st.dictionaries(st.sampled_from(["n", "name", "ratio", "flag", "color", "tags", "when",
                                        "blob", "db", "cfg", "other"]), json_values))
def test_every_message_names_a_field_and_messages_are_one_per_field(args: dict[str, Any]) -> None:
    messages = validate_args(SCHEMA, args)
    fields = [m.split("'")[1] for m in messages]
    assert len(fields) == len(set(fields))
    assert all(f in SCHEMA["properties"] for f in fields)
    assert "other" not in fields


@settings(deadline=None)
@given(st.integers(), st.text())
def test_well_typed_required_arguments_always_pass(n: int, name: str) -> None:
    assert validate_args(SCHEMA, {"n": n, "name": name}) == []


@settings(deadline=None)
@given(json_values, json_values)
def test_validate_args_never_raises_on_any_schema_shape(schema: Any, args: Any) -> None:
    if isinstance(args, dict):
        validate_args(schema if isinstance(schema, dict) else {"properties": schema}, args)
