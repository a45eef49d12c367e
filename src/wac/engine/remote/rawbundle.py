"""Bundling a raw app's frontend for a Windmill server, as wmill 1.819's ``createBundle`` does.

wmill pushes a raw app as its files plus an esbuild bundle (``js``, ``css``) of its frontend: entry
``index.tsx`` (``index.ts`` when ``package.json`` depends on svelte or vue), an IIFE for the browser
(es2020, automatic JSX, minified, ``process.env.NODE_ENV`` = ``"production"``), its ``./wmill``
imports answered by Windmill's client shim, ``/ui/...`` imports by the repo's ``ui/`` folder, Svelte
compiled by the app's own compiler. wac runs the same build with the npm ``esbuild`` package through
Node.js (``rawbundle.mjs`` beside this module), so the bundle is byte for byte wmill's.

Which esbuild: ``WAC_ESBUILD`` (the folder of an installed npm ``esbuild`` package), else wac's copy
of the version wmill 1.819 ships (``esbuild@0.28.2`` in ``$XDG_CACHE_HOME/wac/esbuild-0.28.2``),
else the app's own (``node_modules`` of the app folder or above); when none is there, wac installs
``esbuild@0.28.2`` into its cache with npm (wmill likewise fetches an esbuild of its own). An app
folder without ``node_modules`` gets ``npm install`` first, as wmill does. Without Node.js, or
when the build fails, the raw app is refused with the reason and a hint; nothing is sent.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from wac.errors import MetadataError

ESBUILD_VERSION = "0.28.2"  # the esbuild windmill-cli 1.819.0 depends on
_HERE = Path(__file__).resolve().parent
_NOT_FOUND = "esbuild (the npm package) was not found"
_TIMEOUT = 600


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wac" / f"esbuild-{ESBUILD_VERSION}"


def _esbuild_main(folder: Path) -> Path | None:
    """The module to import of an npm ``esbuild`` package folder (or of a prefix holding one)."""
    for candidate in (folder, folder / "node_modules" / "esbuild"):
        main = candidate / "lib" / "main.js"
        if main.is_file():
            return main
    return None


def _refuse(path: str, why: str, hint: str) -> MetadataError:
    return MetadataError(f"cannot push raw app {path}: {why}", hint=hint)


def _install_esbuild(path: str) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise _refuse(path, "bundling its frontend needs the npm package esbuild, and npm is not on PATH",
                      f"install Node.js with npm, or point WAC_ESBUILD at an installed esbuild@{ESBUILD_VERSION}")
    target = _cache_dir()
    target.mkdir(parents=True, exist_ok=True)
    print(f"wac: installing esbuild@{ESBUILD_VERSION} into {target} with npm (to bundle raw apps as wmill does)",
          file=sys.stderr)
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(target),
                           f"esbuild@{ESBUILD_VERSION}"], capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    main = _esbuild_main(target)
    if done.returncode != 0 or main is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise _refuse(path, f"npm could not install esbuild@{ESBUILD_VERSION}: {' / '.join(tail) or 'no output'}",
                      f"install it yourself (npm install --prefix {target} esbuild@{ESBUILD_VERSION}) "
                      "or point WAC_ESBUILD at an installed esbuild")
    return main


def _frameworks(app_dir: Path) -> tuple[bool, bool]:
    """wmill's ``detectFrameworks``: (svelte, vue) among package.json's dependencies."""
    try:
        doc = json.loads((app_dir / "package.json").read_text(encoding="utf-8"))
        deps = {**(doc.get("dependencies") or {}), **(doc.get("devDependencies") or {})}
    except (OSError, ValueError, AttributeError, TypeError):
        return False, False
    return "svelte" in deps, "vue" in deps


def _npm_install(path: str, app_dir: Path) -> None:
    """wmill's ``ensureNodeModules``: ``npm install`` in an app folder without ``node_modules``."""
    if (app_dir / "node_modules").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise _refuse(path, f"{app_dir} has no node_modules and npm is not on PATH to install them",
                      "install Node.js with npm (or run npm install in the app folder)")
    print(f"wac: node_modules not found in {app_dir}, running npm install (as wmill does)", file=sys.stderr)
    done = subprocess.run([npm, "install"], cwd=app_dir, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise _refuse(path, f"npm install failed in {app_dir}: {' / '.join(tail) or 'no output'}",
                      "fix the app's package.json, or run npm install there yourself")


def bundle(path: str, app_dir: Path, repo_root: Path) -> tuple[str, str]:
    """``(js, css)`` of the raw app in ``app_dir`` (Windmill path ``path``), built as wmill builds it.

    Raises:
        MetadataError: no Node.js, no esbuild to be had, a Vue app, no entry file, or a failed build.
    """
    node = shutil.which("node")
    if node is None:
        raise _refuse(path, "wmill bundles a raw app's frontend with esbuild on Node.js, and node is not on PATH",
                      "install Node.js 18 or later (with npm), or leave the raw app out of the push "
                      "(excludes in wmill.yaml)")
    svelte, vue = _frameworks(app_dir)
    if vue:
        raise _refuse(path, "its package.json depends on vue, and wmill 1.819 bundles no Vue raw app "
                      "(\"Vue plugin not supported yet\")", "build it with Svelte or React, as wmill requires")
    entry = app_dir / ("index.ts" if svelte else "index.tsx")
    if not entry.is_file():
        raise _refuse(path, f"its entry point {entry.name} is missing (wmill bundles from it)",
                      f"add {entry.relative_to(repo_root) if entry.is_relative_to(repo_root) else entry}")
    _npm_install(path, app_dir)
    given = os.environ.get("WAC_ESBUILD")
    main = _esbuild_main(Path(given)) if given else _esbuild_main(_cache_dir())
    if given and main is None:
        raise _refuse(path, f"WAC_ESBUILD={given} holds no npm esbuild package (no lib/main.js)",
                      f"point it at the folder of an installed esbuild (npm install esbuild@{ESBUILD_VERSION})")
    for attempt in range(2):
        args = {"entryPoint": str(entry), "appDir": str(app_dir), "sharedUiDir": str(repo_root / "ui"),
                "esbuild": str(main) if main else None, "svelte": svelte, "shim": str(_HERE / "rawapp_wmill.ts")}
        done = subprocess.run([node, str(_HERE / "rawbundle.mjs"), json.dumps(args)], cwd=repo_root,
                              capture_output=True, text=True, timeout=_TIMEOUT, check=False)
        if done.returncode == 0:
            try:
                out = json.loads(done.stdout)
                return str(out["js"]), str(out["css"])
            except (ValueError, KeyError, TypeError):
                raise _refuse(path, "the bundler printed no bundle", "check the Node.js install") from None
        if _NOT_FOUND in done.stderr and attempt == 0 and not given:
            main = _install_esbuild(path)
            continue
        break
    reason = done.stderr.strip() or f"node exited with code {done.returncode}"
    raise _refuse(path, f"its frontend does not build with esbuild: {reason}",
                  "fix the frontend files (wmill would fail on them the same way)")
