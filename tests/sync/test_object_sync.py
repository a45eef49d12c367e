"""Variables, resources and resource types through `wac sync push|pull`: Windmill's file
formats byte for byte on a round trip, wmill.yaml's skip* keys and includes/excludes, conflicts
and deletions, secrets only when asked."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sync.conftest import Shared, new_repo, put

pytestmark = pytest.mark.slow

# Written as the wmill CLI writes them (keys in its order), and one hand-written (other order,
# a comment): both must come back byte for byte.
FILES = {
    "f/demo/api.variable.yaml": "description: The API base\nvalue: https://api.example.com\nis_secret: false\n",
    "f/demo/token.variable.yaml": "description: ''\nvalue: tok-5f4e3d2c1b\nis_secret: true\n",
    "f/demo/db.resource.yaml": ("description: ''\nvalue:\n  host: db.internal\n  password: $var:f/demo/token\n"
                                "  port: 5432\nresource_type: pg\n"),
    "f/demo/hand.resource.yaml": "# edited by hand\nresource_type: any\nvalue: {a: 1}\n",
    "pg.resource-type.yaml": ("description: A small PostgreSQL\nschema:\n  type: object\n  properties:\n    host:\n"
                              "      type: string\n    port:\n      type: integer\n  required:\n    - host\n"),
}


def _repo(root: Path, config: str = "") -> Path:
    repo = new_repo(root)
    if config:
        (repo / "wmill.yaml").write_text((repo / "wmill.yaml").read_text() + config)
    for rel, text in FILES.items():
        put(repo, rel, text)
    return repo


def _objects(repo: Path) -> dict[str, bytes]:
    suffixes = (".variable.yaml", ".resource.yaml", ".resource-type.yaml")
    return {p.relative_to(repo).as_posix(): p.read_bytes() for p in sorted(repo.rglob("*"))
            if p.name.endswith(suffixes) and ".wac" not in p.parts}


def test_push_then_pull_into_a_fresh_clone_gives_the_same_bytes(tmp_path: Path, shared: Shared) -> None:
    a = _repo(tmp_path / "a", "skipSecrets: false\n")
    push = shared.run(a, "sync", "push", "--yes")
    assert "+ variable f/demo/token" in push.stdout and "+ resource type pg" in push.stdout
    b = new_repo(tmp_path / "b")
    (b / "wmill.yaml").write_text((a / "wmill.yaml").read_text())
    shared.run(b, "sync", "pull", "--yes")
    assert _objects(b) == _objects(a) == {k: v.encode() for k, v in FILES.items()}
    assert "Nothing to push" in shared.run(a, "sync", "push", "--yes").stderr
    again = shared.run(b, "sync", "pull", "--dry-run", "--json").json()
    assert again["objects"] == []
    for f in shared.db.parent.glob("shared.db*"):
        assert b"tok-5f4e3d2c1b" not in f.read_bytes()


def test_a_changed_object_is_pushed_and_pulled_as_the_cli_writes_it(tmp_path: Path, shared: Shared) -> None:
    a = _repo(tmp_path / "a")
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "b")
    shared.run(b, "sync", "pull", "--yes")
    shared.run(a, "variable", "set", "f/demo/api", "https://v2.example.com")
    pulled = shared.run(b, "sync", "pull", "--yes")
    assert "~ variable f/demo/api" in pulled.stdout
    assert (b / "f/demo/api.variable.yaml").read_text() == (
        "description: The API base\nvalue: https://v2.example.com\nis_secret: false\n")
    put(b, "f/demo/db.resource.yaml", FILES["f/demo/db.resource.yaml"].replace("5432", "6543"))
    assert "~ resource f/demo/db" in shared.run(b, "sync", "push", "--yes").stdout
    assert shared.run(a, "resource", "get", "f/demo/db", "--json").json()["value"]["port"] == 6543


def test_secrets_are_not_synced_unless_skip_secrets_is_false(tmp_path: Path, shared: Shared) -> None:
    a = _repo(tmp_path / "a")  # skipSecrets defaults to true
    shared.run(a, "sync", "push", "--yes")
    assert [v["path"] for v in shared.run(a, "variable", "list", "--json").json()] == ["f/demo/api"]
    shared.run(a, "variable", "set", "f/demo/other", "s3cr3t-other", "--secret")
    b = new_repo(tmp_path / "b")
    shared.run(b, "sync", "pull", "--yes")
    assert not (b / "f/demo/other.variable.yaml").exists()
    (b / "wmill.yaml").write_text((b / "wmill.yaml").read_text() + "skipSecrets: false\n")
    shared.run(b, "sync", "pull", "--yes")
    assert (b / "f/demo/other.variable.yaml").read_text() == "description: ''\nvalue: s3cr3t-other\nis_secret: true\n"


@pytest.mark.parametrize(
    ("config", "absent"),
    [
        ("skipVariables: true\n", ("f/demo/api.variable.yaml",)),
        ("skipResources: true\n", ("f/demo/db.resource.yaml", "f/demo/hand.resource.yaml")),
        ("skipResourceTypes: true\n", ("pg.resource-type.yaml",)),
        ("excludes:\n  - f/demo/hand*\n", ("f/demo/hand.resource.yaml",)),
    ],
)
def test_skip_keys_and_excludes_leave_objects_out_both_ways(tmp_path: Path, shared: Shared, config: str,
                                                             absent: tuple[str, ...]) -> None:
    a = _repo(tmp_path / "a", config)
    shared.run(a, "sync", "push", "--yes")
    b = new_repo(tmp_path / "b")
    (b / "wmill.yaml").write_text((a / "wmill.yaml").read_text())
    shared.run(b, "sync", "pull", "--yes")
    expected = {k for k in FILES if k not in absent and k != "f/demo/token.variable.yaml"}
    assert set(_objects(b)) == expected


def test_pull_refuses_to_overwrite_a_local_edit_and_push_deletes_what_the_repo_deleted(tmp_path: Path,
                                                                                      shared: Shared) -> None:
    a = _repo(tmp_path / "a")
    shared.run(a, "sync", "push", "--yes")
    shared.run(a, "variable", "set", "f/demo/api", "https://remote.example.com")
    put(a, "f/demo/api.variable.yaml", "description: ''\nvalue: https://local-edit\nis_secret: false\n")
    refused = shared.run(a, "sync", "pull", code=1)
    assert "f/demo/api.variable.yaml" in refused.stderr and "changed locally since the last sync" in refused.stderr
    assert "local-edit" in (a / "f/demo/api.variable.yaml").read_text()  # nothing lost
    (a / "f/demo/hand.resource.yaml").unlink()
    pushed = shared.run(a, "sync", "push", "--yes")
    assert "- resource f/demo/hand" in pushed.stdout
    assert [r["path"] for r in shared.run(a, "resource", "list", "--json").json()] == ["f/demo/db"]


def test_a_resource_not_matching_its_type_is_refused_by_push(tmp_path: Path, shared: Shared) -> None:
    a = _repo(tmp_path / "a")
    put(a, "f/demo/bad.resource.yaml", "description: ''\nvalue:\n  port: 1\nresource_type: pg\n")
    refused = shared.run(a, "sync", "push", "--yes", code=1)
    assert "f/demo/bad.resource.yaml: resource f/demo/bad does not match its type pg: 'host' is required" in refused.stderr
    assert shared.run(a, "resource", "list", "--json").json() == []  # nothing was pushed
    assert shared.run(a, "variable", "list", "--json").json() == []
