"""Code bundles: the exact files a job runs, pinned by content hash.

A bundle holds the main file, every module of its ``__mod`` folder, and the workspace scripts it
imports (``from f.shared.utils import x``, relative imports), all at their repo-relative paths.
A job records the bundle's hash at submit; every replay and every child runs that bundle, never a
newer file on disk.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wac.errors import PathError, ScriptError
from wac.project.textio import read_source

_WORKSPACE_ROOTS = ("f", "u", "g")


# A bundle carries its own manifest: where its main file and its ``__mod`` folder are, as the
# project layer decided when it was built. ``.wac/`` is wac's state folder, never a script path.
MANIFEST = ".wac/bundle.json"


@dataclass(frozen=True)
class Bundle:
    files: dict[str, str]  # repo-relative posix path -> content, plus the manifest
    entry: str  # repo-relative path of the main file

    @property
    def hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(json.dumps(sorted(self.files.items()), ensure_ascii=False).encode())
        digest.update(b"\0" + self.entry.encode())
        return digest.hexdigest()


@dataclass(frozen=True)
class Manifest:
    entry: str  # the main file
    module_dir: str  # its ``__mod`` folder: ``task_script("./x.py")`` runs ``<module_dir>/x.py``

    @classmethod
    def of(cls, files: dict[str, str]) -> Manifest:
        data = json.loads(files[MANIFEST])
        return cls(entry=data["entry"], module_dir=data["module_dir"])


def check_syntax(path: str, source: str) -> None:
    """Raise ScriptError with ``file:line:col`` when the source does not compile.

    The message names the Python that refused it: a file written for a newer Python (``type X =``,
    ``def f[T]()``, PEP 701 f-strings) parses with libcst yet not with an older interpreter.
    """
    if "\x00" in source:
        raise ScriptError(f"{path}: the file contains NUL bytes", hint="fix the script and run again")
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno or 0}:{(exc.offset or 0)}"
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise ScriptError(f"{where}: syntax error: {exc.msg} (under Python {version}, which runs the script)",
                          hint="fix the script and run again") from None


def check_entry(path: str, source: str) -> None:
    """Raise ScriptError when a file that compiles binds no top-level ``main``: it is a helper.

    Windmill repos keep helper modules beside scripts (``f/x/_logic.py``, relative imports such as
    ``from ..internal._result import Ok``); running one as a script is the real mistake.
    """
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == "main":
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)) and any(
            (a.asname or a.name.split(".")[0]) == "main" for a in node.names
        ):
            return
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        if any(isinstance(t, ast.Name) and t.id == "main" for t in targets):
            return
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                                 ast.ImportFrom, ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Expr)):
            return  # if/try/with blocks may bind main: let the run decide
    raise ScriptError(
        f"{path} has no main function: it is a module other scripts import, not a script to run",
        hint="preview a script that imports it (its relative imports resolve to workspace paths), "
             "or add `def main(...)` to make it a script",
    )


def _workspace_imports(rel: str, source: str) -> set[str]:
    """Repo-relative file candidates imported by a script (absolute ``f.x.y`` and relative imports)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    package = PurePosixPath(rel).parent.parts
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[tuple[str, ...]] = []
        if isinstance(node, ast.Import):
            names = [tuple(a.name.split(".")) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mod = tuple(node.module.split(".")) if node.module else ()
            if node.level:
                up = node.level - 1
                if up > len(package):
                    continue
                mod = package[: len(package) - up] + mod
            names = [mod] + [mod + (a.name,) for a in node.names]
        for parts in names:
            if parts and parts[0] in _WORKSPACE_ROOTS:
                found.add("/".join(parts) + ".py")
    return found


def build_bundle(repo_root: Path, main_file: Path, module_dir: Path, modules: dict[str, str] | None = None) -> Bundle:
    """Pin the main file, its ``__mod`` modules and the workspace scripts it imports.

    Args:
        repo_root: the repository the paths are relative to.
        main_file: the script's entry point.
        module_dir: its ``__mod`` folder, as the project layer found it.
        modules: the module files (repo-relative path → content), as the project layer found them.

    Raises:
        ScriptError: the main file does not compile (file:line:col).
        MetadataError: a file is unreadable or not UTF-8.
    """
    root = repo_root.resolve()
    entry = main_file.resolve().relative_to(root).as_posix()
    files: dict[str, str] = {entry: read_source(main_file, entry)}
    check_syntax(entry, files[entry])
    check_entry(entry, files[entry])
    for rel, text in (modules or {}).items():
        # modules were read leniently (as wmill reads them for metadata); one with replaced
        # bytes is read again strictly, so a module that is not UTF-8 is refused, not run garbled
        files[rel] = read_source(root / rel, rel) if "\ufffd" in text and (root / rel).is_file() else text

    def from_disk(cand: str) -> str | None:
        path = root / cand
        return read_source(path, cand) if path.is_file() and path.resolve().is_relative_to(root) else None

    return assemble(files, entry, module_dir.resolve().relative_to(root).as_posix(), from_disk)


def assemble(files: dict[str, str], entry: str, module_dir: str, fetch: Callable[[str], str | None]) -> Bundle:
    """Complete ``files`` (main file + modules) with the workspace scripts they import,
    transitively, as ``fetch(repo-relative .py path)`` finds them, and add the manifest."""
    files = dict(files)
    pending = [rel for rel in files if rel.endswith(".py")]
    while pending:  # transitive workspace imports, by file
        rel = pending.pop()
        for cand in sorted(_workspace_imports(rel, files[rel])):
            if cand in files:
                continue
            text = fetch(cand)
            if text is not None:
                files[cand] = text
                pending.append(cand)
    files[MANIFEST] = json.dumps({"entry": entry, "module_dir": module_dir}, sort_keys=True)
    return Bundle(files=files, entry=entry)


def materialize(bundle_dir: Path, bundle_hash: str, files: dict[str, str]) -> Path:
    """Write a bundle once under ``bundle_dir/<hash>`` (atomically: temp dir + rename)."""
    target = bundle_dir / bundle_hash
    if target.is_dir():
        return target
    bundle_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=bundle_dir))
    try:
        for rel, content in files.items():
            dest = (tmp / rel).resolve()
            if not dest.is_relative_to(tmp.resolve()):
                raise PathError(f"bundle file {rel} escapes the bundle")
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_text(content, encoding="utf-8")
        try:
            os.rename(tmp, target)
        except OSError:
            if not target.is_dir():  # another worker may have won the race; anything else is real
                raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
