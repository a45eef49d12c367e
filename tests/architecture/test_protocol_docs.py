"""The seams document their contract where a reader looks: in the protocol's own docstrings."""

from __future__ import annotations

import inspect

import pytest

from wac.engine.backend import Backend
from wac.engine.store.base import Store
from wac.sdk.host import RoundHost


@pytest.mark.parametrize("protocol", [Backend, Store, RoundHost], ids=lambda p: p.__name__)
def test_every_operation_of_a_protocol_says_what_it_guarantees(protocol: type) -> None:
    undocumented = [name for name, member in vars(protocol).items()
                    if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
                    and not inspect.getdoc(member)]
    assert undocumented == []


@pytest.mark.parametrize(("protocol", "words"), [
    (Backend, ["contract", "NotDeployedError", "runs_workers", "getattr"]),
    (Store, ["G1", "G2", "G3", "G4", "G5", "G6", "LostClaimError"]),
], ids=["Backend", "Store"])
def test_a_protocol_states_its_whole_contract_in_its_class_docstring(protocol: type, words: list[str]) -> None:
    doc = inspect.getdoc(protocol) or ""
    assert [w for w in words if w not in doc] == []
