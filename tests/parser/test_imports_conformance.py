"""Workspace imports of every corpus script equal what wmill's import parser resolved from
f/oracle/<name>; where wmill fails on a syntax error before main, wac recovers."""

from __future__ import annotations

import pytest

from tests.parser.helpers import CORPUS, corpus_source, load_json
from wac.parser import parse_script


@pytest.mark.parametrize("name", CORPUS)
def test_workspace_imports_match_wmill_for_corpus_script(name: str) -> None:
    expected = load_json("expected_imports", f"{name}.json")
    info = parse_script(corpus_source(name), f"{name}.py", remote_path=expected["path"])
    if "error" in expected:
        # deviation: wmill refuses the whole file; wac reports WAC001 and keeps going
        assert "WAC001" in {d.code for d in info.diagnostics}
        assert info.workspace_imports == ()
    else:
        assert list(info.workspace_imports) == expected["imports"]


def test_relative_import_without_remote_path_is_not_resolved() -> None:
    info = parse_script("from .sibling import x\nimport f.a.b\n\ndef main():\n    pass\n")
    assert info.workspace_imports == ("f/a/b",)


@pytest.mark.parametrize(
    ("remote", "line", "expected"),
    [
        ("f/folder/script", "from .sibling import x", "f/folder/sibling"),
        ("f/folder/script", "from ..other.mod import x", "f/other/mod"),
        ("f/folder/script", "from . import utils", "f/folder"),
        ("u/alice/script", "from ....toodeep import x", "u/alice/script/toodeep"),
        ("script", "from .a.b.c import d", "/a/b/c"),
        ("f/a/b", "from f.shared.lib import tool", "f/shared/lib"),
        ("f/a/b", "import f.top.level as tl", "f/top/level"),
        ("f/a/b", "from u.bob.lib.deep import thing", "u/bob/lib/deep"),
    ],
)
def test_import_resolves_to_the_remote_path_wmill_uses(remote: str, line: str,
                                                       expected: str) -> None:
    info = parse_script(f"{line}\n\ndef main():\n    pass\n", remote_path=remote)
    assert info.workspace_imports == (expected,)


def test_imports_after_main_or_nested_in_blocks_are_not_dependencies() -> None:
    source = (
        "try:\n    from .a import x\nexcept ImportError:\n    pass\n"
        "from .b import y\n\n@deco\nasync def main():\n    from .c import z\n\nfrom .d import w\n"
    )
    info = parse_script(source, remote_path="f/x/s")
    assert info.workspace_imports == ("f/x/b",)
