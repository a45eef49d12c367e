"""Issue 11 item 14: a script that is a symlink out of the repo is refused by every command."""

from __future__ import annotations

import pytest

from tests.clirun import wac

pytestmark = pytest.mark.slow


@pytest.fixture
def linked(repo, write, tmp_path_factory):
    outside = tmp_path_factory.mktemp("elsewhere") / "evil.py"
    outside.write_text("def main():\n    return 'evil'\n")
    (repo / "f" / "esc").mkdir(parents=True)
    (repo / "f" / "esc" / "s.py").symlink_to(outside)
    write("f/esc/ok.py", "def main():\n    return 'ok'\n")
    return outside


def _refused(r, outside) -> None:
    assert r.code != 0, r.stdout + r.stderr
    assert f"script f/esc/s.py points outside the repo (to {outside})" in r.stderr, r.stderr
    assert "unexpected" not in r.stderr and "Traceback" not in r.stderr


def test_a_script_linked_out_of_the_repo_is_refused_everywhere(repo, linked):
    _refused(wac("script", "preview", "f/esc/s.py", cwd=repo, code=2), linked)
    _refused(wac("script", "push", "f/esc/s.py", cwd=repo, code=2), linked)
    _refused(wac("sync", "push", "--yes", cwd=repo, code=None), linked)
    _refused(wac("generate-metadata", "--yes", cwd=repo, code=None), linked)
    # nothing of it reached the store
    listing = wac("script", "list", "--json", cwd=repo, code=None)
    assert "f/esc/s" not in listing.stdout


def test_a_symlink_inside_the_repo_is_still_a_script(repo, write):
    write("f/esc/real.py", "def main():\n    return 'real'\n")
    (repo / "f" / "esc" / "alias.py").symlink_to(repo / "f" / "esc" / "real.py")
    assert wac("script", "preview", "f/esc/alias.py", cwd=repo).stdout.strip() == '"real"'
