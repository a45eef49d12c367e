from __future__ import annotations

from wac.project.collation import locale_sorted, sort_key, yaml_key


def test_module_names_sort_like_icu_not_like_bytes() -> None:
    names = ["Upper.py", "extract.py", "a/b.py", "helper.ts", "a_b.py", ".hidden/h.py", "extract_two.py"]
    assert locale_sorted(names) == [
        ".hidden/h.py", "a_b.py", "a/b.py", "extract_two.py", "extract.py", "helper.ts", "Upper.py",
    ]


def test_punctuation_sorts_before_digits_before_letters() -> None:
    assert locale_sorted(["a", "9", "10", "1", "$schema", "_x"]) == ["_x", "$schema", "1", "10", "9", "a"]


def test_lowercase_sorts_before_uppercase_only_as_a_tie_breaker() -> None:
    assert locale_sorted(["B", "b", "A", "a"]) == ["a", "A", "b", "B"]
    assert locale_sorted(["helper.ts", "README.md", "Upper.py"]) == ["helper.ts", "README.md", "Upper.py"]


def test_accents_are_secondary_differences() -> None:
    assert locale_sorted(["enum", "é", "e"]) == ["e", "é", "enum"]


def test_remote_path_suffixes_order_underscore_before_plus() -> None:
    assert sort_key("f/b/flow1_2") < sort_key("f/b/flow1+__script_hash")
    assert sort_key("f/demo/x_2") < sort_key("f/demo/x+a")


def test_priority_keys_come_first_in_yaml_mappings() -> None:
    keys = ["schema", "kind", "lock", "description", "summary", "has_preprocessor", "tag"]
    assert sorted(keys, key=yaml_key) == [
        "summary", "description", "lock", "has_preprocessor", "kind", "schema", "tag",
    ]
    params = ["_under", "a", "id", "version", "type", "name", "description", "value", "lock", "B", "Content", "zeta"]
    assert sorted(reversed(params), key=yaml_key) == params
