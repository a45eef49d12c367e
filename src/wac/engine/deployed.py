"""Code bundles of deployed scripts: what a run of ``f/a/b`` (or ``task_script("f/a/b")``) pins.

A deployed run pins the script's head version (main file + ``__mod`` modules) together with the
heads of the workspace scripts it imports, as they are deployed when the run starts, and the lock
the version was pushed with (its environment).

A job submitted from a round (``wmill.run_script_*``) or dispatched as a ``task_script("f/a/b")``
child pins its code when it is submitted and its environment when a worker starts it
(``defer=True``, :func:`pin_started`): resolving a lock needs uv and the parser, which a round on
an environment's Python does not have, and a child whose lock cannot be resolved fails on its own
(its parent gets a TaskError) instead of failing its parent's dispatch.
"""

from __future__ import annotations

from wac.engine.backend import NewScript
from wac.engine.bundle import Bundle, assemble
from wac.engine.store.base import ScriptRecord, Store, Token
from wac.errors import NotDeployedError


def deployed_bundle(store: Store, path: str, script_hash: str | None = None,
                    defer: bool = False) -> tuple[Bundle, ScriptRecord]:
    """Build and store the bundle of ``path``'s head (or of its version ``script_hash``).

    ``defer``: its environment is not pinned here but by the worker that starts its job
    (:func:`~wac.engine.envlock.defer_env`); stdlib only then, for a round process.

    Raises:
        NotDeployedError: nothing is deployed at ``path`` (or no such version).
    """
    record = store.get_script(path, script_hash)
    if record is None:
        what = f"version {script_hash} of {path}" if script_hash else path
        raise NotDeployedError(f"{what} is not deployed in this workspace")
    script = NewScript.from_json(record.doc)
    entry = script.entry_file()
    files = {entry: script.content}
    files.update({f"{script.module_dir()}/{key}": m.content for key, m in script.modules.items()})

    def fetch(cand: str) -> str | None:  # "f/shared/utils.py" -> the head of f/shared/utils
        head = store.get_script(cand.removesuffix(".py"))
        return None if head is None else str(head.doc.get("content", ""))

    bundle = assemble(files, entry, script.module_dir(), fetch)
    # The version runs in the environment of the locks it was pushed with (inferred and resolved
    # at run start when it was pushed without any).
    from wac.engine.envlock import defer_env, pin_env

    locks = {entry: script.lock or ""}
    locks.update({f"{script.module_dir()}/{key}": m.lock or "" for key, m in sorted(script.modules.items())})
    bundle = (defer_env if defer else pin_env)(bundle, locks, path)
    store.put_bundle(bundle.hash, bundle.files)
    return bundle, record


def resolve_child(store: Store, path: str) -> tuple[str, str] | None:
    """``(bundle_hash, entry)`` a ``task_script("f/a/b")`` child runs, None when not deployed.
    Its environment is pinned when it starts (:func:`pin_started`)."""
    try:
        bundle, _ = deployed_bundle(store, path, defer=True)
    except NotDeployedError:
        return None
    return bundle.hash, bundle.entry


def pin_started(store: Store, token: Token, bundle_hash: str, entry: str) -> str:
    """The bundle the job claimed with ``token`` runs from now on: its own, or, when its
    environment was left for its worker to pin (``defer``), that bundle pinned, stored, and made
    the job's (its replay rounds and children run it). Raises EnvBuildError when the lock cannot
    be resolved, LostClaimError when the claim is gone."""
    from wac.engine.envlock import ENV_PENDING, pin_deferred

    files = store.get_bundle(bundle_hash)
    if ENV_PENDING not in files:
        return bundle_hash
    pinned = pin_deferred(Bundle(files=files, entry=entry))
    store.put_bundle(pinned.hash, pinned.files)
    store.set_bundle(token, pinned.hash)
    return pinned.hash
