"""Variables, resources and resource types of a Windmill workspace (the WindmillBackend's part).

=================  ==============================================================================
list               ``GET variables/list`` / ``resources/list`` (paged) / ``resources/type/list``
secret values      ``GET variables/get/{path}?decrypt_secret=true`` — only when asked (``reveal``)
put                variable: ``GET variables/get/{path}`` then ``POST variables/create`` or
                   ``variables/update/{path}`` (``already_encrypted=false``); resource:
                   ``POST resources/create?update_if_exists=true``; resource type:
                   ``GET resources/type/get/{name}`` then ``resources/type/create`` or ``update/{name}``
delete             ``DELETE variables/delete/{path}`` / ``resources/delete/{path}`` / ``resources/type/delete/{name}``
=================  ==============================================================================

Routes and bodies as the wmill CLI 1.819 and the wmill 1.850 client send them.
"""

from __future__ import annotations

from typing import Any, NoReturn

from wac.engine.remote.http import WindmillHTTP, raw_path
from wac.errors import ObjectNotFoundError, WorkspaceError
from wac.project.objectfiles import LABELS, ObjectFile

_PAGE = 100
_ROUTES = {"variable": "variables", "resource": "resources", "resource_type": "resources/type"}


class WindmillObjects:
    """Mixed into :class:`~wac.engine.remote.windmill.WindmillBackend`."""

    http: WindmillHTTP
    name: str

    def _missing(self, kind: str, path: str) -> Any:
        def raise_(_text: str) -> NoReturn:
            raise ObjectNotFoundError(f"{LABELS[kind]} {path} not found in workspace '{self.name}'")
        return raise_

    def _rows(self, route: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            got = self.http.json("GET", route, params={"page": page, "per_page": _PAGE})
            if not isinstance(got, list):
                raise WorkspaceError(f"workspace '{self.name}' answered {route} with a {type(got).__name__}")
            rows += [r for r in got if isinstance(r, dict)]
            if len(got) < _PAGE:
                return rows
            page += 1

    def list_objects(self, kind: str, *, reveal: bool = False) -> list[ObjectFile]:
        if kind == "resource_type":
            got = self.http.json("GET", "resources/type/list")
            rows = [r for r in got if isinstance(r, dict)] if isinstance(got, list) else []
            return sorted((self._object(kind, r) for r in rows if isinstance(r.get("name"), str)),
                          key=lambda o: o.path)
        rows = self._rows(f"{_ROUTES[kind]}/list")
        out = []
        for row in rows:
            if not isinstance(row.get("path"), str):
                continue
            if kind == "variable" and row.get("is_secret") and reveal:
                row = self._get("variable", row["path"], reveal=True)
            elif kind == "resource" and "value" not in row:
                row = self._get("resource", row["path"])
            out.append(self._object(kind, row))
        return sorted(out, key=lambda o: o.path)

    def get_object(self, kind: str, path: str, *, reveal: bool = False) -> ObjectFile:
        return self._object(kind, self._get(kind, path, reveal=reveal))

    def _get(self, kind: str, path: str, reveal: bool = False) -> dict[str, Any]:
        params = {"decrypt_secret": "true"} if kind == "variable" and reveal else None
        doc = self.http.json("GET", f"{_ROUTES[kind]}/get/{raw_path(path)}", params=params,
                             not_found=self._missing(kind, path))
        if not isinstance(doc, dict):
            raise WorkspaceError(f"workspace '{self.name}' answered {_ROUTES[kind]}/get/{path} with a {type(doc).__name__}")
        return doc

    @staticmethod
    def _object(kind: str, row: dict[str, Any]) -> ObjectFile:
        description = row.get("description") or ""
        if kind == "variable":
            secret = bool(row.get("is_secret"))
            value = row.get("value")
            return ObjectFile(kind, row["path"], None if secret and value is None else str(value or ""),
                              description, secret)
        if kind == "resource":
            return ObjectFile(kind, row["path"], row.get("value"), description, False, row.get("resource_type"))
        return ObjectFile(kind, row["name"], row.get("schema"), description)

    def put_object(self, obj: ObjectFile, source: str | None = None) -> None:
        """Create or replace ``obj`` (``source`` is not kept by Windmill: pulls render the file)."""
        if obj.kind == "variable":
            exists = self._exists("variable", obj.path)
            body = {"value": str(obj.value), "is_secret": obj.is_secret, "description": obj.description}
            params = {"already_encrypted": "false"}
            if exists:
                self.http.text("POST", f"variables/update/{raw_path(obj.path)}", params=params, body=body)
            else:
                self.http.text("POST", "variables/create", params=params, body={"path": obj.path, **body})
        elif obj.kind == "resource":
            self.http.text("POST", "resources/create", params={"update_if_exists": "true"},
                           body={"path": obj.path, "value": obj.value, "description": obj.description,
                                 "resource_type": obj.resource_type or "any"})
        else:
            body = {"schema": obj.value, "description": obj.description}
            if self._exists("resource_type", obj.path):
                self.http.text("POST", f"resources/type/update/{raw_path(obj.path)}", body=body)
            else:
                self.http.text("POST", "resources/type/create", body={"name": obj.path, **body})

    def _exists(self, kind: str, path: str) -> bool:
        try:
            self._get(kind, path)
        except ObjectNotFoundError:
            return False
        return True

    def delete_object(self, kind: str, path: str) -> None:
        self.http.text("DELETE", f"{_ROUTES[kind]}/delete/{raw_path(path)}", not_found=self._missing(kind, path))
