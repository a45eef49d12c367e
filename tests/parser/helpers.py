from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent.parent / "data" / "parser"
CORPUS = sorted(p.stem for p in (DATA / "corpus").glob("*.py"))


def corpus_source(name: str) -> bytes:
    return (DATA / "corpus" / f"{name}.py").read_bytes()


def load_json(*parts: str) -> Any:
    return json.loads(DATA.joinpath(*parts).read_text(encoding="utf-8"))


def assert_same_key_order(got: Any, expected: Any, where: str = "schema") -> None:
    """Keys in the same order at every depth, except inside `default` values (§1.9)."""
    if isinstance(expected, dict):
        assert isinstance(got, dict), where
        assert list(got) == list(expected), f"key order differs at {where}"
        for key in expected:
            if key != "default":
                assert_same_key_order(got[key], expected[key], f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), where
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            assert_same_key_order(g, e, f"{where}[{i}]")
