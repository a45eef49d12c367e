"""``wac init`` and ``wac script bootstrap``: start a repo, or a script, from ``wac/templates``.

Both only ever create files. ``init`` keeps every file that exists (and says so); ``bootstrap``
refuses to start when any file it would write exists, so it writes all of them or none.
"""

from __future__ import annotations

import enum
import os
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import typer

from wac.cli import output
from wac.errors import PathError, UsageError, WacError

EXAMPLE_PATH = "f/examples/hello_workflow.py"
GITIGNORE_LINE = ".wac/"
# lines that already keep the embedded store out of git
_GITIGNORE_EQUIVALENTS = {
    b".wac", b".wac/", b"/.wac", b"/.wac/", b".wac/*", b".wac/**", b"/.wac/*", b"/.wac/**",
}
_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_PLACEHOLDER_PATH = "<path>"
_PLACEHOLDER_MODULES = "<modules>"


class Template(str, enum.Enum):  # noqa: UP042 -- a StrEnum would change str(member), which messages show
    """What ``wac script bootstrap`` creates."""

    workflow = "workflow"
    script = "script"
    workflow_with_modules = "workflow-with-modules"


class AlreadyExistsError(WacError):
    """A file that would be created already exists."""

    hint = "bootstrap never overwrites: choose another path, or move the existing files away"


@dataclass(frozen=True)
class _NewFile:
    rel: str  # repo-relative, '/' separators
    text: str


def register(app: typer.Typer, script_group: typer.Typer) -> None:
    """Add ``wac init`` to the root app and ``bootstrap`` to the ``wac script`` group."""
    app.command("init")(init)
    script_group.command("bootstrap")(bootstrap)


def template_text(name: str) -> str:
    """The text of ``wac/templates/<name>`` (package data)."""
    from importlib.resources import files

    return files("wac").joinpath("templates", *name.split("/")).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------------------- init


def init(
    directory: Path | None = typer.Argument(
        None, help="The repo folder (default: the current one).", show_default=False
    ),
) -> None:
    """Set up a repo: wmill.yaml (as `wmill init --use-default`), .gitignore, an example workflow.

    Never overwrites: files that exist are kept and reported.
    """
    target = Path(directory) if directory is not None else Path.cwd()
    if target.exists() and not target.is_dir():
        raise UsageError(f"{directory} is not a folder")
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WacError(f"cannot create {directory}: {exc.strerror or exc}") from exc

    done: dict[str, int] = {"created": 0, "updated": 0, "kept": 0}
    for rel, template in (("wmill.yaml", "wmill.yaml"), (EXAMPLE_PATH, "hello_workflow.py")):
        if _create_or_keep(target / rel, template_text(template)):
            output.info(f"created {rel}")
            done["created"] += 1
        else:
            output.info(f"kept {rel} (exists)")
            done["kept"] += 1
    what, message = _ensure_gitignore(target / ".gitignore")
    output.info(message)
    done[what] += 1

    where = target.resolve()
    counts = ", ".join(f"{n} {k}" for k, n in done.items() if n)
    changed = done["created"] or done["updated"]
    output.info(f"Initialized {where} ({counts})" if changed else f"Nothing to do in {where} ({counts})")
    cd = "" if where == Path.cwd().resolve() else f"cd {shlex.quote(str(directory))} && "
    output.info(f"next: {cd}wac script preview {EXAMPLE_PATH}")


def _create_or_keep(path: Path, text: str) -> bool:
    """Create ``path`` atomically unless something is there already. True if created."""
    from wac.project.textio import atomic_write

    if path.exists() or path.is_symlink():
        return False
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise WacError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return True


def _ensure_gitignore(path: Path) -> tuple[str, str]:
    """Create ``.gitignore`` or append ``.wac/`` to it once; returns what was done, and a message."""
    from wac.project.textio import atomic_write

    if not path.exists() and not path.is_symlink():
        _create_or_keep(path, GITIGNORE_LINE + "\n")
        return "created", "created .gitignore"
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WacError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if any(line.strip() in _GITIGNORE_EQUIVALENTS for line in data.splitlines()):
        return "kept", f"kept .gitignore (ignores {GITIGNORE_LINE} already)"
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    if data and not data.endswith(b"\n"):
        data += newline
    try:
        atomic_write(path.resolve(), data + GITIGNORE_LINE.encode() + newline)  # a symlink stays one
    except OSError as exc:
        raise WacError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return "updated", f"added {GITIGNORE_LINE} to .gitignore"


# ------------------------------------------------------------------------------------ bootstrap


def bootstrap(
    path: str = typer.Argument(..., help="Where the script goes: f/folder/name (or f/folder/name.py)."),
    template: Template = typer.Option(Template.workflow, "--template", "-t", help="What to create."),
) -> None:
    """Create a new script from a template, with its default .script.yaml. Never overwrites."""
    from wac.project import find_repo_root, load_config

    root = find_repo_root(Path.cwd())
    remote = remote_path_of(root, path)
    files = plan_bootstrap(remote, template)
    ours = {f.rel for f in files if (root / f.rel).exists() or (root / f.rel).is_symlink()}
    existing = sorted(ours | set(_taken(root, remote)))
    if existing:
        verb = "exists" if len(existing) == 1 else "exist"
        raise AlreadyExistsError(f"{', '.join(existing)} already {verb}; nothing was written")
    _write_all(root, files)
    for f in files:
        output.info(f"created {f.rel}")
    main_file = files[0].rel
    if not load_config(root).accepts(main_file):
        output.info(
            f"warning: {main_file} is not matched by the includes/excludes of wmill.yaml, "
            "so generate-metadata and sync will not see it"
        )
    output.info(f"next: wac script preview {main_file}")
    output.info("then: wac generate-metadata   (fills in the schema and lock of the .script.yaml)")


def remote_path_of(root: Path, raw: str) -> str:
    """The Windmill path (``f/folder/name``) for what the user typed.

    ``f/…``, ``u/…`` and ``g/…`` are relative to the repo root; anything else (``./x``, ``../a/x``,
    an absolute path) to the current folder. A trailing ``.py`` is dropped.

    Raises:
        PathError: the path leaves the repo, is not under f/ u/ g/, or is not a valid name.
    """
    from wac.project import PathEscapeError
    from wac.project.discovery import SCRIPT_ROOTS

    text = raw.replace("\\", "/").strip()
    if not text:
        raise PathError("the script path is empty", hint="e.g. wac script bootstrap f/demo/my_flow")
    root = root.resolve()
    top = text.split("/", 1)[0]
    base = root if top in SCRIPT_ROOTS and not os.path.isabs(text) else Path.cwd()
    full = Path(os.path.normpath(base / text))
    real_parent = Path(os.path.realpath(full.parent))
    try:
        rel = full.relative_to(root).as_posix()
        real_parent.relative_to(Path(os.path.realpath(root)))
    except ValueError:
        raise PathEscapeError(
            f"{raw} is outside the repo {root}", hint="scripts live under f/, u/ or g/ of the repo"
        ) from None
    parts = rel.split("/")
    if parts[0] not in SCRIPT_ROOTS or len(parts) < 3:
        raise PathError(
            f"{raw} is not a script path: scripts live at f/<folder>/<name>, u/<user>/<name> "
            "or g/<group>/<name>",
            hint="e.g. wac script bootstrap f/demo/my_flow",
        )
    name = parts[-1]
    if name.endswith(".py"):
        name = name[:-3]
    elif "." in name.lstrip("."):
        raise UsageError(
            f"{raw}: only Python scripts can be bootstrapped", hint="drop the extension or use .py"
        )
    parts[-1] = name
    for segment in parts[1:]:
        if not _SEGMENT.fullmatch(segment) or segment.endswith("__mod"):
            raise PathError(
                f"{raw}: '{segment}' is not a valid folder or script name",
                hint="use letters, digits, '_' and '-' (and no '__mod' suffix)",
            )
    return "/".join(parts)


def plan_bootstrap(remote: str, template: Template) -> list[_NewFile]:
    """The files a bootstrap of ``remote`` writes, main file first."""
    from wac.project.discovery import MOD_SUFFIX
    from wac.project.scriptmeta import default_metadata, render_metadata

    main = f"{remote}.py"
    modules = f"{remote}{MOD_SUFFIX}"
    name = {
        Template.workflow: "workflow.py",
        Template.script: "script.py",
        Template.workflow_with_modules: "workflow_with_modules.py",
    }[template]

    def fill(text: str) -> str:
        return text.replace(_PLACEHOLDER_PATH, main).replace(_PLACEHOLDER_MODULES, modules)

    files = [
        _NewFile(main, fill(template_text(name))),
        _NewFile(f"{remote}.script.yaml", render_metadata(default_metadata(None))),
    ]
    if template is Template.workflow_with_modules:
        helpers = template_text("workflow_with_modules__mod/helpers.py")
        files.append(_NewFile(f"{modules}/helpers.py", fill(helpers)))
    return files


def _taken(root: Path, remote: str) -> list[str]:
    """What already gives ``remote`` a script, metadata or module folder (``name.*``, ``name__mod/``).

    ``name.v2.py`` counts too: wmill cuts a flat script's path at its first dot.
    """
    from wac.project.discovery import MOD_SUFFIX

    folder = (root / remote).parent
    name = remote.rsplit("/", 1)[-1]
    if not folder.is_dir():
        return []
    return [
        entry.relative_to(root).as_posix() + ("/" if entry.is_dir() else "")
        for entry in folder.iterdir()
        if entry.name.startswith(name + ".") or entry.name == name + MOD_SUFFIX
    ]


def _write_all(root: Path, files: list[_NewFile]) -> None:
    """Write every file atomically; on a failure remove the ones already written."""
    from wac.project.textio import atomic_write

    done: list[Path] = []
    try:
        for f in files:
            path = root / f.rel
            atomic_write(path, f.text)
            done.append(path)
    except OSError as exc:
        for path in done:
            path.unlink(missing_ok=True)
        raise WacError(f"cannot write {exc.filename or 'a file'}: {exc.strerror or exc}") from exc
