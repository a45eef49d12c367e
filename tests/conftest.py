from __future__ import annotations

import signal
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

# A suite started in the background of a non-interactive shell (`./.ci/run &`) inherits SIGINT
# ignored, and so would every wac process the tests start: their Ctrl-C tests would fail for the
# shell's sake. A handler (unlike an ignore) is not inherited across exec, so they get the default.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True)
def _isolated_workspace_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the user's workspace config; CLI subprocesses inherit this."""
    monkeypatch.setenv("WAC_CONFIG_DIR", str(tmp_path_factory.mktemp("wac-config")))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("WAC_WORKSPACE", raising=False)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repo: its own wmill.yaml, so its embedded store lives at tmp_path/.wac."""
    (tmp_path / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\n")
    return tmp_path


@pytest.fixture
def write(repo: Path) -> Callable[[str, str], Path]:
    """Write a file (dedented) under the repo."""

    def _write(rel: str, text: str) -> Path:
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))
        return path

    return _write
