"""Contract: deployed script versions — heads by content hash, history, archive."""

from __future__ import annotations

from tests.engine.store.conftest import FakeClock
from wac.engine.store import Store


def test_a_new_hash_becomes_the_head_and_records_its_parent(store: Store, clock: FakeClock) -> None:
    assert store.put_script("f/a/b", "h1", {"content": "v1"}) == (True, None)
    clock.advance(1)
    assert store.put_script("f/a/b", "h2", {"content": "v2"}, created_by="ada", deployment_message="m") == (True, "h1")
    head = store.get_script("f/a/b")
    assert head is not None and head.hash == "h2" and head.parent_hash == "h1"
    assert head.doc == {"content": "v2"} and head.created_by == "ada" and head.deployment_message == "m"
    assert head.created_at == clock.t


def test_deploying_the_head_again_creates_no_version(store: Store) -> None:
    store.put_script("f/a/b", "h1", {"content": "v1"})
    assert store.put_script("f/a/b", "h1", {"content": "v1"}) == (False, None)
    assert [r.hash for r in store.script_history("f/a/b")] == ["h1"]


def test_an_old_version_stays_readable_by_hash_and_a_revert_is_a_new_history_entry(store: Store) -> None:
    store.put_script("f/a/b", "h1", {"content": "v1"})
    store.put_script("f/a/b", "h2", {"content": "v2"})
    old = store.get_script("f/a/b", "h1")
    assert old is not None and old.doc == {"content": "v1"}
    assert store.put_script("f/a/b", "h1", {"content": "v1"}) == (True, "h2")
    assert [r.hash for r in store.script_history("f/a/b")] == ["h1", "h2", "h1"]
    assert store.get_script("f/a/b", "nope") is None and store.get_script("f/x/y") is None


def test_list_gives_the_head_of_each_live_path_sorted(store: Store) -> None:
    store.put_script("f/z/last", "z1", {})
    store.put_script("f/a/first", "a1", {})
    store.put_script("f/a/first", "a2", {})
    store.put_script("f/m/gone", "g1", {})
    assert store.archive_script("f/m/gone") == 1
    assert [(r.path, r.hash) for r in store.list_scripts()] == [("f/a/first", "a2"), ("f/z/last", "z1")]


def test_archive_hides_the_path_and_a_later_deploy_starts_a_new_lineage(store: Store) -> None:
    store.put_script("f/a/b", "h1", {})
    assert store.archive_script("f/a/b") == 1
    assert store.archive_script("f/a/b") == 0
    assert store.get_script("f/a/b") is None
    history = store.script_history("f/a/b")
    assert [(r.hash, r.archived) for r in history] == [("h1", True)]
    assert store.put_script("f/a/b", "h1", {}) == (True, None)
    head = store.get_script("f/a/b")
    assert head is not None and not head.archived
