"""A Windmill flow between its API document and the repo's files, as the wmill CLI 1.819 converts it.

Pull (the export's ``{path}.flow.json``): every ``rawscript`` step (in loops, branches, AI agent
tools, the failure and preprocessor modules too) gets its code written to a file beside
``flow.yaml`` and its ``content`` replaced by ``!inline <file>``; a non-empty ``lock`` likewise
(``<name>.lock``). File names come from the step's summary (else its id), sanitised, made unique
case-insensitively, with the language's extension: ``<name>.inline_script.py`` in the dotted layout
(``x.flow/``), ``<name>.py`` with ``nonDottedPaths`` (``x__flow/``). ``on_behalf_of_email`` becomes
``has_on_behalf_of: true`` with ``syncBehavior: v1``. ``flow.yaml`` is the rest, in wmill's YAML style.

Push: ``flow.yaml`` read back, every ``!inline`` file put back inline (a missing code file is an
error naming it; a missing lock file is an empty lock, as in wmill), ``has_on_behalf_of``,
``on_behalf_of`` and ``extra_perms`` left out of the body.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

from wac.errors import MetadataError, WorkspaceError

JsonValue = Any

LANGUAGE_EXTENSIONS = {
    "python3": "py", "bun": "bun.ts", "deno": "deno.ts", "go": "go", "bash": "sh", "powershell": "ps1",
    "postgresql": "pg.sql", "mysql": "my.sql", "bigquery": "bq.sql", "oracledb": "odb.sql",
    "snowflake": "sf.sql", "mssql": "ms.sql", "graphql": "gql", "nativets": "native.ts",
    "frontend": "frontend.js", "php": "php", "rust": "rs", "csharp": "cs", "nu": "nu",
    "ansible": "playbook.yml", "java": "java", "duckdb": "duckdb.sql", "bunnative": "ts", "ruby": "rb",
    "rlang": "r", "dbt": "dbt.yaml",
}
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])$")
_HINT = "nothing was written; fix or archive the flow in the workspace, then pull again"
_UNSAFE = re.compile(r'[/\\:*?"<>|\x00-\x1f\x7f]')


def sanitize(summary: str) -> str:
    """wmill's ``sanitizeForFilesystem`` (lower case)."""
    name = _UNSAFE.sub("", summary.replace(" ", "_"))
    name = re.sub(r"_+", "_", name)
    name = re.sub(r"^[._]+|[._]+$", "", name).lower()
    return f"_{name}" if _WINDOWS_RESERVED.match(name) else name


class PathAssigner:
    """wmill's ``newPathAssigner``: unique file names for a flow's inline scripts."""

    def __init__(self, default_ts: str = "bun", non_dotted: bool = False) -> None:
        self.default_ts = default_ts
        self.suffix = "." if non_dotted else ".inline_script."
        self.counter = 0
        self.seen: set[str] = set()

    def assign(self, summary: str | None, language: str) -> tuple[str, str]:
        name = sanitize(summary) if summary else ""
        original = name
        if name == "":
            original, name = "inline_script", "inline_script_0"
        while name.lower() in self.seen:
            self.counter += 1
            name = f"{original}_{self.counter}"
        self.seen.add(name.lower())
        if language in (self.default_ts, "bunnative"):
            ext = "ts"
        else:
            ext = LANGUAGE_EXTENSIONS.get(language, "no_ext")
        return f"{name}{self.suffix}", ext


def _children(module: Mapping[str, JsonValue]) -> list[list[JsonValue]]:
    """The module lists nested in a step (loops, branches), in wmill's order."""
    value = module.get("value") or {}
    kind = value.get("type")
    if kind in ("forloopflow", "whileloopflow"):
        return [value.get("modules") or []]
    if kind == "branchall":
        return [b.get("modules") or [] for b in value.get("branches") or []]
    if kind == "branchone":
        return [*(b.get("modules") or [] for b in value.get("branches") or []), value.get("default") or []]
    return []


def _rawscripts(modules: list[JsonValue]) -> list[tuple[str, str | None, dict[str, JsonValue]]]:
    """``(id, summary, rawscript value)`` of every inline script, depth first as wmill walks them."""
    out: list[tuple[str, str | None, dict[str, JsonValue]]] = []
    for m in modules:
        if not isinstance(m, dict) or not isinstance(m.get("value"), dict):
            raise TypeError(f"a step is not an object with a value: {str(m)[:60]}")
        value = m["value"]
        if value.get("type") == "rawscript":
            out.append((str(m.get("id")), m.get("summary"), value))
        elif value.get("type") == "aiagent":
            for tool in value.get("tools") or []:
                tv = tool.get("value") if isinstance(tool, dict) else None
                if isinstance(tv, dict) and tv.get("tool_type") == "flowmodule" and tv.get("type") == "rawscript":
                    out.append((str(tool.get("id")), tool.get("summary"), tv))
        else:
            for sub in _children(m):
                out += _rawscripts(sub)
    return out


def _module_lists(value: Mapping[str, JsonValue]) -> list[list[JsonValue]]:
    lists = [value.get("modules") or []]
    for key in ("failure_module", "preprocessor_module"):
        if value.get(key):
            lists.append([value[key]])
    return lists


def current_mapping(flow_yaml: str) -> dict[str, str]:
    """``{step id: inline file}`` of a local ``flow.yaml`` (wmill's ``checkoutInlineNames``, which its
    push uses to render the workspace's flows with the repo's names). Unreadable -> ``{}``; absolute
    or ``..`` names are dropped."""
    from wac.project.yamlio import load_yaml

    try:
        flow = load_yaml(flow_yaml)
        value = flow.get("value") if isinstance(flow, dict) else None
        if not isinstance(value, dict):
            return {}
        lists = _module_lists(value)
        scripts = [s for modules in [*lists[1:], lists[0]] for s in _rawscripts(modules)]
    except Exception:  # noqa: BLE001 - as wmill: a local file it cannot read gives no names
        return {}
    mapping: dict[str, str] = {}
    for ident, _summary, raw in scripts:
        content = raw.get("content")
        if isinstance(content, str) and content.startswith("!inline "):
            ref = content.strip().split(" ")[1] if len(content.strip().split(" ")) > 1 else ""
            if ref and not ref.startswith("/") and ".." not in re.split(r"[\\/]", ref):
                mapping[ident] = ref
    return mapping


def _lock_base(content_path: str, language: str) -> str:
    """wmill's ``lockBasePathForContent``."""
    ext = LANGUAGE_EXTENSIONS.get(language)
    if ext and content_path.endswith("." + ext):
        return content_path[: -len(ext)]
    dot = content_path.rfind(".")
    return content_path[: dot + 1] if dot > 0 else content_path + "."


def _render(folder: str, doc: dict[str, JsonValue], mapping: Mapping[str, str], non_dotted: bool,
            default_ts: str) -> tuple[dict[str, JsonValue], list[tuple[str, str]]]:
    flow = copy.deepcopy(doc)
    value = flow.get("value")
    if not isinstance(value, dict) or not isinstance(value.get("modules", []), list):
        raise WorkspaceError(f"the workspace's flow {folder} has no valid 'value.modules'", hint=_HINT)
    assigner = PathAssigner(default_ts, non_dotted)
    files: list[tuple[str, str]] = []
    try:
        for modules in _module_lists(value):
            for ident, summary, raw in _rawscripts(modules):
                language = str(raw.get("language") or "")
                base, ext = assigner.assign(ident if summary is None else str(summary), language)
                mapped = mapping.get(ident)
                name = mapped or base + ext
                content = raw.get("content")
                if not isinstance(content, str):
                    raise TypeError(f"step {ident} has no code")
                if content.startswith("!inline "):
                    raise ValueError(f"step {ident} holds the literal {content.splitlines()[0]!r} instead of code")
                files.append((name, content))
                raw["content"] = f"!inline {name}"
                lock = raw.get("lock")
                if isinstance(lock, str) and lock != "":
                    lock_name = (_lock_base(mapped, language) if mapped else base) + "lock"
                    files.append((lock_name, lock))
                    raw["lock"] = f"!inline {lock_name}"
    except (ValueError, AttributeError, TypeError) as exc:
        raise WorkspaceError(f"the workspace's flow {folder} cannot be written as files: {exc}", hint=_HINT) from None
    return flow, files


def flow_files(folder: str, doc: dict[str, JsonValue], *, non_dotted: bool = False, default_ts: str = "bun",
               strip_owner: bool = False, mapping: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{repo-relative path: text}`` of the flow folder wmill writes for the export's ``doc``
    (``mapping``: the inline file names the local ``flow.yaml`` already uses, see :func:`current_mapping`).

    Raises:
        WorkspaceError: the document is not a flow wmill could write (named by ``folder``).
    """
    from wac.project.yamlio import dump_yaml

    flow, scripts = _render(folder, doc, mapping or {}, non_dotted, default_ts)
    if len({name for name, _ in scripts}) != len(scripts):  # the local names clash: wmill's own names
        flow, scripts = _render(folder, doc, {}, non_dotted, default_ts)
    if strip_owner:
        if flow.get("on_behalf_of_email"):
            flow["has_on_behalf_of"] = True
        flow.pop("on_behalf_of_email", None)
    files = {f"{folder}/{name}": text for name, text in scripts}
    files[f"{folder}/flow.yaml"] = dump_yaml(flow)
    return files


def item_document(folder: str, files: Mapping[str, str], filename: str, folder_hint: str,
                  value_hint: str) -> dict[str, Any]:
    """The parsed ``folder/filename`` (flow.yaml, app.yaml) of an item about to be pushed.

    Raises:
        MetadataError: the file is missing, not YAML, or has no ``value`` mapping (named).
    """
    from wac.project.yamlio import load_yaml

    name = f"{folder}/{filename}"
    if name not in files:
        raise MetadataError(f"cannot push {folder}: it has no {filename}", hint=folder_hint)
    try:
        doc = load_yaml(files[name])
    except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and friends: a malformed file
        raise MetadataError(f"cannot push {name}: not valid YAML ({exc})", hint="fix the file") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("value"), dict):
        raise MetadataError(f"cannot push {name}: it has no 'value' mapping", hint=value_hint)
    return doc


def flow_body(folder: str, files: Mapping[str, str]) -> dict[str, JsonValue]:
    """The flow as wmill pushes it (without ``path``): ``flow.yaml`` with its inline files put back
    (``has_on_behalf_of`` still in it: the caller takes it out).

    Raises:
        MetadataError: ``flow.yaml`` is not a flow, or an inline code file is missing (named).
    """
    flow = item_document(folder, files, "flow.yaml", "a flow folder holds flow.yaml",
                         "a flow.yaml holds summary, value, schema")
    def read(rel: str) -> str | None:
        return files.get(f"{folder}/{rel}")

    missing: list[str] = []
    try:
        for modules in _module_lists(flow["value"]):
            for ident, _summary, raw in _rawscripts(modules):
                content = raw.get("content")
                if isinstance(content, str) and content.startswith("!inline"):
                    ref = content.split(" ")[1] if " " in content else ""
                    suffix = ".".join(ref.split(".")[1:])
                    found = read(ref)
                    if found is None:
                        found = read(f"{ident}.{suffix}")
                    if found is None:
                        missing.append(ref)
                    else:
                        raw["content"] = found
                lock = raw.get("lock")
                if isinstance(lock, str) and lock.lstrip().startswith("!inline "):
                    raw["lock"] = read(lock.lstrip().split(" ")[1]) or ""
    except (ValueError, AttributeError, TypeError) as exc:
        raise MetadataError(f"cannot push {folder}/flow.yaml: {exc}", hint="fix the flow's steps") from None
    if missing:
        raise MetadataError(f"cannot push flow {folder}: missing inline script file(s): {', '.join(missing)}",
                            hint="restore the file(s) or remove the !inline reference(s) from flow.yaml")
    for key in ("on_behalf_of", "extra_perms"):
        flow.pop(key, None)
    return flow
