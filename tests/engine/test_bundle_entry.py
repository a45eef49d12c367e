"""What preview says about files that are not runnable scripts (issue 18 point 5)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.clirun import wac
from wac.engine.bundle import check_entry, check_syntax
from wac.errors import ScriptError

HELPER = '''"""Result helpers kept beside scripts (a Windmill repo's module-like file)."""
from __future__ import annotations

from ..internal._result import Result


def ok(value: object) -> Result:
    """Wrap ``value``."""
    return Result(value)
'''


def test_a_helper_module_without_main_is_named_as_such_not_as_a_syntax_error() -> None:
    with pytest.raises(ScriptError, match="has no main function: it is a module other scripts import") as info:
        check_entry("f/x/sub/helper.py", HELPER)
    assert "relative imports resolve to workspace paths" in (info.value.hint or "")


@pytest.mark.parametrize("source", [
    "def main():\n    return 1\n",
    "async def main():\n    return 1\n",
    "from f.x.lib import main\n",
    "import os\nmain = os.getcwd\n",
    "try:\n    from a import main\nexcept ImportError:\n    pass\n",
])
def test_every_way_of_binding_main_is_accepted(source: str) -> None:
    check_entry("f/x/s.py", source)


def test_syntax_newer_than_the_running_python_names_that_python() -> None:
    if sys.version_info >= (3, 12):
        pytest.skip("this Python parses PEP 695")
    with pytest.raises(ScriptError, match=r"syntax error: invalid syntax \(under Python 3\.\d+, which runs the script\)"):
        check_syntax("f/x/t.py", "type Alias = int\n")


@pytest.mark.slow
def test_preview_of_a_helper_says_what_is_wrong_and_creates_no_job(tmp_path: Path) -> None:
    (tmp_path / "wmill.yaml").write_text("defaultTs: bun\n")
    (tmp_path / "f/x/sub").mkdir(parents=True)
    (tmp_path / "f/x/internal").mkdir()
    (tmp_path / "f/x/sub/helper.py").write_text(HELPER)
    (tmp_path / "f/x/internal/_result.py").write_text("class Result:\n    def __init__(self, v):\n        self.v = v\n")
    res = wac("script", "preview", "f/x/sub/helper.py", cwd=tmp_path, code=1)
    assert "f/x/sub/helper.py has no main function" in res.stderr
    assert "syntax error" not in res.stderr and "job" not in res.stderr
