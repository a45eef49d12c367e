"""The workspace's own secret key: kept in a PostgreSQL workspace's database (workers on other
machines unseal what one machine set), none in the embedded store (the user's key file)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from tests.engine.store.conftest import Backend
from wac.engine import secrets
from wac.engine.objects import Objects, secret_values
from wac.engine.store import Store
from wac.engine.store.base import ObjectRecord
from wac.errors import SecretKeyError
from wac.project.objectfiles import ObjectFile


def _other_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, name: str) -> Path:
    config = tmp_path / name
    monkeypatch.setenv("WAC_CONFIG_DIR", str(config))
    return config


def test_a_postgresql_workspace_keeps_one_key_for_every_store_and_the_embedded_store_keeps_none(
    backend: Backend, store: Store,
) -> None:
    key = store.secret_key()
    if backend.name == "sqlite":
        assert key is None
        return
    assert isinstance(key, bytes) and len(key) == 32
    assert store.secret_key() == key
    found: list[bytes | None] = []

    def other() -> None:
        s = backend.open(None)
        try:
            found.append(s.secret_key())
        finally:
            s.close()

    threads = [threading.Thread(target=other) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert found == [key] * 4


def test_racing_stores_of_a_fresh_postgresql_workspace_agree_on_one_key(backend: Backend) -> None:
    if backend.name == "sqlite":
        pytest.skip("the embedded store keeps no key of its own")
    first = backend.open(None)
    first.migrate()
    first.close()
    found: list[bytes | None] = []
    start = threading.Barrier(5)

    def race() -> None:
        s = backend.open(None)
        try:
            start.wait(30)
            found.append(s.secret_key())
        finally:
            s.close()

    threads = [threading.Thread(target=race) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(found) == 5 and len(set(found)) == 1 and found[0] is not None


def test_a_secret_set_on_one_machine_is_read_on_another_only_through_a_postgresql_workspace(
    backend: Backend, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    a = _other_machine(monkeypatch, tmp_path, "a")
    Objects(store).put(ObjectFile("variable", "f/a/token", "sup3r-s3cret", "", True), source="value: sup3r-s3cret\n")
    assert "sup3r-s3cret" not in str(store.get_object("variable", "f/a/token"))
    assert (a / secrets.KEY_FILE).exists() == (backend.name == "sqlite")  # PostgreSQL: no key file made
    _other_machine(monkeypatch, tmp_path, "b")
    other = backend.open(None)
    try:
        objects = Objects(other)
        if backend.name == "sqlite":
            with pytest.raises(SecretKeyError, match="no secret key"):
                objects.variable("f/a/token")
            return
        assert objects.variable("f/a/token") == "sup3r-s3cret"
        assert objects.source("variable", "f/a/token") == "value: sup3r-s3cret\n"
        assert secret_values(other) == ["sup3r-s3cret"]
    finally:
        other.close()


def test_a_secret_sealed_with_the_machine_key_before_the_workspace_had_one_still_opens_there_and_fails_clearly_elsewhere(
    backend: Backend, store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _other_machine(monkeypatch, tmp_path, "a")
    old = secrets.seal("legacy-value")  # what an older wac stored: sealed with the user's key file
    store.put_object(ObjectRecord(kind="variable", path="f/a/old", value=old, is_secret=True,
                                  resource_type=None, description="", source=None))
    assert Objects(store).variable("f/a/old") == "legacy-value"
    _other_machine(monkeypatch, tmp_path, "b")
    secrets.seal("b has a key file of its own")
    with pytest.raises(SecretKeyError) as caught:
        Objects(store).variable("f/a/old")
    assert caught.value.hint and "set the secret again" in caught.value.hint
    Objects(store).put(ObjectFile("variable", "f/a/old", "fresh-value", "", True))  # set again: readable here
    assert Objects(store).variable("f/a/old") == "fresh-value"
