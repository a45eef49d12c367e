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
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from wac.errors import PathError, ScriptError

# Module files that a bundle ships (what wmill pushes as modules: script extensions, not locks).
_MODULE_SUFFIXES = (".py",)
_WORKSPACE_ROOTS = ("f", "u", "g")


@dataclass(frozen=True)
class Bundle:
    files: dict[str, str]  # repo-relative posix path -> content
    entry: str  # repo-relative path of the main file

    @property
    def hash(self) -> str:
        digest = hashlib.sha256()
        digest.update(json.dumps(sorted(self.files.items()), ensure_ascii=False).encode())
        digest.update(b"\0" + self.entry.encode())
        return digest.hexdigest()


def module_dir(entry: str) -> str:
    """The ``__mod`` folder of a main file: its own folder in the folder layout, else ``<base>__mod``."""
    path = PurePosixPath(entry)
    if path.parent.name.endswith("__mod") and path.name.startswith("script."):
        return str(path.parent)
    stem = path.name.split(".", 1)[0]
    return str(path.parent / f"{stem}__mod") if str(path.parent) != "." else f"{stem}__mod"


def remote_path(entry: str) -> str:
    """The workspace path of a main file: ``f/demo/wf.py`` and ``f/demo/wf__mod/script.py`` → ``f/demo/wf``."""
    path = PurePosixPath(entry)
    if path.parent.name.endswith("__mod") and path.name.startswith("script."):
        return str(path.parent)[: -len("__mod")]
    return str(path.parent / path.name.split(".", 1)[0]) if str(path.parent) != "." else path.name.split(".", 1)[0]


def resolve_main_file(repo_root: Path, user_path: str) -> Path:
    """Find the main file for PATH: a file, a folder-layout ``x__mod``, or a remote path ``f/a/x``."""
    candidates: list[Path] = []
    given = Path(user_path)
    base = given if given.is_absolute() else Path.cwd() / given
    candidates.append(base)
    for root in (Path.cwd(), repo_root):
        stem = root / user_path
        candidates += [stem.with_name(stem.name + ".py"), stem.with_name(stem.name + "__mod") / "script.py"]
    if base.is_dir():
        candidates.insert(0, base / "script.py")
    for cand in candidates:
        if cand.is_file():
            resolved = cand.resolve()
            try:
                resolved.relative_to(repo_root.resolve())
            except ValueError:
                raise PathError(
                    f"{user_path} is outside the repository {repo_root}",
                    hint="run wac from inside the repository that holds the script",
                ) from None
            return resolved
    raise PathError(
        f"no script at {user_path}",
        hint="give a .py file, a folder-layout x__mod/ folder, or a workspace path like f/folder/name",
    )


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScriptError(f"{path} is not UTF-8 text", hint="save the file as UTF-8") from None
    return text


def check_syntax(path: str, source: str) -> None:
    """Raise ScriptError with ``file:line:col`` when the source does not compile."""
    try:
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        where = f"{path}:{exc.lineno or 0}:{(exc.offset or 0)}"
        raise ScriptError(f"{where}: syntax error: {exc.msg}", hint="fix the script and run again") from None


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


def build_bundle(repo_root: Path, main_file: Path) -> Bundle:
    """Collect the main file, its ``__mod`` modules and the workspace scripts it imports."""
    root = repo_root.resolve()
    entry = main_file.resolve().relative_to(root).as_posix()
    files: dict[str, str] = {entry: _read_text(main_file)}
    check_syntax(entry, files[entry])
    mod = root / module_dir(entry)
    if mod.is_dir():
        for dirpath, dirnames, filenames in os.walk(mod, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
            for name in sorted(filenames):
                if not name.endswith(_MODULE_SUFFIXES):
                    continue
                path = Path(dirpath) / name
                if path.is_symlink() and not path.resolve().is_relative_to(root):
                    raise PathError(f"module {path} points outside the repository")
                rel = path.relative_to(root).as_posix()
                if rel != entry:
                    files[rel] = _read_text(path)
    pending = [entry]
    while pending:  # transitive workspace imports, by file
        rel = pending.pop()
        for cand in sorted(_workspace_imports(rel, files[rel])):
            path = root / cand
            if cand not in files and path.is_file() and path.resolve().is_relative_to(root):
                files[cand] = _read_text(path)
                pending.append(cand)
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
