"""Code bundles of deployed scripts: what a run of ``f/a/b`` (or ``task_script("f/a/b")``) pins.

A deployed run pins the script's head version (main file + ``__mod`` modules) together with the
heads of the workspace scripts it imports, as they are deployed when the run starts, and the lock
the version was pushed with (its environment).
"""

from __future__ import annotations

from wac.engine.backend import NewScript
from wac.engine.bundle import Bundle, assemble
from wac.engine.store.base import ScriptRecord, Store
from wac.errors import NotDeployedError


def deployed_bundle(store: Store, path: str, script_hash: str | None = None) -> tuple[Bundle, ScriptRecord]:
    """Build and store the bundle of ``path``'s head (or of its version ``script_hash``).

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
    from wac.engine.envlock import pin_env

    locks = {entry: script.lock or ""}
    locks.update({f"{script.module_dir()}/{key}": m.lock or "" for key, m in sorted(script.modules.items())})
    bundle = pin_env(bundle, locks, path)
    store.put_bundle(bundle.hash, bundle.files)
    return bundle, record


def resolve_child(store: Store, path: str) -> tuple[str, str] | None:
    """``(bundle_hash, entry)`` a ``task_script("f/a/b")`` child runs, None when not deployed."""
    try:
        bundle, _ = deployed_bundle(store, path)
    except NotDeployedError:
        return None
    return bundle.hash, bundle.entry


