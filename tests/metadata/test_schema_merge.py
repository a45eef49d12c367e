"""The metadata around a regenerated schema, and the whole .script.yaml of new scripts.

The regeneration over an edited schema (merge_inputs -> expected_schema_merge) is the parser's and
is checked in tests/parser/test_schema_conformance.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from wac.metadata.schema_merge import update_metadata
from wac.parser import parse_script
from wac.project.scriptmeta import default_metadata
from wac.project.yamlio import dump_yaml

MERGE = Path(__file__).resolve().parent.parent / "data" / "parser"

def test_a_top_level_key_the_user_added_survives_regeneration() -> None:
    info = parse_script("def main(a: int):\n    return a\n", "f/x.py", remote_path="f/x")
    old = {"type": "object", "properties": {}, "required": [], "order": ["a"]}
    regenerated = info.regenerate_schema(old)
    assert regenerated is not None and regenerated["order"] == ["a"]
    assert regenerated["properties"]["a"]["type"] == "integer" and regenerated["required"] == ["a"]


def test_a_failed_parse_resets_to_the_empty_schema_and_bookkeeping_keys_go() -> None:
    meta = {"summary": "s", "schema": {"properties": {"x": {}}}, "has_preprocessor": True, "auto_kind": "x", "no_main_func": True}
    out = update_metadata(meta, None, False)
    assert out["schema"]["properties"] == {} and out["summary"] == "s"
    assert not {"has_preprocessor", "auto_kind", "no_main_func"} & out.keys()


# Where wac's parser deliberately differs from Windmill's (see the parser's docs), the file must
# still be the CLI's rendering of the schema wac inferred.
PARSER_DEVIATIONS = {"all_kinds", "enum_with_broken_helper", "paren_in_signature_comment", "posonly"}


@pytest.mark.parametrize("name", sorted(p.stem for p in (MERGE / "corpus").glob("*.py")))
def test_the_script_yaml_of_a_new_script_is_byte_identical_to_the_cli(name: str) -> None:
    info = parse_script((MERGE / "corpus" / f"{name}.py").read_text(), f"f/oracle/{name}.py", remote_path=f"f/oracle/{name}")
    if info.schema is None:
        pytest.skip("does not parse: wac keeps the previous schema instead of writing an empty one")
    meta = default_metadata(f"f/oracle/{name}.script.lock")
    meta = update_metadata(meta, info.regenerate_schema(meta["schema"]), info.has_preprocessor)
    expected = (MERGE / "expected_yaml" / f"{name}.script.yaml").read_text()
    if name in PARSER_DEVIATIONS:
        assert dump_yaml(meta) != expected
    else:
        assert dump_yaml(meta) == expected
