"""``wmill-lock.yaml``: version v2 (flat keys) read/write, legacy v1 (nested per script) read/write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.errors import MetadataError
from wac.project.hashing import SCRIPT_HASH_KEY
from wac.project.textio import atomic_write, read_text
from wac.project.yamlio import dump_yaml, load_yaml

LOCKFILE_NAME = "wmill-lock.yaml"
KNOWN_VERSIONS = ("v1", "v2")


class LockfileError(MetadataError):
    """wmill-lock.yaml cannot be used."""

    hint = "fix or delete wmill-lock.yaml (then run: wac generate-metadata rehash)"


@dataclass
class Lockfile:
    """The hashes of ``wmill-lock.yaml`` as one flat ``{key: hash}`` map (``R``, ``R+key``, ...).

    ``version`` is ``"v2"``, ``"v1"``, or None for a legacy file without a version key; legacy and
    v1 files keep their nested ``R: {__script_hash: .., extract.py: ..}`` shape when written back.
    Unknown top-level keys are preserved.
    """

    path: Path
    version: str | None = "v2"
    locks: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    existed: bool = False

    @property
    def nested(self) -> bool:
        """True when the file uses the legacy nested layout."""
        return self.version != "v2"

    def get(self, key: str) -> Any:
        """The recorded value of ``key`` (None when absent)."""
        return self.locks.get(key)

    def remove_script(self, remote_path: str) -> None:
        """Delete ``R`` and every ``R+...`` key."""
        prefix = remote_path + "+"
        for key in [k for k in self.locks if k == remote_path or k.startswith(prefix)]:
            del self.locks[key]

    def update(self, entries: dict[str, str]) -> None:
        """Set ``entries``."""
        self.locks.update(entries)

    def render(self) -> str:
        """The file's text, byte-identical to the CLI's."""
        doc: dict[str, Any] = dict(self.extra)
        if self.version is not None:
            doc["version"] = self.version
        doc["locks"] = _nest(self.locks) if self.nested else dict(self.locks)
        return dump_yaml(doc)

    def save(self) -> None:
        """Write the file atomically."""
        atomic_write(self.path, self.render())
        self.existed = True


def _nest(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    scripts_with_modules = {
        k[: -len(SCRIPT_HASH_KEY) - 1] for k in flat if k.endswith("+" + SCRIPT_HASH_KEY)
    }
    for key, value in flat.items():
        remote, plus, sub = key.partition("+")
        if plus and remote in scripts_with_modules:
            bucket = out.setdefault(remote, {})
            if isinstance(bucket, dict):
                bucket[sub] = value
                continue
        out[key] = value
    return out


def _flatten(locks: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in locks.items():
        key = str(key).removeprefix("./")
        if isinstance(value, dict):
            for sub, sub_value in value.items():
                flat[f"{key}+{sub}"] = sub_value
        else:
            flat[key] = value
    return flat


def load_lockfile(root: Path) -> Lockfile:
    """Read ``root/wmill-lock.yaml`` (a missing file is an empty v2 lockfile, not yet written).

    Raises:
        LockfileError: unknown version, not a mapping, or not YAML. The file is never touched.
    """
    path = root / LOCKFILE_NAME
    if not path.exists():
        return Lockfile(path=path)
    text = read_text(path)
    try:
        data = load_yaml(text)
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise LockfileError(f"{LOCKFILE_NAME} is not valid YAML: {first}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise LockfileError(f"{LOCKFILE_NAME} is malformed (expected an object).")
    version = data.get("version")
    if version is not None and version not in KNOWN_VERSIONS:
        raise LockfileError(
            f'{LOCKFILE_NAME} is at unknown version "{version}". This was written by a newer '
            "wmill CLI or wac. Refusing to operate to avoid corrupting the lockfile.",
            hint="upgrade wac (or wmill), or delete wmill-lock.yaml and run: wac generate-metadata rehash",
        )
    locks = data.get("locks") or {}
    if not isinstance(locks, dict):
        raise LockfileError(f"{LOCKFILE_NAME} is malformed ('locks' must be a mapping).")
    extra = {k: v for k, v in data.items() if k not in ("version", "locks")}
    nested_ok = version != "v2"
    flat = _flatten(locks) if nested_ok else {str(k).removeprefix("./"): v for k, v in locks.items()}
    return Lockfile(path=path, version=version, locks=flat, extra=extra, existed=True)
