"""The parser never raises on user code: bad bytes and broken syntax become diagnostics."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from wac.parser import parse_script

VALID = "import requests\nfrom .lib import x\n\ndef main(a: int, b: str = 'x'):\n    return a\n"


def test_utf8_bom_is_dropped() -> None:
    info = parse_script(codecs.BOM_UTF8 + VALID.encode(), remote_path="f/a/b")
    assert info.diagnostics == ()
    assert list(info.schema["properties"]) == ["a", "b"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_files_are_refused_with_a_diagnostic(encoding: str) -> None:
    info = parse_script(VALID.encode(encoding), "s.py")
    assert info.schema is None
    assert [(d.code, d.severity) for d in info.diagnostics] == [("WAC002", "error")]
    assert encoding.upper() in info.diagnostics[0].message


def test_invalid_utf8_is_replaced_and_reported_where_it_is() -> None:
    data = VALID.encode().replace(b"'x'", b"'\xff'")
    info = parse_script(data, "s.py")
    assert info.schema["properties"]["b"]["default"] == "\ufffd"
    assert [str(d) for d in info.diagnostics] == [
        "s.py:4:28 WAC003 invalid UTF-8 bytes replaced by U+FFFD; save the file as UTF-8"]


def test_crlf_line_endings_parse_like_lf() -> None:
    crlf = parse_script(VALID.replace("\n", "\r\n"), remote_path="f/a/b")
    lf = parse_script(VALID, remote_path="f/a/b")
    assert crlf.schema == lf.schema
    assert crlf.workspace_imports == lf.workspace_imports == ("f/a/lib",)
    assert crlf.requirements == lf.requirements == ("requests",)


def test_syntax_error_in_the_body_still_gives_schema_imports_and_a_precise_diagnostic() -> None:
    source = "import httpx\n\ndef helper(:\n    pass\n\ndef main(a: int):\n    return (a +\n"
    info = parse_script(source, "s.py")
    assert info.schema["required"] == ["a"]
    assert info.requirements == ("httpx",)
    assert [str(d) for d in info.diagnostics] == ["s.py:3:12 WAC001 syntax error: invalid syntax"]


def test_multiline_signature_with_parentheses_in_comments_and_strings() -> None:
    source = ('def main(\n    a: str = ")",  # a (comment\n    b: int = 2,  # ) another\n'
              '    c: list[str] = ["(", ")"],\n):\n    pass\n')
    info = parse_script(source)
    assert list(info.schema["properties"]) == ["a", "b", "c"]
    assert info.schema["properties"]["c"]["default"] == ["(", ")"]


def test_unclosed_signature_gives_no_schema_and_a_diagnostic() -> None:
    info = parse_script("def main(a: int,\n")
    assert info.schema is None
    assert [d.code for d in info.diagnostics] == ["WAC001"]


@pytest.mark.parametrize(
    "source",
    ["", "\x00", "def main(", "def main(a=", "def main(**)", "def main(a: 'x' 'y' = b'a' 'b'):",
     "async def main(*, a):\n", "def main(a=1 if 2 else 3, b=[*x], c={**d}):\n  pass",
     "class A(Enum):\n  X = 'x'\ndef main(a: A = A.Y):\n  pass", "\t\tdef main(x):",
     "def main(a: Literal[]):", "def main(a=0b102):", "def main(a = 1_000_):",
     "from . import (\n", "@\ndef main(): pass", "def main(a: int = -):", "\ufeffdef main(x):",
     "def main(a=1e999, b=10**400, c=1" + "0" * 400 + ", d='\\N{nope}'):\n  pass",
     "from wac import task\n@task(retry={1: 2}, timeout=-1)\ndef f(): pass",
     "from wac import step\nstep()\nstep(name=1)\nstep(*a)"],
)
def test_malformed_sources_never_raise(source: str) -> None:
    info = parse_script(source, "s.py", remote_path="f/a/b")
    assert all(d.code.startswith("WAC") and d.code != "WAC000" for d in info.diagnostics)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("def main(a:int=[]){}'\"#\n \t.:,*/\\@xyz0")),
               max_size=80))
def test_random_text_never_raises(text: str) -> None:
    info = parse_script(text, "r.py", remote_path="f/a/b")
    assert "WAC000" not in {d.code for d in info.diagnostics}


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=60))
def test_random_bytes_never_raise(data: bytes) -> None:
    info = parse_script(b"def main(a: int):\n" + data, "r.py")
    assert "WAC000" not in {d.code for d in info.diagnostics}


def test_a_bug_in_one_analysis_stage_keeps_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    import wac.parser.script as script

    def broken(*args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(script, "scan_workflow", broken)
    info = parse_script(VALID, "s.py", remote_path="f/a/b")
    assert list(info.schema["properties"]) == ["a", "b"]
    assert info.workspace_imports == ("f/a/lib",)
    assert [(d.code, d.severity) for d in info.diagnostics] == [("WAC000", "error")]
    assert "RuntimeError: boom" in info.diagnostics[0].message


def test_unicode_line_separators_and_form_feeds_are_not_line_breaks() -> None:
    source = 'def main(a: str = "x\u2028y", b=1):\n    pass\n\x0c\ndef helper(:\n    pass\n'
    info = parse_script(source, "s.py")
    assert info.schema["properties"]["a"]["default"] == "x\u2028y"
    assert [str(d) for d in info.diagnostics] == ["s.py:4:12 WAC001 syntax error: invalid syntax"]
