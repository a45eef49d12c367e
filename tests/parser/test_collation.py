"""Schema keys come out in the order the wmill CLI's YAML writer uses."""

from __future__ import annotations

import random

from wac.parser.collation import sort_key, sort_mappings


def test_prioritized_names_sort_as_the_cli_sorts_them() -> None:
    keys = ["_under", "a", "id", "version", "type", "name", "description", "value", "lock",
            "B", "Content", "zeta"]
    shuffled = keys[:]
    random.Random(3).shuffle(shuffled)
    assert sorted(shuffled, key=sort_key) == keys


def test_icu_order_punctuation_digits_case_and_accents() -> None:
    expected = ["_x", "$schema", "1", "10", "9", "a", "A", "a_b.py", "a.py", "a/b.py", "b", "B",
                "e", "é", "enum", "extract_two.py", "extract.py", "helper.ts", "README.md",
                "Upper.py"]
    assert sorted(reversed(expected), key=sort_key) == expected


def test_sort_mappings_orders_every_dict_at_every_depth_and_keeps_lists() -> None:
    value = {"zeta": {"b": 1, "a": [{"y": 1, "x": 2}]}, "type": "object", "$schema": "s"}
    result = sort_mappings(value)
    assert list(result) == ["$schema", "type", "zeta"]
    assert list(result["zeta"]) == ["a", "b"]
    assert list(result["zeta"]["a"][0]) == ["x", "y"]
