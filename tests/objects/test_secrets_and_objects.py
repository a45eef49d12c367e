"""Secrets at rest, the workspace objects over a real SQLite store, and the object file formats."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from wac.engine import secrets
from wac.engine.objects import Objects, may_read_secret, schema_problem
from wac.engine.store import open_store
from wac.errors import (
    ObjectError,
    ObjectNotFoundError,
    SecretAccessError,
    SecretKeyError,
)
from wac.project.objectfiles import ObjectFile, parse, render


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    s = open_store(f"sqlite:///{tmp_path / 'wac.db'}")
    yield s
    s.close()


def test_a_sealed_secret_opens_with_the_same_key_and_the_key_file_is_private() -> None:
    sealed = secrets.seal("p@ss wörd")
    assert sealed.startswith("wac1:") and "p@ss" not in sealed
    assert secrets.unseal(sealed) == "p@ss wörd"
    mode = stat.S_IMODE(os.stat(secrets.key_path()).st_mode)
    assert mode == 0o600
    assert secrets.seal("x") != secrets.seal("x")  # a fresh nonce each time


def test_a_secret_sealed_with_another_key_or_altered_is_refused_clearly() -> None:
    sealed = secrets.seal("hello", key=b"k" * 32)
    secrets.seal("make the user's own key")
    with pytest.raises(SecretKeyError, match="another secret key"):
        secrets.unseal(sealed, "the secret f/a/b")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretKeyError):
        secrets.unseal(tampered, key=b"k" * 32)


def test_a_missing_key_is_not_created_by_a_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sealed = secrets.seal("v")
    monkeypatch.setenv("WAC_CONFIG_DIR", str(tmp_path / "other"))
    with pytest.raises(SecretKeyError, match="no secret key"):
        secrets.unseal(sealed)
    assert not (tmp_path / "other").exists()


def test_secret_values_are_never_in_the_database_file_in_plain_text(store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    objects = Objects(store)
    objects.put(ObjectFile("variable", "f/a/token", "sup3r-s3cret-value", "", True), source="value: sup3r-s3cret-value\n")
    assert objects.variable("f/a/token") == "sup3r-s3cret-value"
    assert objects.get("variable", "f/a/token").value is None  # type: ignore[union-attr]
    store.close()
    for f in tmp_path.glob("wac.db*"):
        assert b"sup3r-s3cret-value" not in f.read_bytes()


def test_resource_references_resolve_through_variables_and_other_resources(store) -> None:  # type: ignore[no-untyped-def]
    objects = Objects(store)
    objects.put(ObjectFile("variable", "f/a/pw", "hunter22", "", True))
    objects.put(ObjectFile("resource", "f/a/inner", {"user": "ada", "pw": "$var:f/a/pw"}, "", False, "any"))
    objects.put(ObjectFile("resource", "f/a/outer", {"login": "$res:f/a/inner", "hosts": ["$var:f/a/pw", 1]},
                           "", False, "any"))
    assert objects.resource("f/a/outer") == {"login": {"user": "ada", "pw": "hunter22"}, "hosts": ["hunter22", 1]}
    assert objects.revealed == ["hunter22", "hunter22"]


def test_a_reference_cycle_is_an_error_naming_the_chain(store) -> None:  # type: ignore[no-untyped-def]
    objects = Objects(store)
    objects.put(ObjectFile("resource", "f/a/x", {"next": "$res:f/a/y"}, "", False, "any"))
    objects.put(ObjectFile("resource", "f/a/y", {"next": "$res:f/a/x"}, "", False, "any"))
    with pytest.raises(ObjectError, match=r"reference cycle: \$res:f/a/x -> \$res:f/a/y -> \$res:f/a/x"):
        objects.resource("f/a/x")


def test_unknown_variables_and_resources_are_named(store) -> None:  # type: ignore[no-untyped-def]
    objects = Objects(store)
    with pytest.raises(ObjectNotFoundError, match="variable f/a/nope not found"):
        objects.variable("f/a/nope")
    objects.put(ObjectFile("resource", "f/a/r", {"k": "$var:f/a/missing"}, "", False, "any"))
    with pytest.raises(ObjectNotFoundError, match="variable f/a/missing not found"):
        objects.resource("f/a/r")


def test_a_user_space_secret_is_readable_only_by_that_users_scripts(store) -> None:  # type: ignore[no-untyped-def]
    Objects(store).put(ObjectFile("variable", "u/ada/key", "k3y-value", "", True))
    assert Objects(store, reader="u/ada/job").variable("u/ada/key") == "k3y-value"
    with pytest.raises(SecretAccessError, match="f/ops/job may not read the secret variable u/ada/key"):
        Objects(store, reader="f/ops/job").variable("u/ada/key")
    assert Objects(store).variable("u/ada/key") == "k3y-value"  # the user, at a command
    assert may_read_secret("f/shared/key", "u/bob/x") and not may_read_secret("u/ada/k", "u/adam/x")


def test_a_resource_is_checked_against_its_type_and_may_not_change_type(store) -> None:  # type: ignore[no-untyped-def]
    objects = Objects(store)
    schema = {"type": "object", "required": ["host"], "properties": {"host": {"type": "string"},
                                                                      "port": {"type": "integer"}}}
    objects.put(ObjectFile("resource_type", "pg", schema))
    objects.put(ObjectFile("resource", "f/a/db", {"host": "h", "port": "$var:f/a/port"}, "", False, "pg"))
    with pytest.raises(ObjectError, match="does not match its type pg: 'host' is required"):
        objects.put(ObjectFile("resource", "f/a/db2", {"port": 1}, "", False, "pg"))
    with pytest.raises(ObjectError, match="'port' must be an integer"):
        objects.put(ObjectFile("resource", "f/a/db3", {"host": "h", "port": "5432"}, "", False, "pg"))
    with pytest.raises(ObjectError, match="resource f/a/db is a pg, not a mysql"):
        objects.put(ObjectFile("resource", "f/a/db", {"host": "h"}, "", False, "mysql"))
    assert objects.get("resource", "f/a/db").value == {"host": "h", "port": "$var:f/a/port"}  # type: ignore[union-attr]
    assert schema_problem([], {"type": "object"}) == "expected an object"


@pytest.mark.parametrize(
    ("kind", "rel", "text", "message"),
    [
        ("resource", "f/a/r.resource.yaml", "value: [1\n", "f/a/r.resource.yaml: not valid YAML"),
        ("resource", "f/a/r.resource.yaml", "- 1\n", "must be a mapping"),
        ("resource", "f/a/r.resource.yaml", "value: {}\n", "needs a 'resource_type'"),
        ("resource", "f/a/r.resource.yaml", "resource_type: pg\n", "needs a 'value'"),
        ("variable", "f/a/v.variable.yaml", "value: 3\n", "'value' must be a string"),
        ("variable", "f/a/v.variable.yaml", "value: x\nis_secret: maybe\n", "'is_secret' must be true or false"),
        ("resource_type", "pg.resource-type.yaml", "schema: 3\n", "needs a 'schema' mapping"),
    ],
)
def test_malformed_object_files_are_clear_errors_naming_the_file(kind: str, rel: str, text: str, message: str) -> None:
    with pytest.raises(ObjectError, match=message) as info:
        parse(kind, rel, text)
    assert rel in info.value.message


def test_object_files_render_as_the_wmill_cli_writes_them() -> None:
    # keys sorted with the CLI's priorities: description, value before the others, type first
    var = "description: ''\nvalue: https://example.com/a b\nis_secret: false\n"
    res = ("description: Main DB\nvalue:\n  dbname: app\n  host: db.internal\n  password: $var:f/db/password\n"
           "  port: 5432\nresource_type: postgresql\n")
    rtype = "description: ''\nschema:\n  type: object\n  properties:\n    token:\n      type: string\n  required:\n    - token\n"
    for kind, rel, text in (("variable", "f/a/v.variable.yaml", var), ("resource", "f/db/main.resource.yaml", res),
                            ("resource_type", "slackish.resource-type.yaml", rtype)):
        assert render(parse(kind, rel, text)) == text
