"""Per-lock Python environments in the user's cache, built with uv.

A script whose bundle pins a lock (see :mod:`wac.engine.envlock`) runs in a virtual environment
with exactly that lock installed. Environments are content-addressed and shared by every repo and
workspace of the user::

    $XDG_CACHE_HOME/wac/envs/
      <key>/                 a venv (``uv venv --relocatable``) with the lock installed
      <key>/.wac-env.json    its marker, written last: key, python, the lock, a checksum
      .locks/<key>.lock      the file lock a builder holds (one build, the others wait)
      .tmp-<key>-XXXX/       a build in progress, renamed onto ``<key>`` when complete

``key`` is a hash of the lock text and the interpreter's ``X.Y``. A build happens aside and is
renamed into place, so a half-built environment is never used; a failed build leaves nothing but
its (empty) lock file. An environment whose marker, interpreter or installed packages do not
match (deleted files, a removed base Python) is rebuilt on next use.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wac.errors import EnvBuildError

MARKER = ".wac-env.json"
LOCK_FILE = "requirements.lock"  # the lock, as installed, inside the environment
MIN_PYTHON = (3, 11)  # wac's engine code runs inside the environment's interpreter
RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/wac`` (``~/.cache/wac`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wac"


def envs_root() -> Path:
    return cache_root() / "envs"


def lock_python(lock: str) -> str | None:
    """The ``X.Y`` of a lock's ``# py: X.Y`` line, if it has one."""
    for line in lock.splitlines():
        found = re.match(r"^#\s*py:\s*(\d+\.\d+)", line.strip())
        if found:
            return found.group(1)
    return None


def lock_packages(lock: str) -> list[str]:
    """The lock's requirement lines (comments and blanks dropped)."""
    return [ln.strip() for ln in lock.splitlines() if ln.strip() and not ln.strip().startswith("#")]


@dataclass(frozen=True)
class Interpreter:
    path: str
    version: str  # X.Y
    note: str | None = None  # said once to the user when it is not the one the lock names


_chosen: dict[str, Interpreter] = {}
_chosen_lock = threading.Lock()


def choose_python(wanted: str | None) -> Interpreter:
    """The lock's Python when uv finds it installed (no download), else the one wac runs on."""
    if not wanted or wanted == RUNNING:
        return Interpreter(sys.executable, RUNNING)
    with _chosen_lock:
        if wanted in _chosen:
            return _chosen[wanted]
    found = _uv_find_python(wanted)
    if found is not None:
        choice = Interpreter(found, wanted)
    else:
        why = "not installed" if _version_ok(wanted) else f"older than the {MIN_PYTHON[0]}.{MIN_PYTHON[1]} wac needs"
        choice = Interpreter(sys.executable, RUNNING,
                             note=f"Python {wanted} (the lock's) is {why}: using Python {RUNNING}, wac's own")
    with _chosen_lock:
        _chosen[wanted] = choice
    return choice


def _version_ok(version: str) -> bool:
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= MIN_PYTHON


def _uv_find_python(version: str) -> str | None:
    if not _version_ok(version):
        return None
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    try:
        proc = subprocess.run([uv_bin(), "python", "find", "--no-config", version], capture_output=True,
                              text=True, timeout=30, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    path = proc.stdout.strip().splitlines()[-1:] if proc.returncode == 0 else []
    return path[0] if path and os.access(path[0], os.X_OK) else None


def uv_bin() -> str:
    import uv

    return str(uv.find_uv_bin())


@dataclass(frozen=True)
class EnvSpec:
    """What to build: a lock, for an interpreter."""

    lock: str
    python: Interpreter

    @property
    def key(self) -> str:
        text = "\n".join(lock_packages(self.lock))
        return hashlib.sha256(f"{self.python.version}\n{text}\n".encode()).hexdigest()[:20]

    @classmethod
    def of(cls, lock: str) -> EnvSpec:
        return cls(lock=lock, python=choose_python(lock_python(lock)))


_noted: set[tuple[str, str]] = set()


def note_once(spec: EnvSpec, label: str, report: Any) -> None:
    """Say once per process (and script) that the lock's Python is not the one used."""
    if spec.python.note and report is not None and (spec.key, label) not in _noted:
        _noted.add((spec.key, label))
        report(f"{label}: {spec.python.note}")


@dataclass(frozen=True)
class UvOptions:
    """The index uv installs from: as generate-metadata's (``WAC_INDEX_URL``, ``WAC_FIND_LINKS``,
    ``WAC_NO_INDEX``)."""

    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False

    @classmethod
    def from_env(cls) -> UvOptions:
        links = tuple(p if "://" in p else os.path.abspath(p)
                      for p in os.environ.get("WAC_FIND_LINKS", "").split(os.pathsep) if p)
        return cls(index_url=os.environ.get("WAC_INDEX_URL") or None, find_links=links,
                   no_index=os.environ.get("WAC_NO_INDEX", "") not in ("", "0"))

    def args(self) -> list[str]:
        out = ["--index-url", self.index_url] if self.index_url else []
        for link in self.find_links:
            out += ["--find-links", link]
        return out + (["--no-index"] if self.no_index else [])


def env_python(env_dir: Path) -> Path:
    return env_dir / "bin" / "python"


def site_packages(env_dir: Path) -> Path | None:
    found = sorted((env_dir / "lib").glob("python*/site-packages"))
    return found[0] if found else None


def _listing(env_dir: Path) -> str:
    """A checksum of what is installed: the names in site-packages and each dist's RECORD size."""
    site = site_packages(env_dir)
    if site is None:
        return ""
    digest = hashlib.sha256()
    for name in sorted(os.listdir(site)):
        if name == "__pycache__":  # written by the first import of a top-level module
            continue
        digest.update(name.encode() + b"\0")
        if name.endswith(".dist-info"):
            record = site / name / "RECORD"
            digest.update(str(record.stat().st_size if record.exists() else -1).encode())
    return digest.hexdigest()


def read_marker(env_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((env_dir / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def problem(env_dir: Path, key: str | None = None) -> str | None:
    """Why the environment cannot be used (None: it is healthy)."""
    marker = read_marker(env_dir)
    if marker is None:
        return "no marker (an interrupted or foreign build)"
    if key is not None and marker.get("key") != key:
        return "its marker names another lock"
    python = env_python(env_dir)
    if not (python.exists() and os.access(python, os.X_OK)):
        return "its interpreter is missing"
    if marker.get("listing") != _listing(env_dir):
        return "its installed packages changed"
    return None


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def touch(env_dir: Path) -> None:
    with contextlib.suppress(OSError):
        os.utime(env_dir / MARKER)


def ensure(spec: EnvSpec, options: UvOptions | None = None, *, label: str = "the script",
           report: Any = None) -> Path:
    """The environment of ``spec``, built first when missing or damaged.

    ``label`` names the script in errors; ``report(message)`` is told when a build starts.

    Raises:
        EnvBuildError: uv could not create the environment or install the lock.
    """
    root = envs_root()
    target = root / spec.key
    if problem(target, spec.key) is None:
        touch(target)
        return target
    with _file_lock(root / ".locks" / f"{spec.key}.lock"):
        why = problem(target, spec.key)  # another process may have built it while we waited
        if why is None:
            touch(target)
            return target
        if report is not None:
            again = "" if not target.exists() else f" again ({why})"
            report(f"building the environment of {label}{again}: {len(lock_packages(spec.lock))} packages, "
                   f"Python {spec.python.version}")
        if target.exists():
            shutil.rmtree(target, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{spec.key}-", dir=root))
        try:
            _build(tmp, spec, options or UvOptions.from_env(), label)
            os.rename(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build(tmp: Path, spec: EnvSpec, options: UvOptions, label: str) -> None:
    uv = uv_bin()
    env = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    _uv([uv, "venv", "--no-config", "--quiet", "--relocatable", "--python", spec.python.path, str(tmp)],
        env, spec, label)
    lock_file = tmp / LOCK_FILE
    lock_file.write_text(spec.lock if spec.lock.endswith("\n") else spec.lock + "\n", encoding="utf-8")
    # --compile-bytecode: the environment is never written again, and the first round (or zygote)
    # does not pay for compiling every module it imports (seconds for sympy or pandas)
    _uv([uv, "pip", "install", "--no-config", "--quiet", "--compile-bytecode", "--python", str(env_python(tmp)),
         "-r", str(lock_file), *options.args()], env, spec, label)
    marker = {
        "key": spec.key, "python": spec.python.version, "packages": len(lock_packages(spec.lock)),
        "built_at": time.time(), "build_s": round(time.monotonic() - started, 3), "listing": _listing(tmp),
    }
    tmp_marker = tmp / (MARKER + ".tmp")
    tmp_marker.write_text(json.dumps(marker, sort_keys=True), encoding="utf-8")
    os.rename(tmp_marker, tmp / MARKER)


def _uv(cmd: list[str], env: dict[str, str], spec: EnvSpec, label: str) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, check=False)
    except subprocess.TimeoutExpired:
        raise EnvBuildError(f"cannot build the environment of {label}: uv timed out") from None
    except OSError as exc:
        raise EnvBuildError(f"cannot build the environment of {label}: cannot run uv: {exc}") from None
    if proc.returncode == 0:
        return
    text = " ".join(ln.strip() for ln in (proc.stderr or proc.stdout).strip().splitlines()[:8] if ln.strip())
    lock_py = lock_python(spec.lock)
    if lock_py and lock_py != spec.python.version:
        if re.search(r"python\s*(version|[<>=~!]|\d)|requires-python", text, re.IGNORECASE):
            raise EnvBuildError(
                f"cannot install the lock of {label} on Python {spec.python.version} "
                f"(it was resolved for Python {lock_py}, which is not installed): {text}",
                hint=f"install Python {lock_py} (uv python install {lock_py}), or resolve the lock for "
                     f"{spec.python.version}: WAC_PYTHON_VERSION={spec.python.version} wac generate-metadata")
        text += f" (the lock was resolved for Python {lock_py}; running {spec.python.version})"
    raise EnvBuildError(f"cannot install the lock of {label}: {text}")


@dataclass(frozen=True)
class CachedEnv:
    key: str
    path: Path
    python: str | None
    packages: int
    size: int
    last_used: float | None
    problem: str | None

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "path": str(self.path), "python": self.python, "packages": self.packages,
                "size_bytes": self.size, "last_used": self.last_used, "healthy": self.problem is None,
                "problem": self.problem}


def _size(path: Path) -> int:
    total = 0
    for dirpath, _dirs, names in os.walk(path):
        for name in names:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
    return total


def list_envs() -> list[CachedEnv]:
    """Every environment in the cache (builds in progress excluded), most recently used first."""
    root = envs_root()
    if not root.is_dir():
        return []
    found = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith(".") or not entry.is_dir():
            continue
        marker = read_marker(entry) or {}
        try:
            used: float | None = (entry / MARKER).stat().st_mtime
        except OSError:
            used = None
        found.append(CachedEnv(key=entry.name, path=entry, python=marker.get("python"),
                               packages=int(marker.get("packages") or 0), size=_size(entry), last_used=used,
                               problem=problem(entry, entry.name)))
    return sorted(found, key=lambda e: -(e.last_used or 0))


def prune(unused_for_s: float | None, *, everything: bool = False) -> list[CachedEnv]:
    """Remove damaged environments, those unused for ``unused_for_s`` seconds (all with
    ``everything``), and builds left behind by a killed process. An environment being built is
    skipped. Returns what was removed."""
    root = envs_root()
    removed = []
    now = time.time()
    for env in list_envs():
        stale = unused_for_s is not None and (env.last_used is None or now - env.last_used > unused_for_s)
        if not (everything or stale or env.problem is not None):
            continue
        lock_path = root / ".locks" / f"{env.key}.lock"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with open(lock_path, "a+b") as handle:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # being built right now
            shutil.rmtree(env.path, ignore_errors=True)
        removed.append(env)
    if root.is_dir():
        (root / ".locks").mkdir(exist_ok=True)
        for entry in root.iterdir():  # builds whose process died (a live build holds its lock)
            if not entry.name.startswith(".tmp-"):
                continue
            key = entry.name[len(".tmp-"):].rsplit("-", 1)[0]
            with open(root / ".locks" / f"{key}.lock", "a+b") as handle:
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue
                shutil.rmtree(entry, ignore_errors=True)
    return removed


def engine_path() -> str:
    """A folder holding only wac's package (a symlink), for an environment's PYTHONPATH: the round
    imports wac's engine from it and the user's packages from the environment, never wac's own
    dependencies (typer, httpx, …), which would shadow the lock's versions."""
    package = Path(__file__).resolve().parent.parent
    tag = hashlib.sha256(str(package).encode()).hexdigest()[:12]
    folder = cache_root() / "engine" / tag
    link = folder / "wac"
    if link.is_symlink() and link.resolve() == package:
        return str(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".wac-{os.getpid()}-{threading.get_ident()}"
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(package, tmp)
    os.replace(tmp, link)
    return str(folder)
