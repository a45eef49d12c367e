"""Raw apps and granular permissions pushed to a Windmill server (the WindmillBackend's part).

==========  ==================================================================================
raw app     ``GET apps/get/p/{path}``; the frontend bundled (:mod:`wac.engine.remote.rawbundle`);
            ``POST apps/update_raw/{path}`` or ``apps/create_raw``, multipart/form-data with ``app``
            (``{value: {runnables, files, data?}, path, summary, policy, preserve_on_behalf_of?,
            deployment_message?, skip_draft_deletion: true, custom_path?}``), ``js`` and ``css``;
            nothing when every field of ``raw_app.yaml`` (with the runnables) already holds and the
            files are the deployed ones (as wmill's ``pushRawApp``); delete: ``DELETE apps/delete/{path}``
extra_perms ``POST acls/add/{kind}/{path}`` (``{owner, write}``) for every owner of the file's
            ``extra_perms`` missing or different on the server, ``POST acls/remove/{kind}/{path}``
            (``{owner}``) for every owner the server has and the file not; only when the file holds
            ``extra_perms``, after the item's own calls, for flows, apps and raw apps (wmill's
            ``applyExtraPermsDiff``; a non-boolean entry is left alone, as wmill does)
==========  ==================================================================================
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from wac.engine.items import NewItem
from wac.engine.remote.http import WindmillHTTP, raw_path

JsonValue = Any


def _perm_map(value: JsonValue, source: str) -> tuple[dict[str, bool], set[str]] | None:
    """wmill's ``normalize``: ``({owner: write}, owners with a non-boolean value)``; None for a value
    that is not a mapping (then nothing is granted nor revoked)."""
    if value is None:
        return {}, set()
    if not isinstance(value, dict):
        print(f"warning: extra_perms: {source} is not an {{owner: boolean}} map, its permissions are left as they are",
              file=sys.stderr)
        return None
    perms = {str(k): v for k, v in value.items() if isinstance(v, bool)}
    invalid = {str(k) for k, v in value.items() if not isinstance(v, bool)}
    if invalid:
        print(f"warning: extra_perms: {len(invalid)} invalid entry/entries in {source} (non-boolean value, "
              f"left as they are): {', '.join(sorted(invalid))}", file=sys.stderr)
    return perms, invalid


def _crlf(text: str) -> str:
    """The multipart/form-data encoding's newline normalisation (every CR, LF or CRLF becomes CRLF)."""
    return re.sub(r"\r\n|\r|\n", "\r\n", text)


class WindmillRawApps:
    """Mixed into :class:`~wac.engine.remote.items.WindmillItems`."""

    http: WindmillHTTP
    name: str
    _root: Path | None
    _layout: tuple[bool, str, bool]
    deployment_message: str | None = None

    def _keeps_owner(self) -> bool:
        raise NotImplementedError

    def _remote(self, route: str, label: str, path: str) -> dict[str, JsonValue] | None:
        raise NotImplementedError

    def _app_policy(self, remote: dict[str, JsonValue] | None) -> tuple[dict[str, Any] | None, dict[str, JsonValue]]:
        raise NotImplementedError

    def _message(self) -> dict[str, JsonValue]:
        """``deployment_message`` as wmill sends it (only when ``sync push --message`` gave one)."""
        return {"deployment_message": self.deployment_message} if self.deployment_message else {}

    def apply_perms(self, kind: str, path: str, local: JsonValue, remote: JsonValue) -> int:
        """wmill's ``applyExtraPermsDiff``: grant and revoke until the server's ACLs are the file's
        ``extra_perms`` (``local`` None: the file holds none, nothing is done). The number of calls."""
        if local is None:
            return 0
        mine = _perm_map(local, "the local file")
        if mine is None:
            return 0
        theirs = _perm_map(remote, "the server's answer") or ({}, set())
        grant = [(owner, write) for owner, write in mine[0].items() if theirs[0].get(owner) is not write]
        revoke = [owner for owner in theirs[0] if owner not in mine[0] and owner not in mine[1]]
        for owner, write in grant:
            self.http.text("POST", f"acls/add/{kind}/{raw_path(path)}", body={"owner": owner, "write": write})
        for owner in revoke:
            self.http.text("POST", f"acls/remove/{kind}/{raw_path(path)}", body={"owner": owner})
        return len(grant) + len(revoke)

    def _deploy_raw_app(self, item: NewItem) -> None:
        """wmill 1.819's ``pushRawApp``."""
        from wac.engine.remote.appfiles import base_policy, execution_mode
        from wac.engine.remote.items import is_superset, same
        from wac.engine.remote.rawappfiles import raw_app_body, raw_app_policy

        folder = next((f.rpartition("/")[0] for f in item.files if f.endswith("/raw_app.yaml")), item.path + ".raw_app")
        local, runnables, files = raw_app_body(folder, item.files, self._layout[1])
        remote = self._remote(f"apps/get/p/{raw_path(item.path)}", "raw app", item.path)
        deployed, keep = self._app_policy(remote)
        policy = raw_app_policy(runnables, base_policy(local, deployed, bool(keep)), execution_mode(local, deployed))
        value: dict[str, JsonValue] = {"runnables": runnables, "files": files}
        if local.get("data"):
            value["data"] = local["data"]
        perms = local.pop("extra_perms", None)
        deployed_files = remote.get("value", {}).get("files") if remote is not None and isinstance(remote.get("value"), dict) else None
        if remote is None or not (is_superset({**local, "runnables": runnables}, remote) and same(files, deployed_files)):
            js, css = self._bundle(item, folder)
            app = {"value": value, "path": item.path,
                   **({"summary": local["summary"]} if "summary" in local else {}), "policy": policy, **keep,
                   **self._message(), "skip_draft_deletion": True,
                   **({"custom_path": local["custom_path"]} if local.get("custom_path") else {})}
            # a browser's (and Node's) FormData sends a text field's line breaks as CRLF: wmill's bundle
            # reaches the server so, and wac sends the same bytes
            form = {"app": _crlf(json.dumps(app, ensure_ascii=False)), "js": _crlf(js), "css": _crlf(css)}
            if remote is None:
                self.http.request("POST", "apps/create_raw", form=form)
            else:
                self.http.request("POST", f"apps/update_raw/{raw_path(item.path)}", form=form)
        self.apply_perms("raw_app", item.path, perms, remote.get("extra_perms") if remote is not None else None)

    def _bundle(self, item: NewItem, folder: str) -> tuple[str, str]:
        """The raw app's (js, css): built in the repo's folder (its node_modules), or, without a
        repo (a push of stored files), in a temporary copy of the item's files."""
        from wac.engine.remote.rawbundle import bundle

        if self._root is not None and (self._root / folder).is_dir():
            return bundle(item.path, self._root / folder, self._root)
        with tempfile.TemporaryDirectory(prefix="wac-rawapp-") as tmp:
            root = Path(tmp)
            for rel, text in item.files.items():
                target = root / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", newline="")
            return bundle(item.path, root / folder, root)


def local_perms(item: NewItem, definition: str) -> JsonValue:
    """The ``extra_perms`` of an item's definition file (``flow.yaml``, ``app.yaml``), None without."""
    from wac.project.yamlio import load_yaml

    text = next((t for rel, t in item.files.items() if rel.endswith("/" + definition)), None)
    try:
        doc = load_yaml(text) if text is not None else None
    except Exception:  # noqa: BLE001 - already refused with its reason by the body's reader
        return None
    return doc.get("extra_perms") if isinstance(doc, Mapping) else None

