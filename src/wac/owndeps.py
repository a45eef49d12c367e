"""wac's own dependencies (PyYAML, psycopg, httpx) for wac's code inside an environment's round.

A round of a script with third-party imports runs on its environment's Python, whose ``sys.path``
holds the lock's packages and wac's package, never wac's dependencies: user code must see exactly
its lock (``import yaml`` fails when the lock has no PyYAML, and gets the lock's version when it
has). wac's own code in that round still needs them now and then: a preview reads the repo's
``.variable.yaml`` files, a PostgreSQL store needs psycopg, a Windmill workspace needs httpx.

:func:`own_deps` is the region in which wac's code uses them. The worker passes the folders its
own interpreter loads them from (``WAC_OWN_DEPS``, set only when the environment's Python has the
same ``X.Y`` as wac's, so compiled extensions load). Inside the region those folders are first on
``sys.path`` and wac's private modules are in ``sys.modules``; when the last region ends, every
module loaded from them is taken out of ``sys.modules`` again (kept here) and the user's modules of
the same names are put back. So the user's ``import yaml`` never finds wac's copy, and wac's code
finds its own copy again, already loaded, in its next region.

A private module's own late imports (``from . import x`` in a function, run by a connection
pool's thread outside any region) are served by :class:`_Finder`: it hands out the private module
only when the code importing it is wac's or a private module; the entry the import system leaves
in ``sys.modules`` is taken out by a thread of this module as soon as that import is over (it
waits on the module's import lock), so the user's code can see it for microseconds at most.

A limit: ``sys.modules`` is one for all threads, so while a region is open (one wac call, a
``wait_for_result`` included) a thread of the user's that imports one of these packages at that
moment gets wac's copy. Outside an environment round (``WAC_OWN_DEPS`` unset) a region does
nothing. Stdlib only.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.machinery
import os
import sys
import threading
from collections.abc import Iterator
from types import FrameType, ModuleType
from typing import Any

ENV_VAR = "WAC_OWN_DEPS"  # os.pathsep-separated folders of wac's interpreter (same X.Y only)
MISMATCH_VAR = "WAC_OWN_DEPS_PYTHON"  # wac's X.Y, set instead when the environment's differs
#: the top-level modules wac's code may need inside a round, and what provides them
PROVIDERS = {"yaml": "pyyaml", "psycopg": "psycopg[binary]", "psycopg_pool": "psycopg-pool", "httpx": "httpx"}

_lock = threading.RLock()
_depth = 0
_private: dict[str, ModuleType] = {}  # name -> wac's module, out of sys.modules between regions
_saved: dict[str, ModuleType] = {}  # the user's modules of those names, put back when a region ends
#: the packages a region always takes from wac's folders, even when the user's code loaded its own
#: (their other dependencies, typing_extensions say, are shared when the user's code loaded them first)
ROOTS = frozenset({"yaml", "_yaml", "psycopg", "psycopg_binary", "psycopg_c", "psycopg_pool", "httpx", "httpcore"})
_finder: _Finder | None = None


def dirs() -> list[str]:
    return [d for d in os.environ.get(ENV_VAR, "").split(os.pathsep) if d]


def active() -> bool:
    """True in an environment's round given wac's dependencies' folders."""
    return bool(os.environ.get(ENV_VAR))


def folders_for_env(env_version: str) -> dict[str, str]:
    """The variables an environment zygote on Python ``env_version`` gets (called by the worker)."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if env_version != running:
        return {MISMATCH_VAR: running}
    import importlib.util

    found: list[str] = []
    for name in PROVIDERS:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        origin = spec.origin if spec is not None else None
        if not origin:
            continue
        folder = os.path.dirname(os.path.dirname(origin)) if spec and spec.submodule_search_locations \
            else os.path.dirname(origin)
        if folder not in found:
            found.append(folder)
    return {ENV_VAR: os.pathsep.join(found)} if found else {}


def missing(name: str, exc: BaseException) -> tuple[str, str]:
    """Why wac's code could not import ``name`` here, and the way out: ``(message, hint)``."""
    provider = PROVIDERS.get(name.split(".")[0], name)
    wac_py = os.environ.get(MISMATCH_VAR)
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if wac_py:
        return (f"wac needs {provider} inside this script's environment and cannot lend its own: the "
                f"environment runs Python {here}, wac Python {wac_py} ({exc})",
                f"add {provider} to the script's requirements (#extra_requirements:), or run wac on "
                f"Python {here}")
    return (f"wac needs {provider} ({exc})", f"install it where wac is installed: pip install '{provider}'")


@contextlib.contextmanager
def own_deps() -> Iterator[None]:
    """The region in which wac's code imports and uses its own dependencies (see the module)."""
    if not active():
        yield
        return
    _enter()
    try:
        yield
    finally:
        _leave()


def _is_private(module: Any, prefixes: tuple[str, ...] | None = None) -> bool:
    name = getattr(module, "__name__", None)
    if name in _private and _private[name] is module:
        return True
    file = getattr(module, "__file__", None)
    return isinstance(file, str) and file.startswith(_prefixes() if prefixes is None else prefixes)


_cached: list[Any] = [None, ()]


def _prefixes() -> tuple[str, ...]:
    value = os.environ.get(ENV_VAR, "")
    if _cached[0] != value:
        _cached[:] = [value, tuple(d.rstrip(os.sep) + os.sep for d in dirs())]
    return _cached[1]  # type: ignore[no-any-return]


def _enter() -> None:
    global _depth, _finder
    with _lock:
        _depth += 1
        if _depth > 1:
            return
        if _finder is None:
            _finder = _Finder()
            sys.meta_path.insert(0, _finder)
        pre = _prefixes()
        theirs = tuple(r for r in ROOTS if r in sys.modules and not _is_private(sys.modules[r], pre))
        if theirs:  # the user's yaml (the lock's) steps aside
            starts = theirs + tuple(r + "." for r in theirs)
            for name in [n for n in sys.modules if n.startswith(starts)]:
                module = sys.modules[name]
                if (name in theirs or name.partition(".")[0] in theirs) and not _is_private(module, pre):
                    _saved[name] = module
                    del sys.modules[name]
        sys.modules.update(_private)
        _entry_keys.clear()
        _entry_keys.update(sys.modules)
        sys.path[:0] = dirs()


def _leave() -> None:
    global _depth
    with _lock:
        _depth -= 1
        if _depth > 0:
            return
        for folder in dirs():
            with contextlib.suppress(ValueError):
                sys.path.remove(folder)
        _hide()


_entry_keys: set[str] = set()  # sys.modules' names when the outermost region began
_state = {"dirty": False}  # a late import happened outside a region: look at every module once


def _hide() -> None:
    """Take wac's modules out of ``sys.modules`` and put the user's back (lock held, depth 0)."""
    if _state["dirty"]:
        _state["dirty"] = False
        candidates = list(sys.modules)
    else:  # wac's modules (put in when the region began) and those loaded meanwhile
        candidates = [*_private, *(sys.modules.keys() - _entry_keys)]
    pre = _prefixes()
    for name in candidates:
        module = sys.modules.get(name)
        if module is not None and _is_private(module, pre):
            _private[name] = module
            _roots.add(name.partition(".")[0])
            del sys.modules[name]
    for name, module in _saved.items():
        sys.modules[name] = module
    _saved.clear()
    _entry_keys.clear()


_roots: set[str] = set()  # the top-level names of wac's modules
_pending: set[str] = set()  # late imports of wac's modules outside a region, maybe not over yet


class _Finder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves a private module to a late import made by wac's code or a private module (outside a
    region), and has every module such an import leaves in ``sys.modules`` taken out once it ends."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if _depth > 0 or fullname.partition(".")[0] not in _roots or not _from_private(sys._getframe(1)):
            return None
        with _lock:
            _pending.add(fullname)
            _state["dirty"] = True
        _cleaner().set()
        module = _private.get(fullname)
        if module is None:
            return None  # a module of wac's package not loaded yet: found in its folder, taken out after
        original = getattr(module, "__spec__", None)
        spec = importlib.machinery.ModuleSpec(fullname, self, origin=getattr(original, "origin", None),
                                              is_package=hasattr(module, "__path__"))
        if original is not None and original.submodule_search_locations is not None:
            spec.submodule_search_locations = original.submodule_search_locations
        return spec

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return _private[spec.name]

    def exec_module(self, module: ModuleType) -> None:
        return None  # loaded already, in a region


_wake: list[threading.Event] = []


def _cleaner() -> threading.Event:
    """Wakes the thread that takes the entries late imports left in ``sys.modules`` out again."""
    with _lock:
        if not _wake:
            _wake.append(threading.Event())
            threading.Thread(target=_clean_loop, args=(_wake[0],), name="wac-own-deps", daemon=True).start()
        return _wake[0]


def _clean_loop(wake: threading.Event) -> None:
    import importlib._bootstrap as bootstrap

    module_lock: Any = getattr(bootstrap, "_ModuleLockManager", None)

    def held(name: str) -> Any:  # the module's import lock: its importer holds it until the import ends
        return module_lock(name) if module_lock is not None else contextlib.nullcontext()

    while True:
        wake.wait()
        wake.clear()
        with _lock:
            waiting = list(_pending)
            _pending.clear()
        for name in waiting:
            with held(name):
                pass
        for name, module in list(sys.modules.items()):
            if _is_private(module):
                with held(name), _lock:
                    if _depth == 0 and sys.modules.get(name) is module:
                        _private[name] = module
                        del sys.modules[name]


def _from_private(frame: FrameType | None) -> bool:
    """True when the first frame outside the import machinery runs wac's or a private module's code."""
    while frame is not None and frame.f_code.co_filename.startswith("<frozen importlib"):
        frame = frame.f_back
    if frame is None:
        return False
    name = str(frame.f_globals.get("__name__") or "")
    if name == "wac" or name.startswith("wac."):
        return True
    module = _private.get(name)
    return module is not None and getattr(module, "__dict__", None) is frame.f_globals




class InRegion:
    """An object (a PostgreSQL store) whose method calls each run inside :func:`own_deps`."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            with own_deps():
                return value(*args, **kwargs)

        return call


__all__ = ["ENV_VAR", "MISMATCH_VAR", "InRegion", "active", "folders_for_env", "missing", "own_deps"]
