"""Flows, schedules, triggers and folders of a Windmill workspace (the WindmillBackend's part).

==========  ==================================================================================
list        the workspace export (``GET workspaces/tarball``, schedules and triggers asked for
            when ``wmill.yaml`` includes them), each item turned into the files wmill 1.819
            writes for it: ``{path}.flow.json`` -> ``x.flow/flow.yaml`` + inline script files
            (:mod:`wac.engine.remote.flowfiles`); ``{path}.schedule.json`` ->
            ``{path}.schedule.yaml``; ``{path}.{t}_trigger.json`` -> ``{path}.{t}_trigger.yaml``;
            ``f/{name}/folder.meta.json`` -> ``f/{name}/folder.meta.yaml``; ``{path}.app.json`` ->
            ``x.app/app.yaml`` + inline script files; ``{path}.raw_app.json`` -> ``x.raw_app/``
            (:mod:`wac.engine.remote.rawappfiles`)
flow        ``GET flows/get/{path}``; unless its fields already hold the file's,
            ``POST flows/update/{path}`` or ``flows/create`` (``{path, ...flow, skip_draft_deletion: true}``);
            delete: ``DELETE flows/delete/{path}``
schedule    ``GET schedules/get/{path}``; ``POST schedules/update/{path}`` (then
            ``schedules/setenabled/{path}`` when ``enabled`` changed) or ``schedules/create``
            (``{path, ...}``); delete: ``DELETE schedules/delete/{path}``
trigger     ``GET {t}_triggers/get/{path}``; ``POST {t}_triggers/update/{path}`` or
            ``{t}_triggers/create`` (``{...trigger, path}``); delete: ``DELETE {t}_triggers/delete/{path}``
app         ``GET apps/get/p/{path}``; ``POST apps/update/{path}`` or ``apps/create``
            (``{path, ...app, policy, skip_draft_deletion: true}``); delete: ``DELETE apps/delete/{path}``
folder      ``GET folders/get/{name}``; ``POST folders/update/{name}`` (``{...}``) or
            ``folders/create`` (``{name, ...}``); delete: ``DELETE folders/delete/{name}``
==========  ==================================================================================

Routes, bodies and the "already up to date" rule (every key of the file equal to the server's)
as in wmill 1.819's ``pushFlow`` / ``pushSchedule`` / ``pushTrigger`` / ``pushFolder``. Apps and
apps as ``pushApp`` (:mod:`wac.engine.remote.appfiles`), raw apps as ``pushRawApp`` and
``extra_perms`` as ``applyExtraPermsDiff`` (:mod:`wac.engine.remote.rawapps`);
``deployment_message`` (``sync push --message``) on flows, apps and raw apps, as wmill sends it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from wac.engine.items import ItemRecord, NewItem
from wac.engine.remote.appfiles import (
    app_body,
    app_files,
    app_policy,
    base_policy,
    execution_mode,
)
from wac.engine.remote.flowfiles import current_mapping, flow_body, flow_files
from wac.engine.remote.http import WindmillHTTP, raw_path, segment
from wac.engine.remote.rawappfiles import raw_app_files
from wac.engine.remote.rawapps import WindmillRawApps, local_perms
from wac.engine.remote.tarball import QUERY, read_archive
from wac.errors import MetadataError, ObjectNotFoundError, WorkspaceError

JsonValue = Any

TRIGGER_TYPES = ("http", "websocket", "kafka", "nats", "postgres", "mqtt", "amqp", "sqs", "gcp", "azure", "email")
ITEM_KINDS = frozenset({"flow", "app", "raw_app", "schedule", "folder", *(f"{t}_trigger" for t in TRIGGER_TYPES)})
FOLDER_META = "folder.meta"


def same(a: JsonValue, b: JsonValue) -> bool:
    """JSON equality without Python's ``1 == True``."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    return type(a) is type(b) and bool(a == b)


def is_superset(local: dict[str, JsonValue], remote: dict[str, JsonValue]) -> bool:
    """wmill's ``isSuperset``: every key of ``local`` equal in ``remote``."""
    return all(same(v, remote.get(k)) for k, v in local.items())


def _parse_json(files: dict[str, bytes], name: str, origin: str) -> dict[str, JsonValue]:
    try:
        doc = json.loads(files[name].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise WorkspaceError(f"{origin}: {name} is not valid JSON", hint="nothing was written; check the server") from None
    if not isinstance(doc, dict):
        raise WorkspaceError(f"{origin}: {name} is not a JSON object", hint="nothing was written; check the server")
    return doc


def _strip_permissioned(doc: dict[str, JsonValue], schedule: bool) -> dict[str, JsonValue]:
    """What sync behaviour v1 leaves of a schedule's or trigger's owner fields."""
    if doc.get("permissioned_as"):
        doc["has_permissioned_as"] = True
    doc.pop("permissioned_as", None)
    if schedule:
        doc.pop("email", None)
    doc.pop("edited_by", None)
    return doc


def sync_behavior(value: Any) -> int:
    """wmill's ``parseSyncBehavior``: ``v1`` -> 1, anything else 0."""
    match = re.fullmatch(r"v(\d+)", str(value)) if value or value == 0 else None
    return int(match.group(1)) if match else 0


def export_items(files: dict[str, bytes], origin: str, *, kinds: frozenset[str], non_dotted: bool = False,
                 default_ts: str = "bun", strip_owner: bool = False,
                 local_flow: Callable[[str], str | None] | None = None) -> list[NewItem]:
    """The export's flows, schedules, triggers and folders (of ``kinds``) as the repo files wmill writes
    (``strip_owner``: ``syncBehavior: v1`` or later, owner fields turned into ``has_...: true``;
    ``local_flow``: the repo's ``flow.yaml`` text of a flow folder, whose inline file names are kept).

    Raises:
        WorkspaceError: an item's document is malformed (nothing of the pull may be written).
    """
    from wac.project.yamlio import dump_yaml

    out: list[NewItem] = []
    for name in sorted(files):
        if name.endswith(".flow.json") and "flow" in kinds:
            path = name[: -len(".flow.json")]
            folder = path + ("__flow" if non_dotted else ".flow")
            doc = _parse_json(files, name, origin)
            text = local_flow(folder) if local_flow is not None else None
            out.append(NewItem("flow", path, flow_files(folder, doc, non_dotted=non_dotted, default_ts=default_ts,
                                                          strip_owner=strip_owner,
                                                          mapping=current_mapping(text) if text else None)))
        elif name.endswith(".app.json") and "app" in kinds:
            path = name[: -len(".app.json")]
            folder = path + ("__app" if non_dotted else ".app")
            out.append(NewItem("app", path, app_files(folder, _parse_json(files, name, origin), non_dotted=non_dotted,
                                                        default_ts=default_ts)))
        elif name.endswith(".raw_app.json") and "raw_app" in kinds:
            path = name[: -len(".raw_app.json")]
            folder = path + ("__raw_app" if non_dotted else ".raw_app")
            out.append(NewItem("raw_app", path, raw_app_files(folder, _parse_json(files, name, origin),
                                                                default_ts=default_ts)))
        elif name.endswith(".schedule.json") and "schedule" in kinds:
            path = name[: -len(".schedule.json")]
            doc = _parse_json(files, name, origin)
            if strip_owner:
                doc = _strip_permissioned(doc, schedule=True)
            out.append(NewItem("schedule", path, {path + ".schedule.yaml": dump_yaml(doc)}))
        elif name.endswith("_trigger.json"):
            stem = name[: -len(".json")]
            path, _, kind = stem.rpartition(".")
            if kind in kinds and path:
                doc = _parse_json(files, name, origin)
                if strip_owner:
                    doc = _strip_permissioned(doc, schedule=False)
                out.append(NewItem(kind, path, {f"{path}.{kind}.yaml": dump_yaml(doc)}))
        elif name.endswith(f"/{FOLDER_META}.json") and "folder" in kinds:
            path = name[: -len(f"/{FOLDER_META}.json")]
            doc = _parse_json(files, name, origin)
            out.append(NewItem("folder", path, {f"{path}/{FOLDER_META}.yaml": dump_yaml(doc)}))
    return out


class WindmillItems(WindmillRawApps):
    """Mixed into :class:`~wac.engine.remote.windmill.WindmillBackend`."""

    http: WindmillHTTP
    name: str
    item_kinds = ITEM_KINDS
    _export_query: dict[str, str] = QUERY
    _layout: tuple[bool, str, bool] = (False, "bun", False)
    _carried: frozenset[str] = ITEM_KINDS
    _export: Callable[..., bytes]

    _root: Path | None = None

    def configure_items(self, config: Any, root: Path | None = None) -> None:
        """Take ``wmill.yaml``'s options (which kinds are synced, the flow layout, ``defaultTs``,
        ``syncBehavior``) and, for a push, the repo: as wmill's push does, the workspace's flows are
        then rendered with the inline file names the repo's ``flow.yaml`` uses, so that a flow whose
        files only carry other names is not a change. A pull (no ``root``) writes wmill's names."""
        self._root = root
        from wac.sync.kinds import all_kinds

        raw: dict[str, Any] = getattr(config, "raw", None) or {}
        enabled = {name for name, kind in all_kinds().items() if kind.enabled(config)}
        self._carried = frozenset(ITEM_KINDS & enabled)
        behavior = raw.get("syncBehavior")
        self._layout = (raw.get("nonDottedPaths") is True, str(raw.get("defaultTs") or "bun"),
                        sync_behavior(behavior) >= 1)
        self._export_query = {**QUERY,
                              "include_schedules": "true" if "schedule" in enabled else "false",
                              "include_triggers": "true" if "http_trigger" in enabled else "false",
                              "sync_behavior_version": str(behavior) if behavior else "v0"}

    # ---- listing
    def list_items(self, kind: str | None = None) -> list[ItemRecord]:
        """The workspace's items of the kinds sync carries (``configure_items``), or of ``kind`` only
        (then asked for even when ``wmill.yaml`` leaves it out: ``wac schedule list``)."""
        origin = f"the export of workspace '{self.name}'"
        query, kinds = self._export_query, self._carried
        if kind is not None:
            kinds = frozenset({kind}) & ITEM_KINDS
            query = {**query, "include_schedules": "true" if kind == "schedule" else query["include_schedules"],
                     "include_triggers": "true" if kind.endswith("_trigger") else query["include_triggers"]}
        files = read_archive(self._export(query), origin)
        non_dotted, default_ts, strip = self._layout
        records = []
        for item in export_items(files, origin, kinds=kinds, non_dotted=non_dotted, default_ts=default_ts,
                                 strip_owner=strip, local_flow=self._local_flow):
            if kind is None or item.kind == kind:
                records.append(ItemRecord(item.kind, item.path, item.content_hash(), None, item.to_json(), 0.0))
        return records

    def _local_flow(self, folder: str) -> str | None:
        if self._root is None:
            return None
        try:
            return (self._root / folder / "flow.yaml").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    # ---- push
    _admin: bool | None = None

    def _keeps_owner(self) -> bool:
        """With ``syncBehavior: v1``, an admin or deployer keeps items' owners (``users/whoami``, once)."""
        if not self._layout[2]:
            return False
        if self._admin is None:
            user = self.http.json("GET", "users/whoami")
            groups = user.get("groups") if isinstance(user, dict) else None
            self._admin = isinstance(user, dict) and (user.get("is_admin") is True or
                                                      "wm_deployers" in (groups if isinstance(groups, list) else []))
        return self._admin

    def _owner_fields(self, remote: dict[str, JsonValue] | None) -> dict[str, JsonValue]:
        """What wmill adds to an update of a schedule or trigger to keep its ``permissioned_as``."""
        if remote is None or not self._keeps_owner():
            return {}
        keep: dict[str, JsonValue] = {"preserve_permissioned_as": True}
        if remote.get("permissioned_as"):
            keep["permissioned_as"] = remote["permissioned_as"]
        return keep

    def _missing_item(self, label: str, path: str) -> Any:
        def raise_(_text: str) -> NoReturn:
            raise ObjectNotFoundError(f"{label} {path} not found in workspace '{self.name}'")
        return raise_

    def _remote(self, route: str, label: str, path: str) -> dict[str, JsonValue] | None:
        try:
            doc = self.http.json("GET", route, not_found=self._missing_item(label, path))
        except ObjectNotFoundError:
            return None
        if not isinstance(doc, dict):
            raise WorkspaceError(f"workspace '{self.name}' answered {route} with a {type(doc).__name__}")
        return doc

    @staticmethod
    def _yaml_file(item: NewItem) -> dict[str, JsonValue]:
        from wac.project.yamlio import load_yaml

        (rel, text), = item.files.items()
        try:
            doc = load_yaml(text)
        except Exception as exc:  # noqa: BLE001 - yaml.YAMLError and friends: a malformed file
            raise MetadataError(f"cannot push {rel}: not valid YAML ({exc})", hint="fix the file") from None
        if not isinstance(doc, dict):
            raise MetadataError(f"cannot push {rel}: it is not a mapping", hint="fix the file")
        return doc

    def deploy_item(self, item: NewItem) -> None:
        """Create or update ``item`` as wmill 1.819's sync push does (nothing when already equal)."""
        self.deployment_message = item.deployment_message
        if item.kind == "flow":
            folder = next((f.rpartition("/")[0] for f in item.files if f.endswith("/flow.yaml")), item.path + ".flow")
            body = flow_body(folder, item.files)
            on_behalf = body.pop("has_on_behalf_of", None)
            if on_behalf is None:
                on_behalf = bool(body.get("on_behalf_of_email"))
            remote = self._remote(f"flows/get/{raw_path(item.path)}", "flow", item.path)
            keep: dict[str, JsonValue] = {}
            if on_behalf and remote is not None and remote.get("on_behalf_of_email") and self._keeps_owner():
                keep = {"on_behalf_of_email": remote["on_behalf_of_email"], "on_behalf_of": remote.get("on_behalf_of"),
                        "preserve_on_behalf_of": True}
            full = {"path": item.path, **self._message(), **body, **keep, "skip_draft_deletion": True}
            if remote is None:
                self.http.text("POST", "flows/create", body=full)
            elif not is_superset(body, remote):
                self.http.text("POST", f"flows/update/{raw_path(item.path)}", body=full)
            self.apply_perms("flow", item.path, local_perms(item, "flow.yaml"),
                             remote.get("extra_perms") if remote is not None else None)
        elif item.kind == "app":
            self._deploy_app(item)
        elif item.kind == "raw_app":
            self._deploy_raw_app(item)
        elif item.kind == "schedule":
            local = self._yaml_file(item)
            local.pop("has_permissioned_as", None)
            remote = self._remote(f"schedules/get/{raw_path(item.path)}", "schedule", item.path)
            keep = self._owner_fields(remote)
            if remote is None:
                self.http.text("POST", "schedules/create", body={"path": item.path, **local})
            elif not is_superset(local, remote):
                self.http.text("POST", f"schedules/update/{raw_path(item.path)}", body={**local, **keep})
                enabled = local.get("enabled")
                if isinstance(enabled, bool) and enabled is not remote.get("enabled"):
                    self.http.text("POST", f"schedules/setenabled/{raw_path(item.path)}", body={"enabled": enabled})
        elif item.kind.endswith("_trigger"):
            route = item.kind + "s"
            local = self._yaml_file(item)
            local.pop("has_permissioned_as", None)
            remote = self._remote(f"{route}/get/{raw_path(item.path)}", item.kind, item.path)
            keep = self._owner_fields(remote)
            if remote is None:
                self.http.text("POST", f"{route}/create", body={**local, "path": item.path})
            elif not is_superset(local, remote):
                self.http.text("POST", f"{route}/update/{raw_path(item.path)}", body={**local, **keep, "path": item.path})
        elif item.kind == "folder":
            name = _folder_name(item.path)
            local = self._yaml_file(item)
            remote = self._remote(f"folders/get/{segment(name)}", "folder", item.path)
            if remote is None:
                self.http.text("POST", "folders/create", body={"name": name, **local})
            elif not is_superset(local, remote):
                self.http.text("POST", f"folders/update/{segment(name)}", body=local)
        else:
            raise WorkspaceError(f"wac does not push {item.kind} items to workspace '{self.name}' (a Windmill server) yet")

    def _app_policy(self, remote: dict[str, JsonValue] | None) -> tuple[dict[str, Any] | None, dict[str, JsonValue]]:
        """An app's (or raw app's) deployed policy, taken out of ``remote`` (which then reads as wmill
        compares it: ``public`` / ``guests`` from the policy's execution mode), and the fields that
        keep its owner (``preserve_on_behalf_of``) when the workspace keeps owners."""
        deployed = remote.get("policy") if remote is not None and isinstance(remote.get("policy"), dict) else None
        if remote is not None:
            mode = deployed.get("execution_mode") if deployed else None
            if mode == "anonymous":
                remote["public"] = True
            elif mode == "guest":
                remote["guests"] = True
            remote.pop("policy", None)
        keep: dict[str, JsonValue] = {}
        if deployed and deployed.get("on_behalf_of") and self._keeps_owner():
            keep = {"preserve_on_behalf_of": True}
        return deployed, keep

    def _deploy_app(self, item: NewItem) -> None:
        """wmill 1.819's ``pushApp``: the app with a fresh policy, created, or updated unless every
        field of it already holds (never, in practice: the server's answer has no policy)."""
        folder = next((f.rpartition("/")[0] for f in item.files if f.endswith("/app.yaml")), item.path + ".app")
        local = app_body(folder, item.files)
        remote = self._remote(f"apps/get/p/{raw_path(item.path)}", "app", item.path)
        deployed, keep = self._app_policy(remote)
        mode = execution_mode(local, deployed)
        try:
            local["policy"] = app_policy(local["value"], base_policy(local, deployed, bool(keep)), mode)
        except MetadataError as exc:
            raise MetadataError(f"cannot push app {item.path}: {exc.message}", hint=exc.hint) from None
        perms = local.pop("extra_perms", None)
        if remote is None:
            self.http.text("POST", "apps/create", body={"path": item.path, **self._message(), **local, **keep,
                                                        "skip_draft_deletion": True})
        elif not is_superset(local, remote):
            self.http.text("POST", f"apps/update/{raw_path(item.path)}", body={**self._message(), **local, **keep,
                                                                               "skip_draft_deletion": True})
        self.apply_perms("app", item.path, perms, remote.get("extra_perms") if remote is not None else None)

    def archive_item(self, kind: str, path: str) -> int:
        """Delete the item, as wmill's sync push does when its files are gone."""
        if kind == "folder":
            route = f"folders/delete/{segment(_folder_name(path))}"
        elif kind == "flow":
            route = f"flows/delete/{raw_path(path)}"
        elif kind == "schedule":
            route = f"schedules/delete/{raw_path(path)}"
        elif kind in ("app", "raw_app"):
            route = f"apps/delete/{raw_path(path)}"
        elif kind.endswith("_trigger") and kind in ITEM_KINDS:
            route = f"{kind}s/delete/{raw_path(path)}"
        else:
            raise WorkspaceError(f"wac does not delete {kind} items in workspace '{self.name}' (a Windmill server) yet")
        self.http.request("DELETE", route, not_found=self._missing_item(kind, path))
        return 1


def _folder_name(path: str) -> str:
    """``f/x`` -> ``x`` (wmill's ``pushFolder``)."""
    return path[2:].split("/")[0] if path.startswith("f/") else path.split("/")[0]
