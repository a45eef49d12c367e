"""A Windmill app between its API document and the repo's files, as the wmill CLI 1.819 converts it.

Pull (the export's ``{path}.app.json``: summary, value, policy): every ``inlineScript`` of the app's
value (components, table action buttons, menu items, hidden background scripts...; walked in wmill's
key order) gets its code written beside ``app.yaml`` and its ``content`` replaced by ``!inline <file>``,
a non-empty ``lock`` likewise (``<name>.lock``); its runnable's ``type`` is dropped. File names come
from the runnable's ``name`` (else ``inline_script_0``...), as for flows (``.inline_script.`` in the
dotted layout ``x.app/``, none with ``nonDottedPaths``, ``x__app/``). The policy is left out (an
``anonymous`` one becomes ``public: true``, a ``guest`` one ``guests: true``).

Push: ``app.yaml`` read back, every ``!inline`` file put back, runnables typed again (``inline`` for
an inline script, ``path`` for one with a ``runType``), and a fresh policy generated from the
components as wmill's ``generatingPolicy`` does (``triggerables_v2``: one entry per runnable,
``{component id}:rawscript/{sha256 of the code}`` or ``{id}:{script|flow}/{path}``, with its static
inputs, the choices of a connected select, the fields allowing user resources; ``s3_inputs`` of S3
file inputs; ``allowed_s3_keys`` of images, PDFs and downloads), its execution mode as stated in
``app.yaml`` or else kept from the deployed app.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from wac.engine.remote.flowfiles import PathAssigner, item_document
from wac.errors import MetadataError, WorkspaceError

JsonValue = Any

_HINT = "nothing was written; fix or archive the app in the workspace, then pull again"


# ---- pull
def _extract(rec: JsonValue, assigner: PathAssigner, out: list[tuple[str, str]], where: str) -> None:
    """wmill's ``extractInlineScriptsForApps`` (depth first, keys in its YAML order)."""
    from wac.project.yamlio import sort_mapping

    if not rec or not isinstance(rec, (dict, list)):
        return
    entries = list(enumerate(rec)) if isinstance(rec, list) else sort_mapping(rec)
    for key, value in entries:
        if key == "inlineScript" and isinstance(value, dict):
            assert isinstance(rec, dict)
            rec.pop("type", None)
            name = rec.get("name")
            base, ext = assigner.assign(str(name) if name else None, str(value.get("language") or ""))
            content = value.get("content")
            if content:
                if not isinstance(content, str):
                    raise TypeError(f"the inline script of {name or where!r} has no code")
                if content.startswith("!inline "):
                    raise ValueError(f"the inline script of {name or where!r} holds the literal "
                                     f"{content.splitlines()[0]!r} instead of code")
                out.append((base + ext, content))
                value["content"] = f"!inline {base}{ext}"
            lock = value.get("lock")
            if lock:
                if not isinstance(lock, str):
                    raise TypeError(f"the lock of {name or where!r} is not text")
                out.append((base + "lock", lock))
                value["lock"] = f"!inline {base}lock"
        else:
            _extract(value, assigner, out, str(key))


def app_files(folder: str, doc: dict[str, JsonValue], *, non_dotted: bool = False,
              default_ts: str = "bun") -> dict[str, str]:
    """``{repo-relative path: text}`` of the app folder wmill writes for the export's ``doc``.

    Raises:
        WorkspaceError: the document is not an app wmill could write (named by ``folder``).
    """
    from wac.project.yamlio import dump_yaml

    app = copy.deepcopy(doc)
    if not isinstance(app.get("value"), dict):
        raise WorkspaceError(f"the workspace's app {folder} has no 'value' mapping", hint=_HINT)
    scripts: list[tuple[str, str]] = []
    try:
        _extract(app["value"], PathAssigner(default_ts, non_dotted), scripts, "value")
    except (TypeError, ValueError) as exc:
        raise WorkspaceError(f"the workspace's app {folder} cannot be written as files: {exc}", hint=_HINT) from None
    mode = _policy_mode(app)
    if mode == "anonymous":
        app["public"] = True
    elif mode == "guest":
        app["guests"] = True
    app.pop("policy", None)
    files = {f"{folder}/{name}": text for name, text in scripts}
    files[f"{folder}/app.yaml"] = dump_yaml(app)
    return files


def _policy_mode(app: Mapping[str, JsonValue] | None) -> JsonValue:
    policy = app.get("policy") if isinstance(app, Mapping) else None
    return policy.get("execution_mode") if isinstance(policy, dict) else None


# ---- push
def _reinline(rec: JsonValue, read: Any, missing: list[str]) -> None:
    """wmill's ``replaceInlineScripts`` for apps (with ``addType``, a server of 1.585 or later)."""
    if not isinstance(rec, (dict, list)):
        return
    entries = list(enumerate(rec)) if isinstance(rec, list) else list(rec.items())
    for key, value in entries:
        if key == "runType" and isinstance(rec, dict):
            rec["type"] = "path"
        elif key == "inlineScript" and isinstance(value, dict) and isinstance(rec, dict):
            rec["type"] = "inline"
            for field in ("content", "lock"):
                ref = value.get(field)
                if isinstance(ref, str) and ref.startswith("!inline"):
                    name = ref.split(" ")[1] if " " in ref else ""
                    found = read(name)
                    if found is None:
                        missing.append(name)
                    else:
                        value[field] = found
        else:
            _reinline(value, read, missing)


def app_body(folder: str, files: Mapping[str, str]) -> dict[str, JsonValue]:
    """The app as read from ``app.yaml`` with its inline files put back and its runnables typed
    (without ``path`` and ``policy``: :func:`app_policy` makes that one).

    Raises:
        MetadataError: ``app.yaml`` is not an app, or an inline script file is missing (named).
    """
    app = item_document(folder, files, "app.yaml", "an app folder holds app.yaml", "an app.yaml holds summary and value")
    missing: list[str] = []
    _reinline(app["value"], lambda rel: files.get(f"{folder}/{rel}"), missing)
    if missing:
        # wmill sends an empty script and warns; wac refuses rather than blank the app's code
        raise MetadataError(f"cannot push app {folder}: missing inline script file(s): {', '.join(missing)}",
                            hint="restore the file(s) or remove the !inline reference(s) from app.yaml")
    return app


def execution_mode(local: Mapping[str, JsonValue], deployed: Mapping[str, JsonValue] | None) -> str:
    """wmill's ``executionModeForPush``: what ``app.yaml`` states, else the deployed app's viewer
    mode, else ``publisher``."""
    public = local.get("public")
    if public if public is not None else _policy_mode(local) == "anonymous":
        return "anonymous"
    guests = local.get("guests")
    if guests if guests is not None else _policy_mode(local) == "guest":
        return "guest"
    mode = _policy_mode(local)
    if mode in ("viewer", "publisher"):
        return str(mode)
    return "viewer" if isinstance(deployed, Mapping) and deployed.get("execution_mode") == "viewer" else "publisher"


def base_policy(local: Mapping[str, JsonValue], deployed: dict[str, JsonValue] | None,
                claims_on_behalf: bool) -> dict[str, JsonValue] | None:
    """wmill's ``basePolicy``: the deployed (else the local) policy, without its owner unless kept."""
    stated = deployed if deployed is not None else local.get("policy")
    if not isinstance(stated, dict) or claims_on_behalf:
        return stated if isinstance(stated, dict) else None
    return {k: v for k, v in stated.items() if k not in ("on_behalf_of", "on_behalf_of_email")}


def _components(value: Mapping[str, JsonValue]) -> list[dict[str, JsonValue]]:
    grid = value.get("grid") or []
    subgrids = value.get("subgrids")
    found = list(grid) if isinstance(grid, list) else []
    if isinstance(subgrids, dict):
        for sub in subgrids.values():
            found += sub if isinstance(sub, list) else [sub]
    return [c for c in found if isinstance(c, dict)]


def _one_of(fields: Mapping[str, JsonValue], components: list[dict[str, JsonValue]]) -> dict[str, JsonValue]:
    """The choices of evalv2 fields connected to a select with static items (wmill's ``N3``)."""
    out: dict[str, JsonValue] = {}
    for key, field in fields.items():
        if not isinstance(field, dict) or field.get("type") != "evalv2":
            continue
        links = field.get("connections")
        if not isinstance(links, list) or len(links) != 1 or not isinstance(links[0], dict):
            continue
        link = links[0]
        if field.get("expr") != f"{link.get('componentId')}.{link.get('id')}":
            continue
        comp = next((c for c in components if c.get("id") == link.get("componentId")), None)
        data = comp.get("data") if comp else None
        if not isinstance(data, dict):
            continue
        kind = data.get("type")
        if kind not in ("resourceselectcomponent", "selectcomponent", "multiselectcomponent", "multiselectcomponentv2"):
            continue
        config = _map(data.get("configuration"))
        create = _map(config.get("create"))
        if kind != "resourceselectcomponent" and create.get("type") == "static" and create.get("value") is True:
            continue
        items = _map(config.get("items"))
        if items.get("type") == "static" and isinstance(items.get("value"), list) and items["value"]:
            if kind in ("multiselectcomponent", "multiselectcomponentv2"):
                out[key] = items["value"]
            else:
                out[key] = [i["value"] for i in items["value"] if isinstance(i, dict) and "value" in i and i["value"]]
    return out


def _triggerable(ident: str, runnable: JsonValue, fields: JsonValue,
                 components: list[dict[str, JsonValue]]) -> tuple[str, dict[str, JsonValue]] | None:
    """wmill's ``K3``: the policy entry of one runnable."""
    if not isinstance(runnable, dict):
        return None
    fields = fields if isinstance(fields, dict) else {}
    entry: dict[str, JsonValue] = {
        "static_inputs": {k: f.get("value") for k, f in fields.items() if isinstance(f, dict) and f.get("type") == "static"},
        "one_of_inputs": _one_of(fields, components),
        "allow_user_resources": [k for k, f in fields.items() if isinstance(f, dict) and f.get("allowUserResources")],
    }
    if runnable.get("type") in ("runnableByName", "inline"):
        script = _map(runnable.get("inlineScript"))
        code = script.get("content")
        digest = hashlib.sha256(str(code if code is not None else "").encode()).hexdigest()
        if script.get("tag"):
            entry["tag"] = script["tag"]
        return f"{ident}:rawscript/{digest}", entry
    if runnable.get("type") in ("runnableByPath", "path"):
        run_type = runnable.get("runType")
        return f"{ident}:{'script' if run_type == 'hubscript' else run_type}/{runnable.get('path')}", entry
    return None


def _escape(text: str) -> str:
    """JavaScript's ``s.replace(/[.*+?^${}()|[\\]\\\\]/g, "\\\\$&")``."""
    return re.sub(r"[.*+?^${}()|\[\]\\]", lambda m: "\\" + m.group(0), text)


def _s3_input(s3: JsonValue, components: list[dict[str, JsonValue]]) -> dict[str, JsonValue]:
    """wmill's ``B3``: what an S3 file input may write."""
    s3 = s3 if isinstance(s3, dict) else {}
    resource, template = s3.get("resource"), s3.get("pathTemplate")
    resource = resource if isinstance(resource, dict) else None
    if resource is None:
        allowed: list[JsonValue] = []
    elif resource.get("type") == "static":
        allowed = [re.sub(r"^\$res:", "", str(resource["value"]))] if resource.get("value") else []
    else:
        allowed = [re.sub(r"^\$res:", "", str(v)) for v in _one_of({"s3_resource": resource}, components).get("s3_resource", [])]
    regex = "^.*$"
    if isinstance(template, dict):
        if template.get("type") == "static":
            regex = f"^{_escape(str(template.get('value')))}$"
        elif template.get("type") == "evalv2" and not template.get("connections"):
            expr = str(template.get("expr") or "")
            if re.fullmatch(r"""(['"`])[^'"`]*\1""", expr.replace("${file.name}", "")):
                inner = expr.replace("${file.name}", "<file_name>")[1:-1]
                inner = _escape(inner)
                regex = f"^{inner.replace('<file_name>', '[^/]+')}$"
    return {"allow_workspace_resource": resource is None or (resource.get("type") == "static" and not resource.get("value")),
            "allowed_resources": allowed,
            "allow_user_resources": bool(resource is not None and resource.get("type") == "evalv2"
                                         and resource.get("allowUserResources")),
            "file_key_regex": regex}


def _map(doc: JsonValue) -> dict[str, JsonValue]:
    return doc if isinstance(doc, dict) else {}


def _dig(doc: JsonValue, *keys: str) -> JsonValue:
    for key in keys:
        doc = doc.get(key) if isinstance(doc, dict) else None
    return doc


def _s3_key(config: JsonValue) -> dict[str, JsonValue] | None:
    """wmill's ``H3``: the S3 object an image, PDF or download component shows."""
    config = config if isinstance(config, dict) else {}
    source = _map(config.get("source"))
    kind = _map(config.get("sourceKind"))
    value = source.get("value")
    if source.get("type") == "uploadS3" and isinstance(value, dict) and isinstance(value.get("s3"), str):
        return {"s3_path": value["s3"], **({"storage": value["storage"]} if "storage" in value else {})}
    if source.get("type") == "static" and isinstance(value, str) and (
            (kind.get("type") == "static" and kind.get("value") == "s3 (workspace storage)") or value.startswith("s3://")):
        return {"s3_path": value.replace("s3://", "", 1)}
    return None


_S3_PROPERTY = ("resource-s3_object",)


def _has_s3_form(data: Mapping[str, JsonValue]) -> bool:
    """A form component whose schema takes an S3 object (wmill then allows any workspace S3 input)."""
    if data.get("type") not in ("schemaformcomponent", "formbuttoncomponent", "formcomponent"):
        return False
    comp = _map(data.get("componentInput"))
    if data.get("type") == "schemaformcomponent":
        holder = comp.get("value")
    else:
        runnable = _map(comp.get("runnable"))
        holder = runnable.get("inlineScript") if runnable.get("type") in ("runnableByName", "inline") else runnable
    schema = holder.get("schema") if isinstance(holder, dict) and data.get("type") != "schemaformcomponent" else holder
    props = schema.get("properties") if isinstance(schema, dict) else None
    for prop in (props.values() if isinstance(props, dict) else []):
        if not isinstance(prop, dict):
            continue
        items = _map(prop.get("items"))
        if (prop.get("type") == "object" and prop.get("format") in _S3_PROPERTY) or (
                prop.get("type") == "array" and items.get("resourceType") in ("s3object", "s3_object")):
            return True
    return False


def app_policy(value: Mapping[str, JsonValue], base: dict[str, JsonValue] | None, mode: str) -> dict[str, JsonValue]:
    """wmill's ``generatingPolicy``: the policy of an app's components (``base``: see :func:`base_policy`).

    Raises:
        MetadataError: a database explorer component (wac does not generate its SQL's policy).
    """
    components = _components(value)
    triggerables: dict[str, JsonValue] = {}

    def add(ident: str, comp_input: JsonValue) -> None:
        if isinstance(comp_input, dict) and comp_input.get("type") == "runnable":
            entry = _triggerable(ident, comp_input.get("runnable"), comp_input.get("fields"), components)
            if entry is not None:
                triggerables[entry[0]] = entry[1]

    for comp in components:
        data = _map(comp.get("data"))
        add(str(comp.get("id")), data.get("componentInput"))
        kind = data.get("type")
        extra: JsonValue = []
        if kind == "tablecomponent":
            extra = data.get("actionButtons") or []
        elif kind in ("aggridcomponent", "aggridcomponentee", "dbexplorercomponent", "aggridinfinitecomponent",
                      "aggridinfinitecomponentee") and isinstance(data.get("actions"), list):
            extra = data["actions"]
        elif kind == "menucomponent":
            extra = data.get("menuItems") or []
        for sub in extra if isinstance(extra, list) else []:
            if isinstance(sub, dict):
                add(str(sub.get("id")), sub.get("componentInput"))
        if kind == "dbexplorercomponent":
            raise MetadataError(f"its component {comp.get('id')} is a database explorer, whose policy wac does "
                                "not generate", hint="push this app with the wmill CLI")
    hidden = value.get("hiddenInlineScripts")
    for n, script in enumerate(hidden if isinstance(hidden, list) else []):
        if isinstance(script, dict):
            entry = _triggerable(f"bg_{n}", script, script.get("fields"), components)
            if entry is not None:
                triggerables[entry[0]] = entry[1]
    s3_inputs = [_s3_input(_dig(c, "data", "configuration", "type", "configuration", "s3"), components)
                 for c in components if isinstance(c.get("data"), dict) and c["data"].get("type") == "s3fileinputcomponent"]
    if any(_has_s3_form(c["data"]) for c in components if isinstance(c.get("data"), dict)):
        s3_inputs.append({"allow_workspace_resource": True, "allowed_resources": [], "allow_user_resources": False,
                          "file_key_regex": ""})
    keys = [k for c in components if isinstance(c.get("data"), dict)
            and c["data"].get("type") in ("imagecomponent", "pdfcomponent", "downloadcomponent")
            for k in [_s3_key(c["data"].get("configuration"))] if k is not None]
    policy = {**(base or {}), "allowed_s3_keys": keys, "s3_inputs": s3_inputs, "triggerables_v2": triggerables}
    policy.pop("triggerables", None)
    policy["execution_mode"] = mode
    return policy
