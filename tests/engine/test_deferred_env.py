"""A deployed script started from a round (wmill.run_script_*) or as a task_script child pins its
code when it is submitted and its environment when a worker starts it: the round never resolves
a lock (it may run on an environment's Python, without uv or the parser). No uv here: the
resolver is replaced, or never reached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clirun import SRC
from wac.engine.backend import NewScript
from wac.engine.bundle import MANIFEST, Bundle
from wac.engine.deployed import deployed_bundle, pin_started
from wac.engine.envlock import ENV_LOCK, ENV_PENDING, defer_env, pin_deferred
from wac.engine.store import ANY_TAG, JobSpec
from wac.engine.store.sqlite import SqliteStore
from wac.errors import EnvBuildError


def bundle(main: str) -> Bundle:
    files = {"f/a/b.py": main, MANIFEST: json.dumps({"entry": "f/a/b.py", "module_dir": "f/a/b__mod"})}
    return Bundle(files=files, entry="f/a/b.py")


def fails(*_: object) -> str:
    raise AssertionError("nothing is resolved here")


def test_a_bundle_needing_no_environment_is_the_same_deferred_or_pinned() -> None:
    b = bundle("import json\ndef main(): pass\n")
    assert defer_env(b, {"f/a/b.py": ""}, "f/a/b") == b == pin_deferred(b, resolve=fails)


def test_a_deferred_bundle_records_the_locks_and_its_worker_pins_them_as_pin_env_would() -> None:
    b = bundle("import six\ndef main(): pass\n")
    deferred = defer_env(b, {"f/a/b.py": "# py: 3.12\nsix==1.16.0\n", "f/a/b__mod/x.py": ""}, "f/a/b")
    assert ENV_LOCK not in deferred.files and deferred.hash != b.hash
    assert json.loads(deferred.files[ENV_PENDING]) == {"label": "f/a/b", "locks": {"f/a/b.py": "# py: 3.12\nsix==1.16.0\n"}}
    pinned = pin_deferred(deferred, resolve=fails)
    assert pinned.files[ENV_LOCK] == "# py: 3.12\nsix==1.16.0\n" and ENV_PENDING not in pinned.files
    assert pinned.files.keys() - {ENV_LOCK} == b.files.keys()


def test_a_deferred_bundle_without_a_lock_is_resolved_by_its_worker_and_a_failure_names_the_script() -> None:
    deferred = defer_env(bundle("import six\ndef main(): pass\n"), None, "f/a/b")
    seen = []

    def resolve(files: dict[str, str], label: str) -> str:
        seen.append((sorted(files), label))
        return "# py: 3.11\nsix==1.17.0\n"

    assert pin_deferred(deferred, resolve=resolve).files[ENV_LOCK] == "# py: 3.11\nsix==1.17.0\n"
    assert seen == [([MANIFEST, "f/a/b.py"], "f/a/b")]  # the marker is not part of what is resolved

    def refuse(files: dict[str, str], label: str) -> str:
        raise EnvBuildError(f"cannot resolve the requirements of {label}: no six here")

    with pytest.raises(EnvBuildError, match="f/a/b: no six"):
        pin_deferred(deferred, resolve=refuse)


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(str(tmp_path / "wac.db"))
    s.migrate()
    return s


def deploy(store: SqliteStore, path: str, content: str, lock: str | None = None) -> str:
    doc = NewScript(path=path, content=content, lock=lock).to_json()
    script_hash = f"{abs(hash((path, content, lock))):016x}"
    store.put_script(path, script_hash, doc)
    return script_hash


def test_the_worker_pins_a_started_job_and_the_job_runs_the_pinned_bundle_from_then_on(store: SqliteStore) -> None:
    deploy(store, "f/a/locked", "import six\ndef main(): pass\n", lock="# py: 3.11\nsix==1.16.0\n")
    deferred, _ = deployed_bundle(store, "f/a/locked", defer=True)
    assert ENV_PENDING in store.get_bundle(deferred.hash)
    job_id = store.submit(JobSpec(bundle_hash=deferred.hash, entry=deferred.entry, args={}, script_path="f/a/locked"))
    claim = store.claim("w", ANY_TAG, 30)
    assert claim is not None and claim.job.id == job_id
    pinned = pin_started(store, claim.token, claim.job.bundle_hash, claim.job.entry)
    assert store.get_bundle(pinned)[ENV_LOCK] == "# py: 3.11\nsix==1.16.0\n"
    assert store.get_job(job_id).bundle_hash == pinned == deployed_bundle(store, "f/a/locked")[0].hash
    assert pin_started(store, claim.token, pinned, claim.job.entry) == pinned  # nothing left to pin


# Run in a fresh interpreter where wac's own dependencies cannot be imported, as in a round on an
# environment's Python: the round's submission of deployed scripts must not need any of them.
BLOCKED_ROUND = """
import importlib.abc, json, sys

BLOCKED = {"uv", "libcst", "typer", "click", "rich", "httpx", "yaml", "watchfiles", "starlette", "psycopg"}

class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Blocker())

from wac.engine.client_calls import RoundClient
from wac.engine.rounds.spec import RoundSpec
from wac.engine.store import open_store

store = open_store(sys.argv[1], migrate=False)
spec = RoundSpec(job_id="j", bundle_dir="", entry="f/a/caller.py", mod_dir="", args={}, checkpoint={},
                 store_url=sys.argv[1], token=None, workspace="local", cwd=".", env={},
                 script_path="f/a/caller", root_id="j", slots=2)
client = RoundClient(spec, store)
jobs = [client.run_async("f/a/unlocked", None, {"x": 1}, None), client.run_async("f/a/plain", None, {}, None),
        client.run_async(None, sys.argv[2], {"x": 2}, None)]
print(json.dumps({"jobs": [store.get_job(j).bundle_hash for j in jobs],
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)}))
"""


def test_a_round_submits_deployed_scripts_importing_nothing_but_the_standard_library_and_wac(
        store: SqliteStore, tmp_path: Path) -> None:
    deploy(store, "f/a/unlocked", "import six\ndef main(x: int): pass\n")
    deploy(store, "f/a/plain", "def main(): pass\n")
    by_hash = deploy(store, "f/a/locked", "import six\ndef main(x: int): pass\n", lock="six==1.16.0\n")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", BLOCKED_ROUND, store.url, by_hash], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["heavy"] == []
    unlocked, plain, locked = (store.get_bundle(h) for h in out["jobs"])
    assert ENV_PENDING in unlocked and ENV_PENDING in locked  # their worker pins them
    assert ENV_PENDING not in plain and ENV_LOCK not in plain  # needs no environment at all


@pytest.mark.slow
def test_a_worker_pinning_a_slow_resolution_keeps_its_claim_and_resolves_once(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from tests.engine.enginerun import workers, workspace
    from wac.engine import envlock
    from wac.engine.worker import WorkerConfig

    calls = []

    def slow(files: dict[str, str], label: str) -> str:
        calls.append(label)
        time.sleep(3.5)  # several leases long: only the heartbeat keeps the claim
        return "# py: 3.11\n"  # nothing to install: the round runs on wac's interpreter

    monkeypatch.setattr(envlock, "resolve_inferred", slow)
    with workspace(repo) as ws:
        deploy(ws.store, "f/a/slow", "# requirements:\n# six\n\ndef main(x: int):\n    return x + 1\n")
        deferred, _ = deployed_bundle(ws.store, "f/a/slow", defer=True)
        job_id = ws.store.submit(JobSpec(bundle_hash=deferred.hash, entry=deferred.entry, args={"x": 1},
                                         script_path="f/a/slow"))
        with workers(ws, WorkerConfig(slots=1, lease_s=1.0), WorkerConfig(slots=1, lease_s=1.0)):
            job = ws.store.wait_for_result(job_id, 120)
    assert (job.status, job.result, job.attempt) == ("succeeded", 2, 1), job.error
    assert calls == ["f/a/slow"] and job.bundle_hash != deferred.hash
