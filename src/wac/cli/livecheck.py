"""Live runs under new code (issue 14 §1): the check a push runs, its table, ``--migrate``.

``wac script push`` and ``wac sync push`` call :func:`after_push` for each script whose version
they changed; ``wac script check`` and ``wac job migrate`` reuse :func:`render`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from wac.cli import output

if TYPE_CHECKING:
    from wac.engine.backend import Backend

MIGRATE_HINT = "move the compatible ones with --migrate (or one run: wac job migrate ID)"


def render(checks: list[Any], moved: dict[str, Any] | None = None, *, heading: bool = True) -> list[str]:
    """The table of a check: run, where it stands, version, verdict (and what --migrate did)."""
    rows = []
    for c in checks:
        verdict = "compatible" if c.compatible else "diverges: " + c.divergence()
        if moved is not None and c.job_id in moved:
            m = moved[c.job_id]
            verdict += " → moved" if m.moved else (f" → stays ({m.why})" if c.compatible else "")
        rows.append((c.job_id, c.where, (c.version or "?")[:7], c.stop, verdict))
    head = ("RUN", "STANDS", "ON", "NEW CODE STOPS AT", "VERDICT")
    table = ([head] if heading else []) + rows
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    return ["  ".join(f"{cell:{widths[i]}}" for i, cell in enumerate(r[:4])) + "  " + r[4] for r in table]


def summary(path: str, checks: list[Any], moved: dict[str, Any] | None) -> str:
    good = sum(1 for c in checks if c.compatible)
    text = f"{len(checks)} live run(s) of {path}: {good} compatible, {len(checks) - good} diverging"
    if moved is None:
        return text + ("; they stay on their version (" + MIGRATE_HINT + ")" if good else "; they stay on their version")
    n = sum(1 for m in moved.values() if m.moved)
    return text + f"; moved {n} to the new version, the others stay on theirs"


def after_push(backend: Backend, path: str, *, migrate: bool, quiet: bool) -> list[dict[str, Any]]:
    """Check the live runs of ``path`` against its (new) head; move the compatible ones when asked.

    Prints the table on stderr (unless ``quiet``) and returns it as JSON rows. A workspace that is
    not embedded (Windmill) has no recorded steps to replay: nothing is checked there.
    """
    from wac.engine.deployed import deployed_bundle
    from wac.engine.local_backend import LocalBackend
    from wac.engine.replaycheck import check, migrate as move, versions_by_bundle
    from wac.engine.store._sqlite_evolve import run_snapshots

    if not isinstance(backend, LocalBackend):
        if migrate and not quiet:
            output.info(f"--migrate: workspace '{backend.name}' is not embedded; its runs are not checked or moved")
        return []
    from wac.errors import EnvBuildError

    store = backend.store
    snaps = run_snapshots(store, path, live=True)
    if not snaps:  # before pinning the head: that may resolve its lock (uv, maybe the network)
        return []
    try:
        bundle, record = deployed_bundle(store, path)
    except EnvBuildError as exc:  # the version is pushed: only the check cannot be made
        if not quiet:
            output.info(f"warning: the live runs of {path} were not checked: {exc.message}")
        return []
    snaps = [s for s in snaps if s.job.bundle_hash != bundle.hash]
    if not snaps:
        return []
    checks = check(store, backend.state_dir, bundle, snaps, versions_by_bundle(store, path, snaps))
    moved = None
    if migrate:
        moved = {m.job_id: m for m in move(store, snaps, checks, bundle, record.hash)}
    if not quiet:
        sys.stderr.write("\n".join(render(checks, moved)) + "\n")
        output.info(summary(path, checks, moved))
    rows = []
    for c in checks:
        row = c.to_json()
        row["path"] = path
        if moved is not None:
            row["moved"] = moved[c.job_id].moved
        rows.append(row)
    return rows


def after_sync_push(backend: Backend, deployed: list[dict[str, Any]], *, migrate: bool, quiet: bool) -> list[dict[str, Any]]:
    """:func:`after_push` for every script a ``sync push`` deployed a new version of."""
    rows: list[dict[str, Any]] = []
    for item in deployed:
        if item.get("created"):
            rows += after_push(backend, str(item["path"]), migrate=migrate, quiet=quiet)
    return rows
