"""Scripts between wac and Windmill: the ``scripts/create`` body, and Windmill's script JSON as a
:class:`ScriptVersion`.

The create body is the one the real CLI sends (contract §3.1 [C], ``wmill-cli.md`` §5.3): keys
with no value are left out, ``lock`` is ``""`` when none is recorded, ``modules`` only when there
are some, and a module's ``lock`` only when it has one.

Everything read from a server is checked before wac uses it as a file name: a script path must be
``f/…``, ``u/…`` or ``g/…``, and neither it nor a module key may be absolute or hold ``..``, a
backslash or a NUL (RejectedError naming it). The sync layer writes files from these paths.
"""

from __future__ import annotations

from typing import Any

from wac.engine.backend import OPTION_KEYS, NewScript, ScriptModule, ScriptVersion
from wac.errors import RejectedError
from wac.project.safepath import relative_path_problem
from wac.timeformat import timestamp

JsonValue = Any

SCRIPT_ROOTS = ("f", "u", "g")


def unsafe_reason(name: str) -> str | None:
    """Why ``name`` cannot be used as a relative file path, or None when it can."""
    problem = relative_path_problem(name)
    return None if problem is None else f"it {problem}"


def check_script_path(path: str, origin: str) -> str:
    """``path`` when it is a safe Windmill script path, else RejectedError naming it."""
    reason = unsafe_reason(path)
    if reason is None and (path.split("/", 1)[0] not in SCRIPT_ROOTS or path.count("/") < 2):
        reason = "it is not under f/, u/ or g/"
    if reason:
        raise RejectedError(f"{origin} holds the script path {path!r}, which wac refuses: {reason}",
                            hint="rename or archive that script on the server")
    return path


def check_module_key(path: str, key: str, origin: str) -> str:
    reason = unsafe_reason(key)
    if reason:
        raise RejectedError(f"{origin} holds a module {key!r} of {path}, which wac refuses: {reason}",
                            hint="rename that module on the server")
    return key


def _unset(value: JsonValue) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def options_of(doc: dict[str, JsonValue], *, keep_falsy: bool) -> dict[str, JsonValue]:
    """The OPTION_KEYS of a script document (a server's full Script says ``null``/``false`` for
    unset ones; an exported ``script.json`` lists only what is set)."""
    if keep_falsy:
        return {k: doc[k] for k in OPTION_KEYS if doc.get(k) is not None}
    return {k: doc[k] for k in OPTION_KEYS if not _unset(doc.get(k))}


def modules_of(path: str, doc: dict[str, JsonValue], origin: str) -> dict[str, ScriptModule]:
    raw = doc.get("modules")
    if not isinstance(raw, dict):
        return {}
    modules: dict[str, ScriptModule] = {}
    for key, module in raw.items():
        check_module_key(path, str(key), origin)
        module = module if isinstance(module, dict) else {}
        lock = module.get("lock")
        modules[str(key)] = ScriptModule(content=str(module.get("content") or ""),
                                         language=str(module.get("language") or "python3"),
                                         lock=lock if isinstance(lock, str) else None)
    return modules


def script_of(path: str, content: str, doc: dict[str, JsonValue], origin: str, *, keep_falsy: bool) -> NewScript:
    """A NewScript from a server's script document (a ``Script`` or an exported ``script.json``)."""
    modules = modules_of(path, doc, origin)
    schema = doc.get("schema")
    lock = doc.get("lock")
    return NewScript(
        path=path, content=content, summary=str(doc.get("summary") or ""),
        description=str(doc.get("description") or ""), language=str(doc.get("language") or "python3"),
        kind=str(doc.get("kind") or "script"), schema=schema if isinstance(schema, dict) else None,
        lock=lock if isinstance(lock, str) else None, modules=modules,
        options=options_of(doc, keep_falsy=keep_falsy), has_preprocessor=bool(doc.get("has_preprocessor")),
        metadata=None, layout="folder" if modules else "flat",
    )


def version_of(doc: dict[str, JsonValue], origin: str) -> ScriptVersion:
    """A ``Script`` answered by ``scripts/get/p|h`` as a ScriptVersion."""
    path = check_script_path(str(doc.get("path") or ""), origin)
    parents = doc.get("parent_hashes")
    return ScriptVersion(
        script=script_of(path, str(doc.get("content") or ""), doc, origin, keep_falsy=False),
        hash=str(doc.get("hash") or ""),
        parent_hash=str(parents[0]) if isinstance(parents, list) and parents else None,
        created_at=timestamp(doc.get("created_at")) or 0.0,
        created_by=str(doc.get("created_by") or ""),
        archived=bool(doc.get("archived")),
    )


def create_body(script: NewScript, parent_hash: str | None) -> dict[str, JsonValue]:
    """The ``NewScript`` body of ``POST scripts/create`` (what ``wmill script push`` sends)."""
    body: dict[str, JsonValue] = {
        "content": script.content, "description": script.description, "language": script.language,
        "path": script.path, "summary": script.summary, "kind": script.kind,
        "lock": script.lock if script.lock is not None else "",
    }
    if script.schema is not None:
        body["schema"] = script.schema
    if script.modules:
        body["modules"] = {key: _module_body(m) for key, m in script.modules.items()}
    for key in OPTION_KEYS:
        if script.options.get(key) is not None:
            body[key] = script.options[key]
    if script.has_preprocessor:
        body["has_preprocessor"] = True
    if script.deployment_message:
        body["deployment_message"] = script.deployment_message
    body["skip_draft_deletion"] = True
    if parent_hash:
        body["parent_hash"] = parent_hash
        body["auto_parent"] = True
    return body


def _module_body(module: ScriptModule) -> dict[str, JsonValue]:
    body: dict[str, JsonValue] = {"content": module.content, "language": module.language}
    if module.lock is not None:
        body["lock"] = module.lock
    return body


def _module_view(modules: JsonValue) -> dict[str, tuple[str, str, str]]:
    if not isinstance(modules, dict):
        return {}
    view = {}
    for key, m in modules.items():
        m = m if isinstance(m, dict) else {}
        view[str(key)] = (str(m.get("content") or ""), str(m.get("language") or "python3"), str(m.get("lock") or ""))
    return view


def same_as_deployed(script: NewScript, doc: dict[str, JsonValue]) -> bool:
    """True when the deployed ``Script`` already has this content, lock, schema, modules and
    metadata, so a push would create nothing (the CLI's own check before ``scripts/create``)."""
    ours = {k: v for k, v in script.options.items() if k in OPTION_KEYS and not _unset(v)}
    theirs = {k: doc.get(k) for k in OPTION_KEYS if not _unset(doc.get(k))}
    return (
        script.content == (doc.get("content") or "")
        and (script.lock or "") == (doc.get("lock") or "")
        and (script.schema or None) == (doc.get("schema") or None)
        and _module_view({k: m.to_json() for k, m in script.modules.items()}) == _module_view(doc.get("modules"))
        and script.summary == (doc.get("summary") or "")
        and script.description == (doc.get("description") or "")
        and script.kind == (doc.get("kind") or "script")
        and script.language == (doc.get("language") or "python3")
        and script.has_preprocessor == bool(doc.get("has_preprocessor"))
        and ours == theirs
    )
