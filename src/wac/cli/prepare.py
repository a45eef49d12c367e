"""From what the user typed to a job: the repo, the script, its pinned bundle, its checked args."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

from wac.errors import ArgsError, MetadataError
from wac.project import ScriptRef, find_repo_root, resolve_script

if TYPE_CHECKING:
    from wac.engine.backend import Backend
    from wac.engine.local_backend import LocalBackend


@overload
def open_workspace(name: str | None = None, *, local: Literal[False] = False) -> Backend: ...
@overload
def open_workspace(name: None = None, *, local: Literal[True]) -> LocalBackend: ...


def open_workspace(name: str | None = None, *, local: bool = False) -> Backend:
    """The Backend of the current workspace (``WAC_WORKSPACE``, else the active one, else the
    repo's embedded store), of the workspace ``name``, or (``local``) the repo's embedded store."""
    from wac.engine.backend import open_backend, open_repo_backend
    from wac.workspaces import LOCAL, current_source, get_workspace

    root = find_repo_root(Path.cwd())
    ws = get_workspace(LOCAL if local else name, root)  # reads (and so checks) the config either way
    if local:
        return open_repo_backend(root)
    if name is None:
        chosen, source = current_source(repo_root=root)
        # say where commands go when a setting made earlier chose it (a repo pin, a machine-wide
        # switch); not for the default, nor for WAC_WORKSPACE, which the command line itself names
        if source not in ("default", "WAC_WORKSPACE"):
            from wac.cli import output

            output.info(f"workspace: {ws.name} ({ws.kind}, {ws.shown_url()}; {source})")
    return open_backend(ws, root)


def script_schema(ref: ScriptRef, main_text: str) -> dict[str, Any] | None:
    """The script's input schema: its ``.script.yaml`` when ``wmill-lock.yaml`` shows it is up to
    date (no parser needed), else inferred from the code by the parser."""
    fresh = _fresh_metadata(ref)
    if fresh is not None:
        return fresh or None
    return _code_inputs(ref, main_text)[0]


def _fresh_metadata(ref: ScriptRef) -> dict[str, Any] | None:
    """The schema of the ``.script.yaml`` that ``wmill-lock.yaml`` shows is up to date, else None."""
    from wac.metadata.state import load_state
    from wac.project import load_lockfile

    try:
        state = load_state(ref)
        if state.metadata_exists and load_lockfile(ref.repo_root).get(state.key) == state.entries[state.key]:
            schema = state.metadata.get("schema")
            return schema if isinstance(schema, dict) else {}
    except MetadataError:
        pass  # unreadable metadata or lockfile: the code itself still tells the schema
    return None


def _code_inputs(ref: ScriptRef, main_text: str) -> tuple[dict[str, Any] | None, bool]:
    """The schema the parser infers from the code, and whether main takes ``**kwargs``.

    Cached by content in the user cache (``wac/schema``, as the lint's warnings are), so a
    preview of an unchanged file checks its ``-d`` without importing the parser (libcst costs a
    few hundred milliseconds, the largest part of a one-task preview)."""
    import json

    from wac.cli.lint import cache_file, store_cached

    cached = cache_file("schema", f"{ref.local_path}\0{ref.remote_path}", main_text)
    try:
        found = json.loads(cached.read_text(encoding="utf-8"))
        if isinstance(found, dict) and isinstance(found.get("any_keyword"), bool):
            schema = found.get("schema")
            return (schema if isinstance(schema, dict) else None), found["any_keyword"]
    except (OSError, ValueError):
        pass
    from wac.parser import parse_script

    schema = parse_script(main_text, ref.local_path, remote_path=ref.remote_path, detail="schema").schema
    any_keyword = takes_any_keyword(main_text)
    store_cached(cached, json.dumps({"schema": schema, "any_keyword": any_keyword}))
    return schema, any_keyword


def check_args(ref: ScriptRef, main_text: str, args: dict[str, Any]) -> None:
    """Refuse arguments that do not match the script's schema, naming each bad field."""
    hint = "fix -d, or see the inputs with: wac generate-metadata --dry-run " + ref.local_path
    fresh = _fresh_metadata(ref)
    if fresh is not None:
        refuse_bad_args(fresh or None, args, ref.remote_path, hint, main_text=main_text)
        return
    schema, any_keyword = _code_inputs(ref, main_text)
    refuse_bad_args(schema, args, ref.remote_path, hint, any_keyword=any_keyword)


def takes_any_keyword(main_text: str) -> bool:
    """True when ``def main(…)`` has a ``**kwargs`` parameter (it accepts any argument name) or
    cannot be read (then the run itself says what is wrong)."""
    import io
    import tokenize

    from wac.parser.source import cut_signature, find_main

    start = find_main(main_text)
    signature = cut_signature(main_text, start) if start is not None else None
    if signature is None:
        return True
    try:
        return any(tok.type == tokenize.OP and tok.string == "**"
                   for tok in tokenize.generate_tokens(io.StringIO(signature + ": pass\n").readline))
    except (tokenize.TokenError, SyntaxError):
        return True


def refuse_bad_args(schema: dict[str, Any] | None, args: dict[str, Any], what: str, hint: str,
                    main_text: str | None = None, any_keyword: bool | None = None) -> None:
    """Raise ArgsError naming each field of ``args`` that ``schema`` (if any) does not accept.

    With ``main_text`` (the Python code of the script), argument names that main does not take
    are refused too, unless main has ``**kwargs``: Python would fail the job with a TypeError.
    ``any_keyword`` says the latter when it is already known (False: refuse unknown names).
    """
    if not schema:
        return
    from wac.parser.validate import validate_args

    # "$var:PATH" / "$res:PATH" values are resolved in the job before it runs (as Windmill does):
    # the value they name is what the script gets, so they are not checked against the schema here.
    refs = [k for k, v in args.items() if isinstance(v, str) and v.startswith(("$var:", "$res:"))]
    problems = [p for p in validate_args(schema, args) if not any(p.startswith(f"'{k}'") for k in refs)]
    props = schema.get("properties")
    known = set(props) if isinstance(props, dict) else set()
    unknown = sorted(name for name in args if name not in known)
    if any_keyword is None and main_text is not None:
        any_keyword = takes_any_keyword(main_text)
    if unknown and any_keyword is False:
        inputs = ", ".join(sorted(known)) or "none"
        problems = [f"unknown argument '{name}'" for name in unknown] + problems
        hint = f"main takes: {inputs}; " + hint
    if problems:
        raise ArgsError(f"arguments do not match the inputs of {what}: " + "; ".join(problems), hint=hint)


def refuse_other_languages(ref: ScriptRef) -> None:
    """wac runs Python; other languages of a repo are kept in sync but run by Windmill."""
    from wac.errors import UsageError
    from wac.project.languages import language_of

    if ref.main_file.suffix == ".py":
        return
    language = language_of(ref.main_file.name) or "unknown"
    raise UsageError(
        f"{ref.local_path} is a {language} script; wac runs Python scripts only (.py)",
        hint="wac syncs scripts of every language (wac sync push), but runs only Python ones; "
             "preview others with Windmill's own tools (wmill script preview)")


def use_index(index_url: str | None, find_links: list[str] | None, no_index: bool) -> None:
    """``--index-url/--find-links/--no-index`` of preview and run: they apply to this process as
    the ``WAC_*`` variables generate-metadata honours (lock resolution and environment builds)."""
    import os

    if index_url:
        os.environ["WAC_INDEX_URL"] = index_url
    if find_links:
        os.environ["WAC_FIND_LINKS"] = os.pathsep.join(str(Path(p).resolve()) if "://" not in p else p
                                                       for p in find_links)
    if no_index:
        os.environ["WAC_NO_INDEX"] = "1"


def with_environment(ref: ScriptRef, bundle: Any) -> Any:
    """The bundle with the lock of its environment pinned, that environment built (in the user's
    cache) when it is not yet: see docs/guides/dependencies-and-environments.md.

    Raises:
        EnvBuildError: the lock cannot be resolved or installed.
    """
    from wac.engine.envlock import ENV_LOCK, needs_env, pin_env

    if not needs_env(bundle.files):
        return bundle
    from wac.cli import output
    from wac.engine.envs import EnvSpec, ensure, note_once
    from wac.sync.scripts import read_script

    local = read_script(ref)
    locks = None
    if not local.stale:  # the .script.lock (and module locks) generate-metadata wrote are fresh
        locks = {ref.local_path: local.script.lock or ""}
        locks.update({f"{ref.module_dir.relative_to(ref.repo_root).as_posix()}/{key}": m.lock or ""
                      for key, m in sorted(local.script.modules.items())})
    pinned = pin_env(bundle, locks, ref.remote_path)
    if ENV_LOCK in pinned.files:
        env = EnvSpec.of(pinned.files[ENV_LOCK])
        note_once(env, ref.remote_path, output.info)
        ensure(env, label=ref.remote_path, report=output.info)
    return pinned


def prepare(path: str, args: dict[str, Any]) -> tuple[ScriptRef, Any, Callable[[], Any]]:
    """Resolve PATH to a script and pin its code in a bundle.

    Returns the script, its bundle, and ``check()``: the argument check against the script's
    schema runs in a thread (the parser's import is the slowest part of a preview) and ``check()``
    waits for it and raises its ArgsError. Call it before submitting: it returns the bundle to
    submit, with its environment's lock pinned (the same thread resolves and builds that
    environment when the script needs one).
    """
    import threading

    from wac.engine.bundle import build_bundle

    root = find_repo_root(Path.cwd())
    ref = resolve_script(root, path)
    refuse_other_languages(ref)
    modules = {ref.module_paths[key].relative_to(ref.repo_root).as_posix(): text for key, text in ref.modules.items()}
    bundle = build_bundle(ref.repo_root, ref.main_file, ref.module_dir, modules)
    failure: list[BaseException] = []
    pinned = [bundle]

    def run() -> None:
        try:
            check_args(ref, bundle.files[bundle.entry], args)
            pinned[0] = with_environment(ref, bundle)
        except BaseException as exc:  # handed to the caller by check()
            failure.append(exc)

    thread = threading.Thread(target=run, name="wac-check-args", daemon=True)
    thread.start()

    def check() -> Any:
        thread.join()
        if failure:
            raise failure[0]
        return pinned[0]

    return ref, bundle, check
