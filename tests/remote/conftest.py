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
