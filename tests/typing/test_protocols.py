"""mypy checks the seams: every implementation still satisfies its protocol (conformance.py)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _mypy(*targets: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-error-summary", *targets],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_every_backend_store_dialect_and_round_host_satisfies_its_protocol() -> None:
    res = _mypy("tests/typing/conformance.py")
    assert res.returncode == 0, res.stdout + res.stderr


@pytest.mark.slow
def test_a_backend_whose_url_is_read_only_against_a_settable_protocol_is_refused(tmp_path: Path) -> None:
    # The drift issue 13 found: LocalBackend.url is a property, and the protocol used to declare
    # a plain (settable) attribute. The same shape, checked the same way, must fail.
    probe = tmp_path / "drift.py"
    probe.write_text(textwrap.dedent("""
        from typing import Protocol

        class Seam(Protocol):
            url: str

        class Impl:
            @property
            def url(self) -> str:
                return "sqlite:///x"

        def check(impl: Impl) -> Seam:
            return impl
    """))
    res = _mypy(str(probe), cwd=tmp_path)
    assert res.returncode == 1 and "expected settable variable, got read-only attribute" in res.stdout
