"""The worker → round message is one RoundSpec on both sides (issue 13)."""

from __future__ import annotations

import json
from dataclasses import fields

from wac.engine.rounds.spec import SHIM_DIR, RoundSpec


def _spec(**changes: object) -> RoundSpec:
    base = dict(job_id="j1", bundle_dir="/b", entry="f/a.py", mod_dir="f/a__mod", args={"x": 1},
                checkpoint={"completed_steps": {}}, store_url="sqlite:///s.db", token=["j1", 1, "w"],
                workspace="local", cwd="/", env={"WM_JOB_ID": "j1"}, script_path="f/a", root_id="j1")
    base.update(changes)
    return RoundSpec(**base)  # type: ignore[arg-type]


def test_a_spec_survives_the_json_line_the_channel_carries():
    spec = _spec(direct="f.a:work:3", warm=True, repo_root="/repo")
    line = json.dumps(spec.to_json())
    assert RoundSpec.from_json(json.loads(line)) == spec


def test_the_wire_form_is_flat_and_names_every_field_once():
    wire = _spec().to_json()
    assert set(wire) == {f.name for f in fields(RoundSpec)} - {"extra"}
    assert wire["shim_dir"] == SHIM_DIR and SHIM_DIR.endswith("/wac/_shims")


def test_keys_a_newer_worker_sends_are_kept_aside_not_lost():
    wire = _spec().to_json() | {"something_new": 5}
    spec = RoundSpec.from_json(wire)
    assert spec.extra == {"something_new": 5}
    assert spec.to_json() == wire
