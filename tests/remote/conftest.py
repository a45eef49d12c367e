from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.remote.windmill import WindmillBackend


@pytest.fixture
def wm() -> Iterator[FakeWindmill]:
    """A running fake Windmill; the test fails if any request or answer broke the API contract."""
    fake = FakeWindmill().start()
    try:
        yield fake
    finally:
        fake.stop()
    assert fake.violations == [], "\n".join(fake.violations)


@pytest.fixture
def opened() -> Iterator[list[WindmillBackend]]:
    """Backends a test opens itself (``opened.append(b)``), closed at teardown."""
    backends: list[WindmillBackend] = []
    yield backends
    for b in backends:
        b.close()


@pytest.fixture
def backend(wm: FakeWindmill) -> Iterator[WindmillBackend]:
    wb = WindmillBackend("prod", wm.url + "/", wm.workspace, wm.token)
    try:
        yield wb
    finally:
        wb.close()


@pytest.fixture(scope="session")
def esbuild() -> str:
    """The folder of the npm ``esbuild`` package wmill 1.819 bundles raw apps with (0.28.2): ``WAC_ESBUILD``
    when set (``.ci/run`` sets it), else installed once with npm beside the venv. Without Node.js and
    npm the raw app tests are skipped, except in CI, where they fail."""
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    from wac.engine.remote.rawbundle import ESBUILD_VERSION

    given = os.environ.get("WAC_ESBUILD")
    if given:
        return given
    target = Path(sys.prefix) / f"esbuild-{ESBUILD_VERSION}"
    package = target / "node_modules" / "esbuild"
    if not (package / "lib" / "main.js").is_file():
        npm = shutil.which("npm")
        if npm is None or shutil.which("node") is None:
            if os.environ.get("CI"):
                pytest.fail("raw apps need Node.js and npm (esbuild) in CI")
            pytest.skip("no Node.js / npm to install esbuild with")
        subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(target),
                        f"esbuild@{ESBUILD_VERSION}"], check=True, capture_output=True, timeout=600)
    return str(package)
