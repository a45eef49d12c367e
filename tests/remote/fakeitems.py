"""The fake Windmill's flows, schedules, triggers and folders (mixed into :class:`FakeWindmill`).

Each item is kept as the fields a client sent (``path``, ``skip_draft_deletion`` and
``deployment_message`` left out), answered by ``get`` with the server's own fields added, and
exported as ``{path}.flow.json``, ``{path}.schedule.json`` (with ``include_schedules=true``),
``{path}.{t}_trigger.json`` (with ``include_triggers=true``) and ``f/{name}/folder.meta.json``.
Raw apps (``apps/create_raw``, ``apps/update_raw``: multipart ``app`` + ``js`` + ``css``) are kept
with the bundle beside them and exported as ``{path}.raw_app.json``. Granular ACLs
(``acls/add|remove/{kind}/{path}``) are the items' ``extra_perms``: answered by ``get``, exported on
flows and apps when not empty (the server's ``KeepIfNonEmpty`` with ``preserve_extra_perms=true``).
"""

from __future__ import annotations

import json
from typing import Any

TRIGGER_TYPES = ("http", "websocket", "kafka", "nats", "postgres", "mqtt", "amqp", "sqs", "gcp", "azure", "email")
_NOT_KEPT = ("path", "skip_draft_deletion", "deployment_message", "name")


def _text(status: int, body: str) -> tuple[int, str, bytes, dict[str, str]]:
    return status, "text/plain; charset=utf-8", body.encode(), {}


def _json(status: int, value: Any) -> tuple[int, str, bytes, dict[str, str]]:
    return status, "application/json", json.dumps(value).encode(), {}


def _kept(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in _NOT_KEPT}


class FakeItems:
    workspace: str
    flows: dict[str, dict[str, Any]]
    schedules: dict[str, dict[str, Any]]
    triggers: dict[str, dict[str, dict[str, Any]]]  # trigger type -> path -> doc
    folders: dict[str, dict[str, Any]]
    apps: dict[str, dict[str, Any]]
    export_extra: dict[str, dict[str, Any]]  # path -> fields the server adds to an exported item
    acls: dict[tuple[str, str], dict[str, bool]]  # (kind, path) -> {owner: write}
    bundles: dict[str, dict[str, str]]  # raw app path -> {"js": ..., "css": ...}

    def init_items(self) -> None:
        self.flows, self.schedules, self.folders, self.apps = {}, {}, {}, {}
        self.triggers = {t: {} for t in TRIGGER_TYPES}
        self.export_extra = {}
        self.acls, self.bundles = {}, {}

    def now(self) -> float:
        raise NotImplementedError

    def _server_fields(self, path: str, kind: str = "") -> dict[str, Any]:
        from tests.remote.fakewindmill import iso

        return {"workspace_id": self.workspace, "path": path, "edited_by": "admin", "edited_at": iso(self.now()),
                "extra_perms": dict(self.acls.get((kind, path), {}))}

    def _perms(self, kind: str, path: str) -> dict[str, Any]:
        """``extra_perms`` as the export carries it on flows and apps (only when not empty)."""
        perms = self.acls.get((kind, path))
        return {"extra_perms": dict(perms)} if perms else {}

    # ---- granular ACLs
    def op_addGranularAcls(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        self.acls.setdefault((params["kind"], params["path"]), {})[body["owner"]] = bool(body.get("write"))
        return _text(200, f"Successfully modified granular acl for {params['kind']}/{params['path']}")

    def op_removeGranularAcls(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        self.acls.get((params["kind"], params["path"]), {}).pop(body["owner"], None)
        return _text(200, f"Successfully removed granular acl for {params['kind']}/{params['path']}")

    def ensure_folder(self, path: str) -> None:
        """Items under ``f/x/`` live in the folder ``x`` (created on first use, as the UI would)."""
        if path.startswith("f/") and path.count("/") >= 2:
            name = path.split("/")[1]
            self.folders.setdefault(name, {"summary": None, "display_name": name, "owners": ["u/admin"],
                                           "extra_perms": {}})

    is_admin = True

    def op_whoami(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        return _json(200, {"email": "admin@windmill.dev", "username": "admin", "is_admin": self.is_admin,
                           "is_super_admin": self.is_admin, "created_at": "2024-01-01T00:00:00Z", "operator": False,
                           "disabled": False, "folders": [], "folders_read": [], "folders_owners": [], "groups": []})

    # ---- flows
    def op_getFlowByPath(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        doc = self.flows.get(params["path"])
        if doc is None:
            return _text(404, f"Flow not found at path {params['path']}")
        return _json(200, {**doc, **self._server_fields(params["path"], "flow"), "archived": False})

    def op_createFlow(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if body["path"] in self.flows:
            return _text(400, f"Flow {body['path']} already exists")
        self.ensure_folder(body["path"])
        self.flows[body["path"]] = _kept(body)
        return _text(201, body["path"])

    def op_updateFlow(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if params["path"] not in self.flows:
            return _text(404, f"Flow not found at path {params['path']}")
        self.flows[params["path"]] = _kept(body)
        return _text(200, params["path"])

    def op_deleteFlowByPath(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        if self.flows.pop(params["path"], None) is None:
            return _text(404, f"Flow not found at path {params['path']}")
        return _text(200, params["path"])

    # ---- schedules
    def op_getSchedule(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        doc = self.schedules.get(params["path"])
        if doc is None:
            return _text(404, f"Schedule {params['path']} not found")
        return _json(200, {"enabled": False, **doc, **self._server_fields(params["path"]), "email": "admin@windmill.dev"})

    def op_createSchedule(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if body["path"] in self.schedules:
            return _text(400, f"Schedule {body['path']} already exists")
        self.ensure_folder(body["path"])
        self.schedules[body["path"]] = _kept(body)
        return _text(201, body["path"])

    def op_updateSchedule(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        doc = self.schedules.get(params["path"])
        if doc is None:
            return _text(404, f"Schedule {params['path']} not found")
        enabled = doc.get("enabled")
        self.schedules[params["path"]] = {**_kept(body), **({} if enabled is None else {"enabled": enabled})}
        return _text(200, params["path"])

    def op_setScheduleEnabled(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        doc = self.schedules.get(params["path"])
        if doc is None:
            return _text(404, f"Schedule {params['path']} not found")
        doc["enabled"] = body["enabled"]
        return _text(200, params["path"])

    def op_deleteSchedule(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        if self.schedules.pop(params["path"], None) is None:
            return _text(404, f"Schedule {params['path']} not found")
        return _text(200, params["path"])

    # ---- triggers (one set of operations per type: getHttpTrigger, createKafkaTrigger, ...)
    def __getattr__(self, name: str) -> Any:
        for verb in ("get", "create", "update", "delete"):
            if name.startswith(f"op_{verb}") and name.endswith("Trigger"):
                kind = name[len(f"op_{verb}"): -len("Trigger")].lower()
                if kind in TRIGGER_TYPES:
                    return lambda params, q, body: self._trigger(verb, kind, params, body)
        raise AttributeError(name)

    def _trigger(self, verb: str, kind: str, params: dict[str, str], body: Any) -> Any:
        store = self.triggers[kind]
        path = params.get("path") or body["path"]
        if verb == "create":
            if path in store:
                return _text(400, f"{kind} trigger {path} already exists")
            self.ensure_folder(path)
            store[path] = _kept(body)
            return _text(201, path)
        if path not in store:
            return _text(404, f"{kind} trigger {path} not found")
        if verb == "get":
            return _json(200, {**store[path], **self._server_fields(path)})
        if verb == "update":
            store[path] = _kept(body)
        else:
            del store[path]
        return _text(200, path)

    # ---- folders
    def op_getFolder(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        doc = self.folders.get(params["name"])
        if doc is None:
            return _text(404, f"Folder {params['name']} not found")
        return _json(200, {"owners": [], "extra_perms": {}, **doc, "name": params["name"]})

    def op_createFolder(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if body["name"] in self.folders:
            return _text(400, f"Folder {body['name']} already exists")
        self.folders[body["name"]] = _kept(body)
        return _text(201, body["name"])

    def op_updateFolder(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if params["name"] not in self.folders:
            return _text(404, f"Folder {params['name']} not found")
        self.folders[params["name"]] = {**self.folders[params["name"]], **_kept(body)}
        return _text(200, params["name"])

    def op_deleteFolder(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        if self.folders.pop(params["name"], None) is None:
            return _text(404, f"Folder {params['name']} not found")
        return _text(200, params["name"])

    # ---- apps (``{path}.app.json`` in the export: summary, value, policy)
    def op_getAppByPath(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        from tests.remote.fakewindmill import iso

        doc = self.apps.get(params["path"])
        if doc is None:
            return _text(404, f"App not found at path {params['path']}")
        policy = doc.get("policy") if isinstance(doc.get("policy"), dict) else {}
        kind = "raw_app" if doc.get("raw_app") else "app"
        return _json(200, {**doc, **self._server_fields(params["path"], kind), "id": 1, "versions": [1],
                           "created_by": "admin", "created_at": iso(self.now()),
                           "execution_mode": policy.get("execution_mode", "publisher")})

    def op_createApp(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if body["path"] in self.apps:
            return _text(400, f"App {body['path']} already exists")
        self.ensure_folder(body["path"])
        self.apps[body["path"]] = _kept(body)
        return _text(201, body["path"])

    def op_updateApp(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Any:
        if params["path"] not in self.apps:
            return _text(404, f"App not found at path {params['path']}")
        self.apps[params["path"]] = {**self.apps[params["path"]], **_kept(body)}
        return _text(200, params["path"])

    def op_deleteApp(self, params: dict[str, str], q: dict[str, str], body: Any) -> Any:
        if self.apps.pop(params["path"], None) is None:
            return _text(404, f"App not found at path {params['path']}")
        self.bundles.pop(params["path"], None)
        return _text(200, params["path"])

    def op_createAppRaw(self, params: dict[str, str], q: dict[str, str], form: dict[str, str]) -> Any:
        app = json.loads(form["app"])
        if app["path"] in self.apps:
            return _text(400, f"App {app['path']} already exists")
        self.ensure_folder(app["path"])
        self.apps[app["path"]] = {**_kept(app), "raw_app": True}
        self.bundles[app["path"]] = {"js": form["js"], "css": form.get("css", "")}
        return _text(201, app["path"])

    def op_updateAppRaw(self, params: dict[str, str], q: dict[str, str], form: dict[str, str]) -> Any:
        if params["path"] not in self.apps:
            return _text(404, f"App not found at path {params['path']}")
        app = json.loads(form["app"])
        self.apps[params["path"]] = {**self.apps[params["path"]], **_kept(app), "raw_app": True}
        self.bundles[params["path"]] = {"js": form["js"], "css": form.get("css", "")}
        return _text(200, params["path"])

    # ---- export
    def item_members(self, q: dict[str, str]) -> dict[str, bytes]:
        members: dict[str, bytes] = {}

        def put(name: str, path: str, doc: dict[str, Any]) -> None:
            members[name] = json.dumps({**doc, **self.export_extra.get(path, {})}, indent=2).encode()

        for name, doc in sorted(self.folders.items()):
            put(f"f/{name}/folder.meta.json", f"f/{name}", doc)
        for path, doc in sorted(self.flows.items()):
            put(f"{path}.flow.json", path, {**doc, **self._perms("flow", path)})
        for path, doc in sorted(self.apps.items()):
            kind = "raw_app" if doc.get("raw_app") else "app"
            keys = ("summary", "value", "policy", "custom_path") if kind == "raw_app" else ("summary", "value", "policy")
            put(f"{path}.{kind}.json", path, {**{k: v for k, v in doc.items() if k in keys}, **self._perms(kind, path)})
        if q.get("include_schedules") == "true":
            for path, doc in sorted(self.schedules.items()):
                put(f"{path}.schedule.json", path, doc)
        if q.get("include_triggers") == "true":
            for kind, store in self.triggers.items():
                for path, doc in sorted(store.items()):
                    put(f"{path}.{kind}_trigger.json", path, doc)
        return members
