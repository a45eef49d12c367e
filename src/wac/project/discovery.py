"""Scripts on disk: which files are scripts, their remote paths, layouts and ``__mod`` modules."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

from wac.errors import PathError
from wac.project.collation import sort_key
from wac.project.config import RepoConfig
from wac.project.languages import language_of, script_extension
from wac.project.textio import read_text

SCRIPT_ROOTS = ("f", "u", "g")
_SKIPPED_DIR_SUFFIXES = (".flow", ".app", ".raw_app", "__flow", "__app", "__raw_app", ".fileset")
MOD_SUFFIX = "__mod"

Layout = Literal["flat", "folder"]


class PathEscapeError(PathError):
    """A path leaves the repository."""

    hint = "module files and '!inline' lock paths must stay inside the repo"


@dataclass(frozen=True)
class ScriptRef:
    """One script of the repo: its main file, remote path, layout and module files."""

    repo_root: Path
    main_file: Path
    local_path: str
    remote_path: str
    layout: Layout
    language: str
    module_dir: Path
    module_paths: dict[str, Path] = field(default_factory=dict, compare=False)

    @property
    def has_modules(self) -> bool:
        """True when the module folder holds at least one language file."""
        return bool(self.module_paths)

    @cached_property
    def modules(self) -> dict[str, str]:
        """``{module key: decoded content}`` in the CLI's module order."""
        return {key: read_text(path) for key, path in self.module_paths.items()}

    def module_lock_path(self, key: str) -> Path:
        """The lock of module ``key``: its last extension replaced by ``.lock``."""
        path = self.module_dir / key
        stem, dot, _ = path.name.rpartition(".")
        return path.with_name(f"{stem}.lock" if dot else f"{path.name}.lock")

    def metadata_candidates(self) -> list[Path]:
        """Where the CLI looks for metadata, in order."""
        r = self.repo_root / self.remote_path
        return [
            r.with_name(r.name + ".script.json"),
            r.with_name(r.name + ".script.yaml"),
            self.module_dir / "script.json",
            self.module_dir / "script.yaml",
        ]

    def metadata_file(self) -> Path | None:
        """The existing metadata file, or None."""
        for candidate in self.metadata_candidates():
            if candidate.is_file():
                return candidate
        return None

    @property
    def default_metadata_file(self) -> Path:
        """Where wac creates metadata: next to a flat script, inside a folder-layout one."""
        if self.layout == "folder":
            return self.module_dir / "script.yaml"
        r = self.repo_root / self.remote_path
        return r.with_name(r.name + ".script.yaml")

    @property
    def default_lock_ref(self) -> str:
        """The repo-relative path of the main lock file for a new metadata file."""
        if self.layout == "folder":
            return f"{self.remote_path}{MOD_SUFFIX}/script.lock"
        return f"{self.remote_path}.script.lock"


def is_entry_name(name: str) -> bool:
    """True for ``script.<ext>``, the entry point of a folder-layout script."""
    ext = script_extension(name)
    return ext is not None and name[: -len(ext)] == "script"


def _is_module_name(name: str) -> bool:
    return not name.endswith(".lock") and language_of(name) is not None


def list_modules(repo_root: Path, module_dir: Path, layout: Layout) -> dict[str, Path]:
    """Every module file of ``module_dir`` (hidden dirs and node_modules included, as the CLI).

    Symlinked directories are followed once (loops are cut); a module whose real path leaves the
    repo raises :class:`PathEscapeError`.
    """
    if not module_dir.is_dir():
        return {}
    found: dict[str, Path] = {}
    real_root = os.path.realpath(repo_root)
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path, prefix: str) -> None:
        try:
            st = folder.stat()
        except OSError:
            return
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            return
        seen.add(ident)
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            rel = prefix + entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                walk(Path(entry.path), rel + "/")
                continue
            if not prefix and layout == "folder" and entry.name.startswith("script."):
                continue
            if not _is_module_name(entry.name):
                continue
            real = os.path.realpath(entry.path)
            if os.path.commonpath([real, real_root]) != real_root:
                raise PathEscapeError(
                    f"module {module_dir.relative_to(repo_root).as_posix()}/{rel} points outside the repo"
                )
            found[rel] = Path(entry.path)

    walk(module_dir, "")
    return {key: found[key] for key in sorted(found, key=sort_key)}


def _refuse_outside(repo_root: Path, main_file: Path, local: str) -> None:
    real, real_root = os.path.realpath(main_file), os.path.realpath(repo_root)
    if os.path.commonpath([real, real_root]) != real_root:
        raise PathEscapeError(f"script {local} points outside the repo (to {real})",
                              hint="copy the file into the repo instead of linking to it")


def make_ref(repo_root: Path, main_file: Path, default_ts: str = "bun") -> ScriptRef | None:
    """The ScriptRef for a main file (flat ``x.py`` or ``x__mod/script.py``), None if not a script."""
    local = main_file.relative_to(repo_root).as_posix()
    name = main_file.name
    language = language_of(name, default_ts)
    ext = script_extension(name)
    if language is None or ext is None:
        return None
    if main_file.is_symlink():
        # as for modules: what is previewed, pushed and described must be the repo's own file
        _refuse_outside(repo_root, main_file, local)
    parent = main_file.parent
    if parent.name.endswith(MOD_SUFFIX) and is_entry_name(name):
        module_dir = parent
        remote = local[: -len(name) - 1 - len(MOD_SUFFIX)]
        layout: Layout = "folder"
    else:
        remote = local[: -len(ext)]
        module_dir = parent / (name[: -len(ext)] + MOD_SUFFIX)
        layout = "flat"
    return ScriptRef(
        repo_root=repo_root,
        main_file=main_file,
        local_path=local,
        remote_path=remote,
        layout=layout,
        language=language,
        module_dir=module_dir,
        module_paths=list_modules(repo_root, module_dir, layout),
    )


@dataclass
class Discovery:
    """The result of a walk: scripts (sorted by local path) and files skipped with a reason."""

    scripts: list[ScriptRef]
    skipped: list[tuple[str, str]]


def _walk_files(repo_root: Path) -> Iterator[tuple[str, Path, bool]]:
    """Yield ``(local path, path, is_entry_in_mod)`` for candidate script files."""
    seen: set[tuple[int, int]] = set()

    def walk(folder: Path, prefix: str) -> Iterator[tuple[str, Path, bool]]:
        try:
            st = folder.stat()
        except OSError:
            return
        ident = (st.st_dev, st.st_ino)
        if ident in seen:
            return  # a symlink loop, or a folder reached twice
        seen.add(ident)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            name = entry.name
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if name.startswith(".") or name == "node_modules":
                    continue
                if name.endswith(_SKIPPED_DIR_SUFFIXES):
                    continue
                if name.endswith(MOD_SUFFIX):
                    for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
                        if is_entry_name(sub.name) and sub.is_file():
                            yield f"{prefix}{name}/{sub.name}", Path(sub.path), True
                    continue
                yield from walk(Path(entry.path), f"{prefix}{name}/")
            else:
                yield f"{prefix}{name}", Path(entry.path), False

    for top in SCRIPT_ROOTS:
        base = repo_root / top
        if base.is_dir():
            yield from walk(base, f"{top}/")


def discover(repo_root: Path, config: RepoConfig | None = None) -> Discovery:
    """All scripts under ``f/ u/ g/`` that pass wmill.yaml includes/excludes."""
    config = config or RepoConfig()
    scripts: list[ScriptRef] = []
    skipped: list[tuple[str, str]] = []
    for local, path, _ in _walk_files(repo_root):
        name = path.name
        if name.startswith("."):
            continue  # hidden files are not scripts (wmill makes `f/x/` of `f/x/.h.py`)
        ext = script_extension(name)
        if ext is None or ".resource.file." in name:
            continue
        if not config.accepts(local):
            continue
        if language_of(name, config.default_ts) is None:
            skipped.append((local, f"cannot infer script language from extension '{ext}'"))
            continue
        try:
            ref = make_ref(repo_root, path, config.default_ts)
        except PathEscapeError as exc:
            skipped.append((local, exc.message))
            continue
        if ref is not None:
            scripts.append(ref)
    scripts.sort(key=lambda s: sort_key(s.local_path))
    return Discovery(scripts=scripts, skipped=skipped)


def resolve_script(repo_root: Path, path_or_remote: str | Path) -> ScriptRef:
    """Find one script from a file path (flat or ``x__mod/script.py``) or a remote path ``f/a/x``.

    Raises:
        PathError: no such script, or the path is a module or outside the repo.
    """
    root = repo_root.resolve()
    raw = str(path_or_remote).replace("\\", "/")
    candidates = [Path(raw)] if Path(raw).is_absolute() else [Path.cwd() / raw, root / raw]
    for cand in candidates:
        if cand.is_dir() and cand.name.endswith(MOD_SUFFIX):
            for entry in sorted(cand.iterdir()):
                if is_entry_name(entry.name):
                    cand = entry
                    break
        if not cand.is_file():
            continue
        full = Path(os.path.abspath(cand))
        try:
            full.relative_to(root)
        except ValueError:
            raise PathEscapeError(f"{raw} is outside the repo {root}") from None
        parts = full.relative_to(root).parts
        mod_parts = [p for p in parts[:-1] if p.endswith(MOD_SUFFIX)]
        is_entry = full.parent.name.endswith(MOD_SUFFIX) and is_entry_name(full.name)
        if mod_parts and not is_entry:
            raise PathError(
                f"{raw} is a module of a script, not a script",
                hint=f"use the script that owns {mod_parts[-1]}",
            )
        ref = make_ref(root, full)
        if ref is None:
            raise PathError(f"{raw} is not a script (unknown extension)")
        _refuse_outside(root, full, ref.local_path)
        return ref
    remote = raw.strip("/").removeprefix("./")
    base = root / remote
    if remote and not remote.endswith(MOD_SUFFIX):
        flat = sorted(base.parent.glob(base.name + ".*")) if base.parent.is_dir() else []
        flat = [p for p in flat if script_extension(p.name) and p.name[: -len(script_extension(p.name) or "")] == base.name]
        flat.sort(key=lambda p: (p.suffix != ".py", p.name))
        if flat:
            ref = make_ref(root, flat[0])
            if ref is not None:
                return ref
        mod = base.with_name(base.name + MOD_SUFFIX)
        if mod.is_dir():
            for entry in sorted(mod.iterdir(), key=lambda p: (p.suffix != ".py", p.name)):
                if is_entry_name(entry.name):
                    ref = make_ref(root, entry)
                    if ref is not None:
                        return ref
    raise PathError(
        f"no script at {raw}",
        hint="give a file (f/a/x.py, f/a/x__mod/script.py) or a remote path (f/a/x)",
    )
