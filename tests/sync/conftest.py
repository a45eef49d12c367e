"""Two clones of one repo sharing a SQLite workspace, driven through the real CLI."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.clirun import Result, wac
from wac.engine.local_backend import LocalBackend

WMILL_YAML = "defaultTs: bun\nincludes:\n  - f/**\n"


@dataclass
class Shared:
    """A named workspace ``shared`` (sqlite file) and the env that selects it."""

    db: Path
    env: dict[str, str]

    def run(self, repo: Path, *args: str, code: int | None = 0) -> Result:
        return wac(*args, cwd=repo, code=code, env=self.env)

    def backend(self) -> LocalBackend:
        return LocalBackend.open("shared", self.db, self.db.parent)


@pytest.fixture
def shared(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shared]:
    from wac.workspaces import add_workspace

    cfg = tmp_path / "cfg"
    db = tmp_path / "ws" / "shared.db"
    db.parent.mkdir()
    monkeypatch.setenv("WAC_CONFIG_DIR", str(cfg))
    add_workspace("shared", f"sqlite:///{db}", None, None)
    yield Shared(db=db, env={"WAC_CONFIG_DIR": str(cfg), "WAC_WORKSPACE": "shared"})


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def new_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "wmill.yaml").write_text(WMILL_YAML)
    return path


def tree(root: Path, skip: tuple[str, ...] = (".git", ".wac")) -> dict[str, bytes]:
    """Every file under ``root`` (symlinks not followed) -> bytes; symlinks -> their target."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel.split("/")[0] in skip:
            continue
        if path.is_symlink():
            out[rel] = b"-> " + str(path.readlink()).encode()
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out
