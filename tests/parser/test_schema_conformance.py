"""The schema for every corpus script equals what the real wmill CLI wrote, except the
documented deviations (docs/compat-parser.md), whose correct value is asserted instead."""

from __future__ import annotations

import copy
import json

import pytest

from tests.parser.helpers import CORPUS, assert_same_key_order, corpus_source, load_json
from wac.parser import parse_script

SCHEMA_URL = "https://json-schema.org/draft/2020-12/schema"


def _schema(properties: dict, required: list) -> dict:
    return {"$schema": SCHEMA_URL, "type": "object", "properties": properties,
            "required": required}


def _str(default=None):
    return {"type": "string", "description": "", "default": default, "originalType": "string"}


def _int(default=None):
    return {"type": "integer", "description": "", "default": default}


# name -> (why wac differs, the schema wac writes)
DEVIATIONS = {
    "paren_in_signature_comment": (
        "wmill counts parentheses naively, so a ')' in a comment inside the signature makes "
        "the whole schema empty; wac tokenizes the signature",
        _schema({"a": _int(), "b": _str("x")}, ["a"]),
    ),
    "posonly": (
        "wmill loses every regular parameter's default when a positional-only parameter has "
        "a default (unsigned index wrap-around), making 'c' required",
        _schema({"c": _int(2)}, []),
    ),
    "all_kinds": (
        "same positional-only default bug: 'a' keeps its default \"a\" in wac",
        _schema({"a": _str("a")}, []),
    ),
    "enum_with_broken_helper": (
        "a syntax error in an unrelated helper hides every enum from wmill; wac parses the "
        "rest of the file and still finds Color",
        _schema({"x": {"type": "string", "description": "", "default": None, "enum": ["red"],
                       "originalType": "enum"}}, ["x"]),
    ),
    "syntax_error_signature": (
        "wmill replaces the schema with an empty one (dropping user-edited properties); wac "
        "returns None plus a WAC001 diagnostic so the caller can keep the old schema",
        None,
    ),
}


@pytest.mark.parametrize("name", CORPUS)
def test_schema_matches_the_real_wmill_output_for_corpus_script(name: str) -> None:
    info = parse_script(corpus_source(name), f"{name}.py", remote_path=f"f/oracle/{name}")
    if name in DEVIATIONS:
        expected = DEVIATIONS[name][1]
    else:
        expected = load_json("expected_schema", f"{name}.json")
    assert info.schema == expected
    if expected is not None:
        assert_same_key_order(info.schema, expected)
        # numbers as the CLI writes them: 1.0 is 1 (JavaScript), 1e29 stays a float
        assert json.dumps(info.schema) == json.dumps(expected)


def test_every_deviation_really_differs_from_wmill() -> None:
    for name, (_, ours) in DEVIATIONS.items():
        assert ours != load_json("expected_schema", f"{name}.json"), name


def test_schema_with_syntax_error_in_signature_comes_with_a_wac001_diagnostic() -> None:
    info = parse_script(corpus_source("syntax_error_signature"), "s.py")
    assert info.schema is None
    assert [(d.code, d.line) for d in info.diagnostics] == [("WAC001", 1)]
    assert "signature of main" in info.diagnostics[0].message


# merge_inputs/<case>.old.json regenerated from this source gives expected_schema_merge/<case>
MERGE_SOURCES = {
    "ann_int__type_changed": ("corpus", "ann_int.py"),
    "ann_list_dict__items_preserved": ("merge_inputs", "ann_list_dict.py"),
    "ann_str__desc_enum_kept": ("corpus", "ann_str.py"),
    "ann_str__plain_str_format_kept": ("corpus", "ann_str.py"),
    "dataclass_param__nested_old_props": ("corpus", "dataclass_param.py"),
    "dt_datetime_from_import__date_format_kept": ("merge_inputs", "dt_datetime_from_import.py"),
    # recorded by the repo helper with windmill-parser-wasm-py 1.782.0 (the CLI 1.819's) and the CLI's
    # inferSchema/argSigToJsonSchemaType run verbatim (merge_inputs/record_merge.mjs.txt); the
    # expected files hold that output with the CLI's YAML key order applied
    "list_forms__committed_object": ("merge_inputs", "list_forms.py"),
    "list_forms__items_enum_null": ("merge_inputs", "list_forms.py"),
    "rules__edited_fields": ("merge_inputs", "rules.py"),
    "rules__types_flipped": ("merge_inputs", "rules.py"),
    "optional_forms__empty_old": ("merge_inputs", "optional_forms.py"),
}


@pytest.mark.parametrize("case", sorted(MERGE_SOURCES))
def test_schema_regenerated_over_an_existing_one_keeps_what_wmill_keeps(case: str) -> None:
    from tests.parser.helpers import DATA

    folder, filename = MERGE_SOURCES[case]
    info = parse_script((DATA / folder / filename).read_bytes(), filename)
    old = load_json("merge_inputs", f"{case}.old.json")
    pristine = copy.deepcopy(old)
    merged = info.regenerate_schema(old)
    expected = load_json("expected_schema_merge", f"{case}.json")
    assert merged == expected
    assert_same_key_order(merged, expected)
    assert old == pristine


def test_syntax_error_in_a_pydantic_file_still_gives_the_schema_with_its_model() -> None:
    source = (
        "from pydantic import BaseModel\n\nclass User(BaseModel):\n    name: str\n\n"
        "def helper(:\n    pass\n\ndef main(user: User, n: int = 1):\n    return user\n"
    )
    info = parse_script(source, "s.py")
    assert info.schema["properties"]["user"]["format"] == "resource-User"
    assert info.schema["properties"]["user"]["properties"] == {
        "name": {"type": "string", "description": "", "originalType": "string"}}
    assert info.schema["required"] == ["user"]
    assert [d.code for d in info.diagnostics] == ["WAC001"]


def test_docstring_type_with_brackets_and_pipe_becomes_original_type() -> None:
    source = ('def main(a, b: str = "x", c=2):\n    """Do it.\n\n    Args:\n'
              '        a: list[int] | None style text\n        b (str): plain text\n'
              '        c: [in brackets] only\n\n    Returns:\n        x: y | [z]\n    """\n'
              '    return a\n')
    props = parse_script(source).schema["properties"]
    assert props["a"]["originalType"] == "list[int] | None style text"
    assert props["b"]["originalType"] == "string"
    assert "originalType" not in props["c"]


def test_async_main_docstring_is_ignored_like_wmill() -> None:
    source = ('async def main(a):\n    """\n    Args:\n        a: list[int] | None\n    """\n')
    assert "originalType" not in parse_script(source).schema["properties"]["a"]


@pytest.mark.parametrize("detail", ["schema", "metadata"])
def test_faster_detail_levels_give_the_same_schema_as_full_analysis(detail: str) -> None:
    for name in CORPUS:
        source = corpus_source(name)
        full = parse_script(source, remote_path=f"f/oracle/{name}")
        fast = parse_script(source, remote_path=f"f/oracle/{name}", detail=detail)
        assert (fast.schema, fast.has_preprocessor, fast.main_found) == (
            full.schema, full.has_preprocessor, full.main_found), name
        if detail == "metadata":
            assert (fast.requirements, fast.workspace_imports) == (
                full.requirements, full.workspace_imports), name


def test_unknown_detail_level_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="detail"):
        parse_script("def main(): pass", detail="everything")
