"""``wmill-lock.yaml``: version v2 (flat keys) and legacy v1 (nested per item), read and written as the CLI does."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.errors import MetadataError
from wac.project.textio import atomic_write, read_text
from wac.project.yamlio import dump_yaml, load_yaml

LOCKFILE_NAME = "wmill-lock.yaml"
KNOWN_VERSIONS = ("v1", "v2")


class LockfileError(MetadataError):
    """wmill-lock.yaml cannot be used."""

    hint = "fix or delete wmill-lock.yaml (then run: wac generate-metadata rehash)"


@dataclass
class Lockfile:
    """``wmill-lock.yaml`` as the wmill CLI holds it: the raw ``locks`` mapping, edited in place.

    ``version`` is ``"v2"`` (flat keys ``R``, ``R+sub``), ``"v1"`` or None (legacy: a sub-entry is
    stored nested, ``R: {sub: hash}``). Reads and writes follow the CLI's
    ``checkifMetadataUptodate`` / ``clearGlobalLock`` / ``updateMetadataGlobalLock`` exactly: keys
    are kept as written (``./`` prefixes included), a v2 clear drops ``R``, ``R+*``, ``./R`` and
    ``./R+*`` (so a nested ``R: {...}`` left by an older CLI goes too), a legacy file is never
    cleared. Unknown top-level keys are preserved.
    """

    path: Path
    version: str | None = "v2"
    locks: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    existed: bool = False
    # keys by their item (the part before the first "+", without "./"): clear() without a full scan
    _index: dict[str, set[str]] | None = field(default=None, repr=False, compare=False)

    @property
    def nested(self) -> bool:
        """True when the file uses the legacy nested layout."""
        return self.version != "v2"

    def get(self, key: str) -> Any:
        """The recorded value of ``R`` or ``R+sub`` (None when absent), as the CLI looks it up."""
        path, plus, sub = key.partition("+")
        return self.lookup(path, sub if plus else None)

    def lookup(self, path: str, subpath: str | None = None) -> Any:
        """The value the CLI compares with a fresh hash for ``path`` (and ``subpath``)."""
        path = _normal(path)
        if not self.nested:
            full = f"{path}+{_normal(subpath)}" if subpath else path
            value = self.locks.get(full)
            return value if value is not None else self.locks.get("./" + full)
        for key in (path, "./" + path):
            obj = self.locks.get(key)
            value = obj.get(subpath) if subpath and isinstance(obj, dict) else obj
            if value is not None:
                return value
        return None

    def clear(self, path: str) -> None:
        """``clearGlobalLock``: drop ``R`` and ``R+*`` (v2 only; a legacy file keeps them)."""
        if self.nested:
            return
        key = _normal(path)
        if "+" in key:  # not an item path: the CLI's plain scan
            legacy = "./" + key
            for k in list(self.locks):
                if k in (key, legacy) or k.startswith((key + "+", legacy + "+")):
                    del self.locks[k]
            self._index = None
            return
        for k in self._keys_index().pop(key, set()):
            self.locks.pop(k, None)

    def _keys_index(self) -> dict[str, set[str]]:
        if self._index is None:
            self._index = {}
            for k in self.locks:
                self._index.setdefault(_item_of(k), set()).add(k)
        return self._index

    def set(self, path: str, value: str, subpath: str | None = None) -> None:
        """``updateMetadataGlobalLock``: record one hash."""
        if not self.nested:
            key = _normal(path)
            full = f"{key}+{_normal(subpath)}" if subpath else key
            self.locks[full] = value
            if self._index is not None:
                self._index.setdefault(_item_of(full), set()).add(full)
        elif subpath:
            prev = self.locks.get(path)
            if not isinstance(prev, dict):
                prev = {}
                self.locks[path] = prev
            prev[subpath] = value
        else:
            self.locks[path] = value

    def remove_script(self, remote_path: str) -> None:
        """Delete ``R`` and every ``R+...`` key (see :meth:`clear`)."""
        self.clear(remote_path)

    def update(self, entries: dict[str, str]) -> None:
        """Set ``entries`` given as flat ``R`` / ``R+sub`` keys."""
        for key, value in entries.items():
            path, plus, sub = key.partition("+")
            self.set(path, value, sub if plus else None)

    def render(self) -> str:
        """The file's text, byte-identical to the CLI's."""
        doc: dict[str, Any] = dict(self.extra)
        if self.version is not None:
            doc["version"] = self.version
        doc["locks"] = dict(self.locks)
        return dump_yaml(doc)

    def save(self) -> None:
        """Write the file atomically."""
        atomic_write(self.path, self.render())
        self.existed = True


def _item_of(key: str) -> str:
    return _normal(key).split("+", 1)[0]


def _normal(path: str) -> str:
    n = path.replace("\\", "/")
    return n.removeprefix("./")


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
    raw = {str(k): v for k, v in locks.items()}
    return Lockfile(path=path, version=version, locks=raw, extra=extra, existed=True)
