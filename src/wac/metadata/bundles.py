"""generate-metadata for flows, apps and raw apps: staleness, Python inline locks, hashes.

A flow or app is stale as wmill 1.819 decides (``isFlowDirectlyStale``): its top hash differs
from wmill-lock.yaml and so does one of its files' hashes (or it has none). Regenerating one
resolves, with uv, the lock of every changed Python inline script that names a lock file
(``lock: '!inline x.lock'``) and rewrites the item's keys. Locks of other languages are left as
they are (wac resolves Python only), and the hashes do not depend on locks, so the recorded
``wmill-lock.yaml`` equals the real CLI's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.errors import MetadataError, WacError
from wac.project.bundles import BundleRef
from wac.project.lockfile import Lockfile
from wac.project.textio import atomic_write, read_text

INLINE = "!inline "


class BundleDefinitionError(MetadataError):
    """A flow.yaml / app.yaml cannot be read."""

    hint = "fix the YAML (wac writes nothing for this item until it parses)"


@dataclass
class BundleState:
    """A flow or app now: its parsed definition and fresh hash entries."""

    ref: BundleRef
    definition: dict[str, Any]
    entries: dict[str, str]
    changed: tuple[str, ...] = ()

    def stale(self, lock: Lockfile) -> bool:
        """``isFlowDirectlyStale`` / ``isAppDirectlyStale``."""
        top = self.ref.top_key
        if lock.lookup(self.ref.folder, top) == self.entries[top]:
            return False
        files = [(k, v) for k, v in self.entries.items() if k != top]
        return not files or any(lock.lookup(self.ref.folder, k) != v for k, v in files)


def load_definition(ref: BundleRef) -> dict[str, Any]:
    """Parse flow.yaml / app.yaml / raw_app.yaml (JSON too).

    Raises:
        BundleDefinitionError: not YAML, or not a mapping; the message names the file.
    """
    from wac.project.yamlio import load_yaml

    rel = f"{ref.folder}/{ref.definition}"
    try:
        data = load_yaml(read_text(ref.definition_path))
    except WacError as exc:
        raise BundleDefinitionError(f"{rel}: {exc.message}") from exc
    except Exception as exc:  # yaml errors of every kind: one line naming the file
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BundleDefinitionError(f"{rel} is not valid YAML: {first}") from exc
    if not isinstance(data, dict):
        raise BundleDefinitionError(f"{rel} must be a mapping (got {type(data).__name__})")
    if ref.kind == "flow" and not isinstance(data.get("value"), dict):
        raise BundleDefinitionError(f"{rel} has no 'value' mapping (a flow needs value.modules)")
    return data


def load_bundle_state(ref: BundleRef, lock: Lockfile) -> BundleState:
    """The definition (validated), fresh entries, and the files whose hash changed."""
    definition = load_definition(ref)
    entries = ref.entries()
    changed = tuple(
        k for k, v in entries.items() if k != ref.top_key and lock.lookup(ref.folder, k) != v
    )
    return BundleState(ref=ref, definition=definition, entries=entries, changed=changed)


def unlocked_python_inline_scripts(definition: dict[str, Any]) -> list[str]:
    """Content files of Python inline scripts that name no lock file (wac does not add one)."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            content = node.get("content")
            if (node.get("language") == "python3" and isinstance(content, str) and content.startswith(INLINE)
                    and not (isinstance(node.get("lock"), str) and node["lock"].startswith(INLINE))):
                out.append(content[len(INLINE):].strip())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(definition)
    return out


def python_inline_scripts(ref: BundleRef, definition: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(content file, lock file)`` of every Python inline script that names a lock file."""
    if ref.kind == "raw_app":
        backend = ref.hashed_dir
        for path in sorted(backend.glob("*.py")) if backend.is_dir() else []:
            if path.with_suffix(".lock").is_file():
                yield f"backend/{path.name}", f"backend/{path.stem}.lock"
        return

    def walk(node: Any) -> Iterator[tuple[str, str]]:
        if isinstance(node, dict):
            content, lock, lang = node.get("content"), node.get("lock"), node.get("language")
            if (
                lang == "python3" and isinstance(content, str) and isinstance(lock, str)
                and content.startswith(INLINE) and lock.startswith(INLINE)
            ):
                yield content[len(INLINE):].strip(), lock[len(INLINE):].strip()
            for value in node.values():
                yield from walk(value)
        elif isinstance(node, list):
            for value in node:
                yield from walk(value)

    yield from walk(definition)


@dataclass
class BundleResult:
    """What regenerating flows and apps did."""

    updated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    locks_written: int = 0


def regenerate_bundles(
    states: list[BundleState], lock: Lockfile, resolve: Any, lock_only_changed: bool = True
) -> BundleResult:
    """Resolve the changed Python inline locks of each stale item, then record its hashes.

    ``resolve(code) -> lock text`` is given the inline script's source. An item whose lock cannot
    be resolved keeps its files and old hashes (it stays stale).
    """
    result = BundleResult()
    for state in states:
        ref = state.ref
        writes: dict[Path, str] = {}
        try:
            for content_rel, lock_rel in python_inline_scripts(ref, state.definition):
                name = content_rel.rsplit("/", 1)[-1]
                if lock_only_changed and name not in state.changed:
                    continue
                content_path = _inside(ref, content_rel)
                lock_path = _inside(ref, lock_rel)
                new = resolve(read_text(content_path))
                old = read_text(lock_path) if lock_path.is_file() else None
                if new != old:
                    writes[lock_path] = new
        except WacError as exc:
            result.failed.append((ref.folder, exc.message))
            continue
        for path, text in writes.items():
            atomic_write(path, text)
            result.locks_written += 1
        if ref.kind != "raw_app":
            for name in unlocked_python_inline_scripts(state.definition):
                if name.rsplit("/", 1)[-1] in state.changed:
                    result.warnings.append(f"{ref.folder}/{name}: no lock file in {ref.definition} "
                                           "(add `lock: '!inline ...lock'` to lock it); not locked")
        lock.clear(ref.folder)
        for sub, value in ref.entries().items():
            lock.set(ref.folder, value, sub)
        result.updated.append(ref.folder)
    return result


def _inside(ref: BundleRef, rel: str) -> Path:
    path = (ref.path / rel).resolve()
    base = ref.path.resolve()
    if path != base and base not in path.parents:
        raise BundleDefinitionError(f"{ref.folder}/{ref.definition}: '{rel}' points outside the folder")
    return ref.path / rel
