"""A Windmill raw app between its API document and the repo's files, as the wmill CLI 1.819 converts it.

Pull (the export's ``{path}.raw_app.json``: summary, value {runnables, files, data}, policy,
custom_path, extra_perms): every frontend file of ``value.files`` is written at its path in the folder
(``sql_to_apply/``, ``wmill.d.ts``, ``AGENTS.md`` and ``DATATABLES.md`` left out, as wmill's sync
leaves them); every runnable becomes ``backend/<id>.yaml`` (an inline one ``type: inline`` plus its
fields, its code in ``backend/<id>.<ext>`` and a non-empty lock in ``backend/<id>.lock``; a path one
``type: script|flow|hubscript`` and its path), its fields simplified (a static one to ``{value}``, a
JavaScript one to ``{expr, allowUserResources}``, a user one dropped, a context one to ``{ctx}``);
``raw_app.yaml`` is the rest (summary, ``data``, ``extra_perms``...; the policy left out, an
``anonymous`` one becoming ``public: true``, a ``guest`` one ``guests: true``; ``custom_path`` dropped).

Push (:func:`raw_app_body`): the runnables read back from ``backend/`` (else from ``raw_app.yaml``'s
``runnables``, the legacy layout), their fields typed again, the frontend files (every file of the
folder but ``backend/``, ``raw_app.yaml``, ``node_modules/``, ``dist/``, ``.claude/``,
``sql_to_apply/``, top ``recordings/``, ``package-lock.json``, ``DATATABLES.md``, ``AGENTS.md``,
``wmill.d.ts``: :func:`deploys`) keyed ``/<rel>``, and a fresh policy (:func:`raw_app_policy`, wmill's
``Q``: one ``triggerables_v2`` entry per runnable). The frontend itself is bundled by
:mod:`wac.engine.remote.rawbundle`.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from wac.engine.remote.flowfiles import LANGUAGE_EXTENSIONS
from wac.errors import MetadataError, WorkspaceError

JsonValue = Any

BACKEND = "backend"
_NEVER_DIRS = frozenset({"node_modules", "dist", ".claude", "sql_to_apply"})
_NEVER_FILES = frozenset({"package-lock.json", "DATATABLES.md", "AGENTS.md", "wmill.d.ts"})
_NOT_PULLED = ("/wmill.d.ts", "/AGENTS.md", "/DATATABLES.md")
_HINT = "nothing was written; fix or archive the raw app in the workspace, then pull again"
EXTENSION_LANGUAGES = {ext: lang for lang, ext in LANGUAGE_EXTENSIONS.items()
                       if lang not in ("bunnative", "rlang")} | {"ts": "bun"}


def deploys(rel: str) -> bool:
    """wmill's ``deploysWithRawApp``: whether a file of a raw app folder (``rel`` inside it) is synced."""
    segments = [s for s in rel.split("/") if s]
    if not segments:
        return False
    name, dirs = segments[-1], segments[:-1]
    if dirs[:1] == [BACKEND]:
        return len(dirs) == 1
    if name in _NEVER_FILES or any(d in _NEVER_DIRS for d in dirs):
        return False
    return dirs[:1] != ["recordings"]


# ---- pull
_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$")


def _sanitize(ident: str) -> str:
    """wmill's ``sanitizeForFilesystem`` with ``preserveCase``."""
    name = re.sub(r"_+", "_", _UNSAFE.sub("", ident.replace(" ", "_")))
    name = re.sub(r"^[._]+|[._]+$", "", name)
    return f"_{name}" if _WINDOWS_RESERVED.match(name.lower()) else name


class RawPathAssigner:
    """wmill's ``newRawAppPathAssigner``: backend file names from the runnable ids (case kept)."""

    def __init__(self, default_ts: str) -> None:
        self.default_ts, self.counter, self.seen = default_ts, 0, set[str]()

    def assign(self, ident: str, language: str) -> tuple[str, str]:
        name = _sanitize(ident) if ident else ""
        original = name
        if name == "":
            original, name = "runnable", "runnable_0"
        while name.lower() in self.seen:
            self.counter += 1
            name = f"{original}_{self.counter}"
        self.seen.add(name.lower())
        ext = "ts" if language in (self.default_ts, "bunnative") else LANGUAGE_EXTENSIONS.get(language, "no_ext")
        return f"{name}.", ext


def _extract(key: str, rec: JsonValue, assigner: RawPathAssigner, out: list[tuple[str, str]]) -> None:
    """wmill's ``extractInlineScriptsForApps`` with the runnable id as name and schemas removed."""
    from wac.project.yamlio import sort_mapping

    if not isinstance(rec, (dict, list)):
        return
    entries = [(str(i), v) for i, v in enumerate(rec)] if isinstance(rec, list) else sort_mapping(rec)
    for k, value in entries:
        if k == "inlineScript" and isinstance(value, dict) and isinstance(rec, dict):
            rec.pop("type", None)
            base, ext = assigner.assign(key, str(value.get("language") or ""))
            content = value.get("content")
            if content:
                if not isinstance(content, str):
                    raise TypeError(f"the code of runnable {key!r} is not text")
                out.append((base + ext, content))
                value["content"] = f"!inline {base}{ext}"
            lock = value.get("lock")
            if lock:
                if not isinstance(lock, str):
                    raise TypeError(f"the lock of runnable {key!r} is not text")
                out.append((base + "lock", lock))
                value["lock"] = f"!inline {base}lock"
            value.pop("schema", None)
        else:
            _extract(k, value, assigner, out)


def _pulled_fields(fields: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """wmill's ``extractFields`` then ``simplifyFields`` (keys whose value JS leaves undefined dropped)."""
    out: dict[str, JsonValue] = {}
    for k, v in fields.items():
        if isinstance(v, dict):
            kind = v.get("type")
            if kind == "static":
                v = {"value": v["value"]} if "value" in v else {}
            elif kind == "javascript":
                v = {f: v[f] for f in ("expr", "allowUserResources") if f in v}
            elif kind == "user":
                continue
            elif kind == "ctx" and "ctx" in v:
                v = {"ctx": v["ctx"]}
        out[k] = v
    return out


def _runnable_yaml(runnable: JsonValue) -> JsonValue:
    if not isinstance(runnable, dict):
        return runnable
    if runnable.get("inlineScript"):
        simple = {"type": "inline", **{k: v for k, v in runnable.items() if k not in ("inlineScript", "type")}}
    elif runnable.get("type") == "path" and runnable.get("runType"):
        simple = {"type": runnable["runType"],
                  **{k: v for k, v in runnable.items() if k not in ("type", "runType", "schema")}}
    else:
        simple = dict(runnable)
    if isinstance(simple.get("fields"), dict):
        simple["fields"] = _pulled_fields(simple["fields"])
    return simple


def _inside(folder: str, rel: str) -> str:
    """wmill's ``rawAppPathWithinFolder``: ``folder/rel``, refusing a path that leaves the folder."""
    parts: list[str] = []
    for part in rel.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise ValueError(f"raw app path {rel!r} escapes the app folder")
            parts.pop()
        else:
            parts.append(part)
    if not parts:
        raise ValueError(f"raw app path {rel!r} escapes the app folder")
    return f"{folder}/{'/'.join(parts)}"


def raw_app_files(folder: str, doc: dict[str, JsonValue], *, default_ts: str = "bun") -> dict[str, str]:
    """``{repo-relative path: text}`` of the raw app folder wmill writes for the export's ``doc``.

    Raises:
        WorkspaceError: the document is not a raw app wmill could write (named by ``folder``).
    """
    from wac.project.yamlio import dump_yaml

    app = copy.deepcopy(doc)
    value = app.get("value")
    if not isinstance(value, dict):
        raise WorkspaceError(f"the workspace's raw app {folder} has no 'value' mapping", hint=_HINT)
    runnables = value.get("runnables") or {}
    files_doc = value.get("files") or {}
    if not isinstance(runnables, dict) or not isinstance(files_doc, dict):
        raise WorkspaceError(f"the workspace's raw app {folder} has malformed runnables or files", hint=_HINT)
    policy = app.get("policy")
    mode = policy.get("execution_mode") if isinstance(policy, dict) else None
    if mode == "anonymous":
        app["public"] = True
    elif mode == "guest":
        app["guests"] = True
    for key in ("policy", "custom_path", "value"):
        app.pop(key, None)
    files: dict[str, str] = {}
    scripts: list[tuple[str, str]] = []
    try:
        for name, content in files_doc.items():
            if name.startswith("/sql_to_apply/") or name in _NOT_PULLED:
                continue
            if not isinstance(content, str):
                raise TypeError(f"the content of raw app file {name} is not a string")
            target = _inside(folder, name.lstrip("/"))
            if deploys(target[len(folder) + 1:]):  # wmill's sync leaves the others (dist/, node_modules/...) out
                files[target] = content
        _extract("", value, RawPathAssigner(default_ts), scripts)
        for name, content in scripts:
            files[f"{folder}/{BACKEND}/{name}"] = content
        for ident, runnable in runnables.items():
            files[_inside(f"{folder}/{BACKEND}", f"{ident}.yaml")] = dump_yaml(_runnable_yaml(runnable))
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"the workspace's raw app {folder} cannot be written as files: {exc}", hint=_HINT) from None
    if value.get("data"):
        app["data"] = value["data"]
    files[f"{folder}/raw_app.yaml"] = dump_yaml(app)
    return files


# ---- push
def _backend_runnables(folder: str, files: Mapping[str, str], default_ts: str) -> dict[str, JsonValue]:
    """wmill's ``loadRunnablesFromBackend``: ``backend/<id>.yaml`` files, then code files without one."""
    from wac.project.yamlio import load_yaml

    prefix = f"{folder}/{BACKEND}/"
    names = [rel[len(prefix):] for rel in files if rel.startswith(prefix) and "/" not in rel[len(prefix):]]

    def content(ident: str) -> tuple[str, str] | None:
        for name in names:
            if name.endswith((".yaml", ".lock")) or not name.lower().startswith(ident.lower() + "."):
                continue
            ext = name[len(ident) + 1:]
            if ext in EXTENSION_LANGUAGES:
                return ext, files[prefix + name]
        return None

    def lock(ident: str) -> dict[str, str]:
        found = next((n for n in names if n.lower() == f"{ident.lower()}.lock"), None)
        text = files[prefix + found] if found is not None else ""
        return {"lock": text} if text else {}

    def language(ext: str) -> str:
        return default_ts if ext == "ts" else EXTENSION_LANGUAGES[ext]

    runnables: dict[str, JsonValue] = {}
    seen: set[str] = set()
    for name in names:
        if not name.endswith(".yaml"):
            continue
        ident = name[: -len(".yaml")]
        seen.add(ident.lower())
        try:
            runnable = load_yaml(files[prefix + name])
        except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and friends: a malformed file
            raise MetadataError(f"cannot push {prefix}{name}: not valid YAML ({exc})", hint="fix the file") from None
        if isinstance(runnable, dict) and runnable.get("type") == "inline":
            found = content(ident)
            if found is not None:
                runnable["inlineScript"] = {"content": found[1], "language": language(found[0]), **lock(ident)}
        elif isinstance(runnable, dict) and runnable.get("type") in ("script", "hubscript", "flow"):
            run_type = runnable.pop("type")
            runnable.pop("schema", None)
            rest = dict(runnable)
            runnable.clear()
            runnable.update({"type": "path", **rest, "runType": run_type})
        runnables[ident] = runnable
    for name in names:
        if name.endswith((".yaml", ".lock")):
            continue
        ext = next((e for e in EXTENSION_LANGUAGES if name.endswith("." + e)), None)
        if ext is None:
            continue
        ident = name[: -len(ext) - 1]
        if ident.lower() in seen:
            continue
        seen.add(ident.lower())
        found = content(ident)
        if found is not None:
            runnables[ident] = {"type": "inline",
                                "inlineScript": {"content": found[1], "language": language(found[0]), **lock(ident)}}
    return runnables


def _typed_fields(fields: dict[str, JsonValue]) -> None:
    """wmill's ``respecializeFields``."""
    for k, v in list(fields.items()):
        if isinstance(v, dict):
            if "value" in v:
                fields[k] = {"value": v["value"], "type": "static"}
            elif "ctx" in v:
                fields[k] = {"ctx": v["ctx"], "type": "ctx"}
            elif "expr" in v:
                fields[k] = {"expr": v["expr"], **({"allowUserResources": v["allowUserResources"]}
                                                   if "allowUserResources" in v else {}), "type": "javascript"}


def _retyped(rec: JsonValue, folder: str, files: Mapping[str, str], missing: list[str]) -> None:
    """wmill's ``replaceInlineScripts`` for apps (legacy ``runnables`` of ``raw_app.yaml``)."""
    if not isinstance(rec, (dict, list)):
        return
    for key, value in (list(enumerate(rec)) if isinstance(rec, list) else list(rec.items())):
        if key == "runType" and isinstance(rec, dict):
            rec["type"] = "path"
        elif key == "inlineScript" and isinstance(value, dict) and isinstance(rec, dict):
            rec["type"] = "inline"
            for field in ("content", "lock"):
                ref = value.get(field)
                if isinstance(ref, str) and ref.startswith("!inline"):
                    name = ref.split(" ")[1] if " " in ref else ""
                    found = files.get(f"{folder}/{BACKEND}/{name}")
                    if found is None:
                        missing.append(f"{BACKEND}/{name}")
                    else:
                        value[field] = found
        else:
            _retyped(value, folder, files, missing)


def raw_app_body(folder: str, files: Mapping[str, str], default_ts: str = "bun"
                 ) -> tuple[dict[str, JsonValue], dict[str, JsonValue], dict[str, str]]:
    """``(raw_app.yaml, runnables, frontend files)`` of a raw app folder, as wmill's ``pushRawApp`` reads them.

    Raises:
        MetadataError: ``raw_app.yaml`` is not a mapping, or a legacy ``!inline`` file is missing.
    """
    from wac.project.yamlio import load_yaml

    rel = f"{folder}/raw_app.yaml"
    if rel not in files:
        raise MetadataError(f"cannot push raw app {folder}: it holds no raw_app.yaml", hint="a raw app folder holds raw_app.yaml")
    try:
        local = load_yaml(files[rel])
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and friends: a malformed file
        raise MetadataError(f"cannot push {rel}: not valid YAML ({exc})", hint="fix the file") from None
    if not isinstance(local, dict):
        raise MetadataError(f"cannot push {rel}: it is not a mapping", hint="a raw_app.yaml holds summary and data")
    runnables = _backend_runnables(folder, files, default_ts)
    if not runnables:
        legacy = local.get("runnables")
        runnables = legacy if isinstance(legacy, dict) else {}
    missing: list[str] = []
    _retyped(runnables, folder, files, missing)
    if missing:
        raise MetadataError(f"cannot push raw app {folder}: missing inline script file(s): {', '.join(missing)}",
                            hint="restore the file(s) or remove the !inline reference(s) from raw_app.yaml")
    for runnable in runnables.values():
        if isinstance(runnable, dict) and isinstance(runnable.get("fields"), dict):
            _typed_fields(runnable["fields"])
    prefix = folder + "/"
    frontend = {"/" + r[len(prefix):]: text for r, text in sorted(files.items())
                if r.startswith(prefix) and r != rel and deploys(r[len(prefix):])
                and not r[len(prefix):].startswith(BACKEND + "/")}
    return local, runnables, frontend


def raw_app_policy(runnables: Mapping[str, JsonValue], base: dict[str, JsonValue] | None,
                   mode: str) -> dict[str, JsonValue]:
    """wmill's ``Q`` then ``finalizeDerivedPolicy``: ``base`` with one ``triggerables_v2`` entry per runnable."""
    triggerables: dict[str, JsonValue] = {}
    for ident, runnable in runnables.items():
        if not isinstance(runnable, dict):
            continue
        given = runnable.get("fields")
        fields: dict[str, JsonValue] = given if isinstance(given, dict) else {}
        entry: dict[str, JsonValue] = {
            "static_inputs": {k: f.get("value") for k, f in fields.items() if isinstance(f, dict) and f.get("type") == "static"},
            "one_of_inputs": {},
            "allow_user_resources": [k for k, f in fields.items() if isinstance(f, dict) and f.get("allowUserResources")],
        }
        after = runnable.get("delete_after_secs")
        if isinstance(after, (int, float)) and not isinstance(after, bool) and after >= 0:
            entry["delete_after_secs"] = after
        sensitive = [k for k, f in fields.items() if isinstance(f, dict) and f.get("sensitive")]
        if sensitive:
            entry["sensitive_inputs"] = sensitive
        script = runnable.get("inlineScript")
        if isinstance(script, dict) and script.get("tag"):
            entry["tag"] = script["tag"]
        if runnable.get("type") in ("runnableByName", "inline"):
            code = script.get("content") if isinstance(script, dict) else None
            digest = hashlib.sha256(str(code if code is not None else "").encode()).hexdigest()
            triggerables[f"{ident}:rawscript/{digest}"] = entry
        elif runnable.get("type") in ("runnableByPath", "path"):
            run_type = runnable.get("runType")
            triggerables[f"{ident}:{'script' if run_type == 'hubscript' else run_type}/{runnable.get('path')}"] = entry
    policy = {**(base or {}), "triggerables_v2": triggerables}
    policy.pop("triggerables", None)
    policy["execution_mode"] = mode
    return policy
