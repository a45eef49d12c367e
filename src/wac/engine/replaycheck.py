"""Can this code carry those runs on? Dry replays of a bundle over runs' recorded steps (issue 14).

One replay process per bundle checks every run given (:mod:`wac.engine.replayproc`), so checking
a thousand live runs costs one interpreter start, not a thousand. Runs that never started are
compatible without a replay. :func:`migrate` then moves compatible runs, each in its own fenced
transaction.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wac.engine.bundle import Bundle, Manifest, materialize
from wac.engine.store._sqlite_evolve import RunSnapshot, migrate_run
from wac.engine.store.base import Store
from wac.errors import ConflictError, WacError

SRC = str(Path(__file__).resolve().parent.parent.parent)
SHIM_DIR = str(Path(__file__).resolve().parent.parent / "_shims")
TIMEOUT_S = 60.0  # plus 10 ms per run: a body that never yields must not hang a push forever


@dataclass(frozen=True)
class RunCheck:
    """The verdict on one run: where it stands, where the code stops, the first divergence."""

    job_id: str
    status: str
    where: str  # where the run stands ("suspended on approval 'approval'")
    version: str | None  # the version (or bundle) it is on, full hash
    compatible: bool
    stop: str  # where the checked code stops on it ("task 'b'", "completes")
    recorded: str | None = None  # first diverging key as recorded ...
    new: str | None = None  # ... and what the checked code calls there instead
    message: str | None = None

    def divergence(self) -> str:
        if self.compatible:
            return ""
        if self.recorded is not None:
            return f"recorded '{self.recorded}', now '{self.new}'"
        return self.message or "incompatible"

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def where_it_stands(snap: RunSnapshot, now: float) -> str:
    """A short phrase for a run's state, from its status and recorded steps."""
    job = snap.job
    if job.status == "suspended":
        return f"suspended on approval '{job.suspended_key}'"
    if job.status in ("waiting", "blocked"):
        keys = [s.key for s in snap.steps if not s.done]
        shown = ", ".join(keys[:3]) + (", …" if len(keys) > 3 else "")
        return f"waiting on {len(keys)} task(s): {shown}"
    if job.status == "queued":
        if not snap.steps:
            return "queued, not started"
        last = snap.steps[-1]
        if last.kind == "sleep" and job.scheduled_at > now:
            return f"sleeping ('{last.key}')"
        return f"queued after '{last.key}'"
    if job.status == "running":
        return "in a round"
    return job.status


def check(store: Store, state_dir: Path, bundle: Bundle, snaps: list[RunSnapshot],
          versions: dict[str, str] | None = None) -> list[RunCheck]:
    """Dry-replay ``bundle`` over each run of ``snaps``, in one process.

    ``versions`` maps bundle hashes to the deployed versions they are (to say what a run is on).
    """
    versions = versions or {}
    now = store.now()
    replayed = [s for s in snaps if s.steps]
    verdicts = _replay(state_dir, bundle, replayed) if replayed else {}
    out = []
    for snap in snaps:
        verdict = verdicts.get(snap.job.id) or {"compatible": True, "stop": "not started"}
        version = snap.script_hash or versions.get(snap.job.bundle_hash)
        out.append(RunCheck(
            job_id=snap.job.id, status=snap.job.status, where=where_it_stands(snap, now),
            version=version, compatible=bool(verdict["compatible"]), stop=str(verdict.get("stop") or ""),
            recorded=verdict.get("recorded"), new=verdict.get("new"), message=verdict.get("message"),
        ))
    return out


def _replay(state_dir: Path, bundle: Bundle, snaps: list[RunSnapshot]) -> dict[str, dict[str, Any]]:
    bundle_dir = materialize(state_dir / "bundles", bundle.hash, bundle.files)
    spec = {
        "bundle_dir": str(bundle_dir), "entry": bundle.entry, "mod_dir": Manifest.of(bundle.files).module_dir,
        "shim_dir": SHIM_DIR,
        "runs": [{"id": s.job.id, "args": s.job.args, "steps": s.replay_steps()} for s in snaps],
    }
    try:
        python, path = _interpreter(bundle)
    except WacError as exc:
        return _all(snaps, f"the code's environment cannot be built: {exc.message}")
    env = dict(os.environ)
    env["PYTHONPATH"] = path + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    timeout = TIMEOUT_S + 0.01 * len(snaps)
    try:
        proc = subprocess.run([python, "-m", "wac.engine.replayproc"], input=json.dumps(spec),
                              capture_output=True, text=True, env=env, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return _all(snaps, f"the replay did not finish in {timeout:g}s (a body that never yields?)")
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return _all(snaps, f"the replay process failed: {tail}")
    if "error" in answer:
        return _all(snaps, f"the code cannot be loaded: {answer['error'].get('message')}")
    results: dict[str, dict[str, Any]] = answer["results"]
    return results


def _interpreter(bundle: Bundle) -> tuple[str, str]:
    """The interpreter and PYTHONPATH rounds of ``bundle`` run with: its lock's environment (built
    when missing) when it pins one, else wac's own, as the worker's zygotes do."""
    from wac.engine.envlock import ENV_LOCK

    lock = bundle.files.get(ENV_LOCK)
    if lock is None:
        return sys.executable, SRC
    from wac.engine.envs import EnvSpec, engine_path, ensure, env_python

    env_dir = ensure(EnvSpec.of(lock), label="the checked code")
    return str(env_python(env_dir)), engine_path()


def _all(snaps: list[RunSnapshot], message: str) -> dict[str, dict[str, Any]]:
    return {s.job.id: {"compatible": False, "stop": "cannot load", "message": message} for s in snaps}


@dataclass(frozen=True)
class Moved:
    job_id: str
    moved: bool
    why: str = ""


def migrate(store: Store, snaps: list[RunSnapshot], checks: list[RunCheck], bundle: Bundle,
            script_hash: str | None) -> list[Moved]:
    """Move every compatible run of ``checks`` to ``bundle``, one fenced transaction each."""
    by_id = {s.job.id: s for s in snaps}
    store.put_bundle(bundle.hash, bundle.files)
    out = []
    for c in checks:
        snap = by_id[c.job_id]
        if not c.compatible:
            out.append(Moved(c.job_id, False, "incompatible"))
            continue
        if snap.job.bundle_hash == bundle.hash:
            out.append(Moved(c.job_id, False, "already on it"))
            continue
        try:
            migrate_run(store, snap, bundle.hash, bundle.entry, script_hash, c.version)
        except ConflictError as exc:
            out.append(Moved(c.job_id, False, exc.message))
            continue
        out.append(Moved(c.job_id, True))
    return out


def versions_by_bundle(store: Store, path: str, snaps: list[RunSnapshot] | None = None) -> dict[str, str]:
    """Bundle hash → version hash for each deployed version of ``path`` (as its bundle is built now).

    Only needed for runs with no recorded version (started before the store recorded them): with
    ``snaps`` given and every run's version known, nothing is computed.
    """
    from wac.engine.backend import NewScript
    from wac.engine.bundle import assemble

    if snaps is not None and all(s.script_hash for s in snaps):
        return {}

    def fetch(cand: str) -> str | None:
        head = store.get_script(cand.removesuffix(".py"))
        return None if head is None else str(head.doc.get("content", ""))

    out: dict[str, str] = {}
    for record in reversed(store.script_history(path)):
        full = store.get_script(path, record.hash)
        if full is None:
            continue
        try:
            script = NewScript.from_json(full.doc)
            files = {script.entry_file(): script.content}
            files.update({f"{script.module_dir()}/{k}": m.content for k, m in script.modules.items()})
            out[assemble(files, script.entry_file(), script.module_dir(), fetch).hash] = record.hash
        except (WacError, KeyError, TypeError, ValueError):
            continue
    return out
