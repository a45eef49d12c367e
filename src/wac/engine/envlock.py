"""The lock a code bundle pins: which environment its rounds run in.

A bundle needs an environment when its Python files import, at top level, a module that is
neither the standard library, nor wac/wmill (served by wac's engine), nor a file of the bundle
(``__mod`` modules, workspace scripts) — or when a file lists its requirements in a
``#requirements:`` / ``#extra_requirements:`` / PEP 723 block. Its lock is then

* the script's ``.script.lock`` (and its ``__mod`` modules' locks, merged into one) when
  ``wmill-lock.yaml`` shows them fresh, or the locks a deployed version was pushed with;
* else the requirements the parser infers for every Python file of the bundle, resolved with uv
  at run start as ``generate-metadata`` would (nothing is written).

The lock is stored in the bundle as :data:`ENV_LOCK`, so the bundle hash covers it: a job, its
children and each of its replay rounds run in the environment the job started with. A bundle
that needs none keeps running in wac's own interpreter, as before.

Pinning may need uv and the parser, which only wac's own interpreter has. A round process (on an
environment's Python, with only wac's package besides the lock's) that starts a deployed script
(``wmill.run_script_*``) therefore never pins: :func:`defer_env` records in the bundle, as
:data:`ENV_PENDING`, what pinning needs, and the worker that claims the job pins it
(:func:`pin_deferred`) before its first round. Everything here but resolving is stdlib only.
"""

from __future__ import annotations

import ast
import json
import re
import sys
from collections.abc import Callable
from pathlib import PurePosixPath

from wac.engine.bundle import MANIFEST, Bundle, Manifest
from wac.engine.envs import lock_packages, lock_python
from wac.errors import EnvBuildError

ENV_LOCK = ".wac/env.lock"
ENV_PENDING = ".wac/env.pending"  # a bundle whose environment its worker pins when the job starts
_SERVED = {"wmill", "wac", "__future__", "f", "u", "g"}  # g/u/f: workspace scripts
_DIRECTIVE = re.compile(r"^# ?(extra_)?requirements:\s*$|^# /// script\s*$", re.MULTILINE)


def _top_level_imports(source: str) -> list[str]:
    """Top-level module names imported by the file's module-level statements (in order)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    names: list[str] = []
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop(0)
        if isinstance(node, ast.Import):
            names += [a.name.split(".")[0] for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.append(node.module.split(".")[0])
        elif isinstance(node, ast.If):
            stack[:0] = [*node.body, *node.orelse]
        elif isinstance(node, ast.Try):
            stack[:0] = [*node.body, *(s for h in node.handlers for s in h.body), *node.orelse]
    return list(dict.fromkeys(names))


def _local_names(files: dict[str, str]) -> set[str]:
    """Module names a bundle's files provide (its ``__mod`` modules and workspace scripts)."""
    module_dir = Manifest.of(files).module_dir if MANIFEST in files else ""
    names = set()
    for rel in files:
        parts = PurePosixPath(rel).parts
        names.add(parts[0].removesuffix(".py"))
        if module_dir and rel.startswith(module_dir + "/"):
            names.add(PurePosixPath(rel[len(module_dir) + 1:]).parts[0].removesuffix(".py"))
    return names


def third_party_imports(files: dict[str, str]) -> list[str]:
    """The modules a bundle imports at top level that an environment must provide."""
    local = _local_names(files)
    found: list[str] = []
    for rel in sorted(files):
        if not rel.endswith(".py"):
            continue
        for name in _top_level_imports(files[rel]):
            if name in _SERVED or name in local or name in sys.stdlib_module_names or name in found:
                continue
            found.append(name)
    return found


def needs_env(files: dict[str, str]) -> bool:
    return bool(third_party_imports(files)) or any(
        _DIRECTIVE.search(text) for rel, text in files.items() if rel.endswith(".py"))


def _package_name(line: str) -> str:
    name = re.split(r"[\s=<>!~\[;@]", line.strip(), maxsplit=1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def merge_locks(locks: dict[str, str], label: str) -> str:
    """One lock from the script's and its modules' locks (``where → text``, the script's first).

    The ``# py:`` line is the first one found. Raises EnvBuildError when two locks pin one package
    differently: a bundle runs in one environment.
    """
    python = next((p for p in (lock_python(t) for t in locks.values()) if p), None)
    pins: dict[str, tuple[str, str]] = {}
    lines: list[str] = []
    for where, text in locks.items():
        for line in lock_packages(text):
            name = _package_name(line)
            if name in pins and pins[name][0] != line:
                raise EnvBuildError(
                    f"{label}: {pins[name][1]} pins {pins[name][0]} but {where} pins {line}; a script and its "
                    "__mod modules run in one environment",
                    hint="make the locks agree: wac generate-metadata (or edit the module's requirements)")
            if name not in pins:
                pins[name] = (line, where)
                lines.append(line)
    return "\n".join(([f"# py: {python}"] if python else []) + lines) + "\n"


def inferred_requirements(files: dict[str, str]) -> list[str]:
    """The requirements the parser infers for every Python file of the bundle (the union).

    The engine's one use of the parser (imported here, lazily): a deployed version pushed
    without locks is resolved at run start, as ``generate-metadata`` would have.
    """
    from wac.parser import parse_script

    reqs: list[str] = []
    for rel, text in sorted(files.items()):
        if rel.endswith(".py"):
            info = parse_script(text, rel, remote_path=rel.removesuffix(".py"), detail="metadata")
            reqs += [r for r in info.requirements if r not in reqs]
    return reqs


def resolve_inferred(files: dict[str, str], label: str) -> str:
    """Resolve the bundle's inferred requirements with uv (``WAC_*`` options as generate-metadata),
    for the lock's default Python when installed, else the running one. Nothing is written."""
    import os

    from wac.engine.envs import UvOptions, choose_python
    from wac.engine.lockresolver import DEFAULT_PYTHON_VERSION, LockResolutionError, LockResolver

    wanted = os.environ.get("WAC_PYTHON_VERSION") or choose_python(DEFAULT_PYTHON_VERSION).version
    links = UvOptions.from_env().find_links  # made absolute: uv pip compile runs in a temporary folder
    try:
        return LockResolver.from_env(python_version=wanted, find_links=links).resolve(inferred_requirements(files))
    except LockResolutionError as exc:
        raise EnvBuildError(f"cannot resolve the requirements of {label}: {exc.message}") from None


def pin_env(bundle: Bundle, locks: dict[str, str] | None, label: str,
            resolve: Callable[[dict[str, str], str], str] = resolve_inferred) -> Bundle:
    """The bundle with its environment's lock pinned (the same bundle when it needs none).

    ``locks``: the script's lock and its modules' (``where → text``) when they are to be used as
    they are (fresh, or deployed), else None: the requirements are inferred and resolved.
    """
    files = {k: v for k, v in bundle.files.items() if k not in (ENV_LOCK, ENV_PENDING)}
    if not needs_env(files):
        return Bundle(files=files, entry=bundle.entry)
    usable = {k: v for k, v in (locks or {}).items() if v and v.strip()}
    lock = merge_locks(usable, label) if usable else resolve(files, label)
    if not lock_packages(lock):
        return Bundle(files=files, entry=bundle.entry)
    return Bundle(files={**files, ENV_LOCK: lock}, entry=bundle.entry)


def defer_env(bundle: Bundle, locks: dict[str, str] | None, label: str) -> Bundle:
    """The bundle with what :func:`pin_env` needs recorded in it (:data:`ENV_PENDING`), for the
    worker that claims its job to pin (the same bundle, without it, when it needs no environment).

    Nothing is resolved or merged here: stdlib only, for a round process that submits a job.
    """
    files = {k: v for k, v in bundle.files.items() if k not in (ENV_LOCK, ENV_PENDING)}
    if not needs_env(files):
        return Bundle(files=files, entry=bundle.entry)
    usable = {k: v for k, v in (locks or {}).items() if v and v.strip()}
    pending = json.dumps({"label": label, "locks": usable}, sort_keys=True)
    return Bundle(files={**files, ENV_PENDING: pending}, entry=bundle.entry)


def pin_deferred(bundle: Bundle, resolve: Callable[[dict[str, str], str], str] | None = None) -> Bundle:
    """A bundle of :func:`defer_env` with its environment pinned as :func:`pin_env` pins it
    (``resolve``: :func:`resolve_inferred` by default); any other bundle as it is. Raises
    EnvBuildError as :func:`pin_env` does."""
    text = bundle.files.get(ENV_PENDING)
    if text is None:
        return bundle
    pending = json.loads(text)
    return pin_env(bundle, dict(pending.get("locks") or {}) or None, str(pending.get("label") or bundle.entry),
                   resolve or resolve_inferred)
