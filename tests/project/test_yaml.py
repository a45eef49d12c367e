from __future__ import annotations

from pathlib import Path

import pytest

from wac.project.yamlio import dump_yaml, js_number, load_yaml

DATA = Path(__file__).resolve().parent.parent / "data"


def _cli_written_yaml() -> list[Path]:
    files = sorted((DATA / "parser" / "expected_yaml").glob("*.yaml"))
    for scenario in sorted((DATA / "wmill-cli").iterdir()):
        for tree in sorted(scenario.glob("tree-after-run*")):
            files += sorted(tree.rglob("*.script.yaml")) + sorted(tree.rglob("script.yaml"))
            files += sorted(tree.glob("wmill-lock.yaml"))
    return files


HAND_WRITTEN = {"20-gm-preserves-edited-schema-fields"}


@pytest.mark.parametrize(
    "path",
    [p for p in _cli_written_yaml() if not any(h in str(p) for h in HAND_WRITTEN) or "run2" in str(p)],
    ids=lambda p: "/".join(p.parts[-4:]),
)
def test_every_file_the_cli_wrote_is_re_rendered_byte_for_byte(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert dump_yaml(load_yaml(text)) == text


@pytest.mark.parametrize(
    ("value", "rendered"),
    [
        ("hello world", "hello world"),
        ("yes", "yes"),
        ("a#b", "a#b"),
        ("it's", "it's"),
        ('say "hi"', 'say "hi"'),
        ("é ü", "é ü"),
        ("", "''"),
        ("123", "'123'"),
        ("1.5", "'1.5'"),
        ("1e10", "'1e10'"),
        ("0x1F", "'0x1F'"),
        ("true", "'true'"),
        ("null", "'null'"),
        ("~", "'~'"),
        ("key: value", "'key: value'"),
        ("#comment", "'#comment'"),
        ("!inline foo", "'!inline foo'"),
        ("- dash", "'- dash'"),
        ("@at", "'@at'"),
        ("%pct", "'%pct'"),
        ("a #b", "'a #b'"),
        (" lead", "' lead'"),
        ("trail ", "'trail '"),
        ("it's: x", '"it\'s: x"'),
        ("line1\nline2", "|-\n  line1\n  line2"),
    ],
)
def test_scalars_are_quoted_exactly_as_the_yaml_library_does(value: str, rendered: str) -> None:
    assert dump_yaml({"k": value}) == f"k: {rendered}\n"


def test_long_plain_text_is_folded_at_80_columns_with_a_2_space_continuation() -> None:
    text = " ".join(["word"] * 30)
    out = dump_yaml({"summary": text})
    lines = out.splitlines()
    assert len(lines) == 3
    assert all(len(line) <= 80 for line in lines)
    assert all(line.startswith("  word") for line in lines[1:])
    assert load_yaml(out) == {"summary": text}


def test_long_text_with_a_single_quote_is_double_quoted_and_folded_like_the_cli() -> None:
    description = (
        "This is a rather long description that should exceed the default eighty character "
        "line width of the yaml library: it has colons and 'quotes' too"
    )
    assert dump_yaml({"description": description}) == (
        'description: "This is a rather long description that should exceed the default\n'
        "  eighty character line width of the yaml library: it has colons and 'quotes'\n"
        '  too"\n'
    )


def test_empty_collections_and_nesting_use_block_style_with_indented_sequences() -> None:
    doc = {"schema": {"required": ["x", "y"], "properties": {}, "d": [], "n": None, "b": True}}
    assert dump_yaml(doc) == (
        "schema:\n  b: true\n  d: []\n  n: null\n  properties: {}\n  required:\n    - x\n    - y\n"
    )


def test_sequences_of_mappings_and_of_sequences() -> None:
    assert dump_yaml({"a": [{"y": 1, "x": 2}, [1, 2]]}) == "a:\n  - x: 2\n    y: 1\n  - - 1\n    - 2\n"


@pytest.mark.parametrize(
    ("number", "text"),
    [(1.0, "1"), (1.5, "1.5"), (1e16, "10000000000000000"), (1e21, "1e+21"), (1e-7, "1e-7"),
     (0.000001, "0.000001"), (-2.5, "-2.5"), (123456789, "123456789"), (0.1, "0.1")],
)
def test_numbers_render_as_javascript_prints_them(number: float, text: str) -> None:
    assert js_number(number) == text


def test_reading_follows_yaml_1_2_so_yes_and_on_stay_strings() -> None:
    assert load_yaml("a: yes\nb: on\nc: 0o17\nd: 1e3\ne: ~\n") == {"a": "yes", "b": "on", "c": 15, "d": 1000.0, "e": None}
