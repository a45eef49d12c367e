"""The one error tree: the drawing in ``wac/errors.py``, the classes, and docs/reference/exit-codes.md agree."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import wac
from wac import errors
from wac.errors import WacError

DOC = Path(__file__).resolve().parent.parent / "docs" / "reference" / "exit-codes.md"
_DRAWN = re.compile(r"^(?P<indent>[ │├└─]*?)(?:[├└]── )?(?P<name>[A-Z]\w*Error)(?: \((?P<code>\d+)\))?(?:\s|$)")


def _all_error_classes() -> dict[str, type[WacError]]:
    """Every WacError subclass defined anywhere in wac (each module imported once)."""
    for info in pkgutil.walk_packages(wac.__path__, "wac."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    importlib.import_module("wac._shims.wmill.client")  # the wmill shim user code imports as `wmill`

    found: dict[str, type[WacError]] = {}
    todo: list[type[WacError]] = [WacError]
    while todo:
        cls = todo.pop()
        if cls.__module__.startswith("wac.") and cls.__name__ not in found:
            found[cls.__name__] = cls
            todo.extend(cls.__subclasses__())
    return found


def _drawing() -> dict[str, tuple[str | None, int]]:
    """``name -> (drawn parent, drawn exit code)``; a class drawn without a code has its parent's."""
    doc = errors.__doc__ or ""
    block = doc[doc.index("    WacError (1)"):].split("\n\n")[0]
    drawn: dict[str, tuple[str | None, int]] = {}
    stack: list[tuple[int, str]] = []
    for line in block.splitlines():
        text = line[4:]  # the block is indented by four
        match = _DRAWN.match(text)
        assert match, f"a line of the drawing does not name an error: {line!r}"
        depth = text.index(match["name"])
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parent = stack[-1][1] if stack else None
        code = int(match["code"]) if match["code"] else drawn[parent][1] if parent else 1
        assert match["name"] not in drawn, f"{match['name']} is drawn twice"
        drawn[match["name"]] = (parent, code)
        stack.append((depth, match["name"]))
    return drawn


def _doc_table() -> dict[int, set[str]]:
    """The "which error exits with which code" table of exit-codes.md: ``code -> class names``."""
    text = DOC.read_text()
    section = text[text.index("## Which error exits with which code"):]
    table: dict[int, set[str]] = {}
    for row in re.findall(r"^\| (\d+) \| (.+) \|$", section, flags=re.M):
        table[int(row[0])] = set(re.findall(r"`(\w+)`", row[1]))
    return table


def test_every_error_class_of_wac_is_drawn_in_the_tree_under_its_real_parent() -> None:
    classes = _all_error_classes()
    drawn = _drawing()
    assert set(drawn) == set(classes), (
        f"not drawn: {sorted(set(classes) - set(drawn))}; drawn but not defined: {sorted(set(drawn) - set(classes))}"
    )
    for name, cls in classes.items():
        wac_bases = [b.__name__ for b in cls.__bases__ if issubclass(b, WacError)]
        assert wac_bases == ([drawn[name][0]] if drawn[name][0] else []), f"{name} is drawn under the wrong parent"


def test_the_drawn_exit_code_of_each_error_is_the_one_it_exits_with() -> None:
    drawn = _drawing()
    for name, cls in _all_error_classes().items():
        assert cls.exit_code == drawn[name][1], f"{name} exits {cls.exit_code} but is drawn with {drawn[name][1]}"


def test_the_exit_codes_page_lists_each_error_under_the_code_it_exits_with() -> None:
    table = _doc_table()
    listed = [name for names in table.values() for name in names]
    assert len(listed) == len(set(listed)), "a class is listed under two codes"
    classes = _all_error_classes()
    assert set(listed) == set(classes)
    for code, names in table.items():
        for name in names:
            assert classes[name].exit_code == code, f"{name} exits {classes[name].exit_code}, the page says {code}"
    main_table = DOC.read_text().split("## Which error")[0]
    documented = {int(c) for c in re.findall(r"^\| (\d+)(?:, \d+)? \|", main_table, flags=re.M)}
    assert set(table) <= documented, "an error exits with a code the table of codes does not explain"


def test_every_error_has_a_message_of_its_own() -> None:
    for name, cls in _all_error_classes().items():
        assert (cls.__doc__ or "").strip() and cls().message, f"{name} has no default message"
