"""A fake Windmill server for tests: a real HTTP server on 127.0.0.1 (a free port, in a thread), so the
real httpx client, and the real ``wac`` CLI in a subprocess, can talk to it.

It keeps a workspace's state (script versions with hashes, parents and archive flags; jobs that
finish on the second read, echoing their args), checks the bearer token, answers errors as
text/plain with the statuses of contract §1, exports the workspace as contract §7 says, and
validates every request and every answer against the merged OpenAPI document
(:mod:`tests.remote.contract`). Violations are recorded in ``violations``; the ``wm`` fixture
fails the test when there are any.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import threading
import time
import traceback
import uuid
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.remote import contract
from tests.remote.fakedocs import (
    OPTION_KEYS,
    completed_job_doc,
    export_script_json,
    queued_job_doc,
    same_script,
    script_doc,
)
from tests.remote.fakeitems import FakeItems

Answer = tuple[int, str, bytes, dict[str, str]]  # status, content type, body, extra headers
_ANONYMOUS_OK = ("getJob", "getJobLogs", "getCompletedJob", "getCompletedJobResultMaybe")


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def text(status: int, body: str) -> Answer:
    return status, "text/plain; charset=utf-8", body.encode(), {}


def as_json(status: int, value: Any) -> Answer:
    return status, "application/json", json.dumps(value).encode(), {}


def form_fields(content_type: str, body: bytes) -> dict[str, str]:
    """The text fields of a multipart/form-data body (a raw app's ``app``, ``js``, ``css``)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode("utf-8")
    return fields


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    op: str | None
    status: int = 0

    def json(self) -> Any:
        return json.loads(self.body)


class FakeWindmill(FakeItems):
    def __init__(self, token: str = "wm-token-s3cr3t", workspace: str = "test") -> None:
        self.token = token
        self.workspace = workspace
        self.scripts: dict[str, list[dict[str, Any]]] = {}  # path -> Script docs, oldest first
        self.jobs: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, dict[str, Any]] = {}  # path -> ListableVariable (plain value kept)
        self.resources: dict[str, dict[str, Any]] = {}
        self.resource_types: dict[str, dict[str, Any]] = {}
        self.init_items()
        self.requests: list[Recorded] = []
        self.violations: list[str] = []
        self.zip_supported = True
        self.extra_members: dict[str, bytes] = {}  # added to every export as they are
        self.fail: dict[str, tuple[int, str]] = {}  # operationId -> the error it answers from now on
        self.stopped = False
        self._clock = 0.0
        self._lock = threading.RLock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), name="fake-windmill", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> FakeWindmill:
        self._thread.start()
        return self

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self._server.shutdown()
            self._server.server_close()

    def calls(self, op: str) -> list[Recorded]:
        return [r for r in self.requests if r.op == op]

    def now(self) -> float:
        self._clock = max(time.time(), self._clock + 0.001)
        return self._clock

    # ---- plumbing
    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        url = urlsplit(target)
        query = parse_qs(url.query, keep_blank_values=True)
        op, params, problems = contract.request_violations(method, url.path, query,
                                                           headers.get("content-type", ""), body)
        record = Recorded(method, url.path, query, headers, body, op.id if op else None)
        with self._lock:
            self.requests.append(record)
            self.violations += problems
            if op is None:
                answer = text(404, "Not Found")
            else:
                try:
                    answer = self._answer(op.id, params, query, headers, body)
                except Exception:  # a bug of the fake: a 500, and a violation that fails the test
                    self.violations.append(f"{op.id}: the fake crashed:\n{traceback.format_exc()}")
                    answer = text(500, "fake crashed")
                self.violations += contract.response_violations(op, answer[0], answer[1], answer[2])
            record.status = answer[0]
        return answer

    def _answer(self, op: str, params: dict[str, str], query: dict[str, list[str]], headers: dict[str, str],
                body: bytes) -> Answer:
        auth = headers.get("authorization")
        if op != "backendVersion":
            if auth is None and op not in _ANONYMOUS_OK:
                return text(401, "Unauthorized: missing token")
            if auth is not None and auth != f"Bearer {self.token}":
                return text(401, "Unauthorized: invalid token")
            if params.get("workspace", self.workspace) != self.workspace:
                return text(404, f"workspace {params['workspace']} not found")
        if op in self.fail:
            return text(*self.fail[op])
        handler = getattr(self, f"op_{op}", None)
        if handler is None:
            return text(501, f"the fake does not implement {op}")
        q = {k: v[-1] for k, v in query.items()}
        if headers.get("content-type", "").startswith("multipart/form-data"):
            return handler(params, q, form_fields(headers["content-type"], body))  # type: ignore[no-any-return]
        return handler(params, q, json.loads(body) if body else None)  # type: ignore[no-any-return]

    # ---- variables, resources, resource types (a secret's value is answered only decrypted on request)
    def _variable_doc(self, v: dict[str, Any], decrypt: bool) -> dict[str, Any]:
        shown = dict(v)
        if v["is_secret"] and not decrypt:
            shown["value"] = None
        return shown

    def op_listVariable(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        rows = [self._variable_doc(v, False) for _, v in sorted(self.variables.items())]
        page, per = int(q.get("page", 1)), int(q.get("per_page", 100))
        return as_json(200, rows[(page - 1) * per: page * per])

    def op_getVariable(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        v = self.variables.get(params["path"])
        if v is None:
            return text(404, f"Variable {params['path']} not found")
        return as_json(200, self._variable_doc(v, q.get("decrypt_secret") == "true"))

    def op_createVariable(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        if body["path"] in self.variables:
            return text(400, f"variable {body['path']} already exists")
        self.variables[body["path"]] = {"workspace_id": self.workspace, "path": body["path"], "value": body["value"],
                                        "is_secret": body["is_secret"], "description": body["description"],
                                        "extra_perms": {}, "account": None, "is_oauth": False}
        return text(201, body["path"])

    def op_updateVariable(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        v = self.variables.get(params["path"])
        if v is None:
            return text(404, f"Variable {params['path']} not found")
        v.update({k: body[k] for k in ("value", "description") if k in body})
        if body.get("is_secret") is not None:
            v["is_secret"] = body["is_secret"]
        return text(200, params["path"])

    def op_deleteVariable(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        if self.variables.pop(params["path"], None) is None:
            return text(404, f"Variable {params['path']} not found")
        return text(200, params["path"])

    def op_listResource(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        rows = [r for _, r in sorted(self.resources.items())
                if q.get("resource_type") in (None, r["resource_type"])]
        page, per = int(q.get("page", 1)), int(q.get("per_page", 100))
        return as_json(200, rows[(page - 1) * per: page * per])

    def op_getResource(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        r = self.resources.get(params["path"])
        return as_json(200, r) if r else text(404, f"Resource {params['path']} not found")

    def op_createResource(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        if body["path"] in self.resources and q.get("update_if_exists") != "true":
            return text(400, f"resource {body['path']} already exists")
        self.resources[body["path"]] = {"workspace_id": self.workspace, "path": body["path"], "value": body["value"],
                                        "description": body.get("description") or "",
                                        "resource_type": body["resource_type"], "is_oauth": False, "extra_perms": {}}
        return text(201, body["path"])

    def op_deleteResource(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        if self.resources.pop(params["path"], None) is None:
            return text(404, f"Resource {params['path']} not found")
        return text(200, params["path"])

    def op_listResourceType(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        return as_json(200, [t for _, t in sorted(self.resource_types.items())])

    def op_getResourceType(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        t = self.resource_types.get(params["path"])
        return as_json(200, t) if t else text(404, f"ResourceType {params['path']} not found")

    def op_createResourceType(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        if body["name"] in self.resource_types:
            return text(400, f"resource type {body['name']} already exists")
        self.resource_types[body["name"]] = {"workspace_id": self.workspace, "name": body["name"],
                                             "schema": body.get("schema"), "description": body.get("description") or "",
                                             "created_by": "admin", "edited_at": iso(self.now()),
                                             "format_extension": None, "is_fileset": False}
        return text(201, body["name"])

    def op_updateResourceType(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        t = self.resource_types.get(params["path"])
        if t is None:
            return text(404, f"ResourceType {params['path']} not found")
        t.update({k: body[k] for k in ("schema", "description") if k in body})
        return text(200, params["path"])

    def op_deleteResourceType(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        if self.resource_types.pop(params["path"], None) is None:
            return text(404, f"ResourceType {params['path']} not found")
        return text(200, params["path"])

    # ---- scripts
    def head(self, path: str) -> dict[str, Any] | None:
        live = [v for v in self.scripts.get(path, []) if not v["archived"]]
        return live[-1] if live else None

    def _by_hash(self, script_hash: str) -> dict[str, Any] | None:
        return next((v for vs in self.scripts.values() for v in vs if v["hash"] == script_hash), None)

    def op_backendVersion(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        return text(200, "CE v1.743.0")

    def op_getScriptByPath(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        head = self.head(params["path"])
        if head:
            head = {**head, "extra_perms": dict(self.acls.get(("script", params["path"]), {}))}
        return as_json(200, head) if head else text(404, f"Script not found at name {params['path']}")

    def op_getScriptByHash(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        found = self._by_hash(params["hash"])
        return as_json(200, found) if found else text(404, f"Script not found at hash {params['hash']}")

    def op_createScript(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        path = body["path"]
        head = self.head(path)
        parent = body.get("parent_hash")
        if parent is not None and self._by_hash(parent) is None:
            return text(400, "The parent hash does not seem to exist")
        if head is not None:
            if parent is None:
                return text(400, f"Path conflict for {path} with non-archived hash {head['hash']}")
            if body.get("auto_parent"):
                parent = head["hash"]
            elif parent != head["hash"]:
                return text(400, "lineage must be linear")
        parent_doc = self._by_hash(parent) if parent else None
        if q.get("skip_if_noop") == "true" and parent_doc is not None and same_script(parent_doc, body):
            return text(201, parent_doc["hash"])
        ident = {k: v for k, v in body.items() if k not in ("parent_hash", "auto_parent", "deployment_message",
                                                              "skip_draft_deletion", "auto_kind")}
        digest = hashlib.sha256(json.dumps([ident, parent, len(self.scripts.get(path, []))], sort_keys=True).encode()).hexdigest()[:16]
        if self._by_hash(digest) is not None:
            return text(400, f"A script with same hash {digest} already exists!")
        parents = [parent, *parent_doc["parent_hashes"]] if parent_doc else []
        doc = script_doc(self.workspace, body, digest, parents, iso(self.now()))
        self.scripts.setdefault(path, []).append(doc)
        self.ensure_folder(path)
        return text(201, digest)

    def op_listScripts(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        heads = [h for h in (self.head(p) for p in sorted(self.scripts)) if h]
        page, per_page = int(q.get("page", 1)), int(q.get("per_page", 100))
        return as_json(200, heads[(page - 1) * per_page: page * per_page])

    def op_getScriptHistoryByPath(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        versions = self.scripts.get(params["path"], [])
        return as_json(200, [{"script_hash": v["hash"], "deployment_msg": v.get("deployment_msg"),
                              "created_at": v["created_at"]} for v in reversed(versions)])

    def op_archiveScriptByPath(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        if self.head(params["path"]) is None:
            return text(404, f"Script not found at name {params['path']}")
        for version in self.scripts[params["path"]]:
            version["archived"] = True
        return text(200, f"Script {params['path']} archived")

    def op_tarballWorkspace(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        kind = q.get("archive_type", "tar")
        if kind == "zip" and not self.zip_supported:
            return text(400, "Invalid Archive Type zip")
        members: dict[str, bytes] = {}
        for path in sorted(self.scripts):
            head = self.head(path)
            if head is None:
                continue
            ext = "py" if head["language"] == "python3" else "ts"
            members[f"{path}.{ext}"] = head["content"].encode()
            members[f"{path}.script.json"] = json.dumps(export_script_json(head), indent=2).encode()
        members.update(self.item_members(q))
        members.update(self.extra_members)
        out = io.BytesIO()
        if kind == "zip":
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for name, data in members.items():
                    archive.writestr(name, data)
        else:
            with tarfile.open(fileobj=out, mode="w") as tar:
                for name, data in members.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        disposition = f'attachment; filename="windmill-{self.workspace}.{kind}"'
        return 200, "application/x-tar", out.getvalue(), {"Content-Disposition": disposition}

    # ---- jobs
    def _new_job(self, kind: str, path: str, args: dict[str, Any], script_hash: str | None,
                 parent: str | None = None, modules: list[str] | None = None) -> Answer:
        job_id = str(uuid.uuid4())
        self.jobs[job_id] = {
            "id": job_id, "kind": kind, "path": path, "hash": script_hash, "args": args, "parent": parent,
            "created_at": iso(self.now()), "started_at": None, "state": "queued", "reads": 0, "suspend": 0,
            "modules": modules or [], "logs": "",
        }
        return text(201, job_id)

    def op_runScriptByPath(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        head = self.head(params["path"])
        if head is None:
            return text(404, f"script not found at name {params['path']}")
        return self._new_job("script", params["path"], body, head["hash"], parent=q.get("parent_job"))

    def op_runScriptPreview(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        return self._new_job("preview", body.get("path", ""), body["args"], None,
                             modules=sorted(body.get("modules") or {}))

    def advance(self, job: dict[str, Any]) -> None:
        """A job runs when it is first read and ends on the next read (or waits for approval)."""
        if job["state"] == "queued":
            job["state"], job["started_at"] = "running", iso(self.now())
            job["logs"] += f"running {job['path']}\n"
            return
        if job["state"] != "running":
            return
        args = job["args"]
        if args.get("approval") and job["suspend"] == 0 and "resumed" not in job:
            job["state"], job["suspend"] = "suspended", 1
            return
        job.update(state="done", completed_at=iso(self.now()), canceled=False)
        if args.get("fail"):
            job.update(success=False, result={"error": {"name": "ValueError", "message": str(args["fail"]),
                                                         "stack": "Traceback (most recent call last):\n..."}})
        else:
            result = {"path": job["path"], "args": args}
            if job["kind"] == "preview":
                result["modules"] = job["modules"]
            if "resumed" in job:
                result["approval"] = job["resumed"]
            job.update(success=True, result=result)
        job["logs"] += "done\n"

    def _job(self, job_id: str) -> dict[str, Any] | None:
        return self.jobs.get(job_id)

    def doc(self, job: dict[str, Any]) -> dict[str, Any]:
        if job["state"] == "done":
            return completed_job_doc(self.workspace, job)
        return queued_job_doc(self.workspace, job)

    def op_getJob(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        job = self._job(params["id"])
        if job is None:
            return text(404, f"Job {params['id']} not found")
        self.advance(job)
        doc = self.doc(job)
        doc["type"] = "CompletedJob" if job["state"] == "done" else "QueuedJob"
        if q.get("no_logs") == "true":
            doc.pop("logs", None)
        return as_json(200, doc)

    def op_getCompletedJob(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        job = self._job(params["id"])
        if job is not None:
            self.advance(job)
        if job is None or job["state"] != "done":
            return text(404, f"Completed job {params['id']} not found")
        return as_json(200, self.doc(job))

    def op_getCompletedJobResultMaybe(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        job = self._job(params["id"])
        if job is None:
            return text(404, f"Job {params['id']} not found")
        self.advance(job)
        if job["state"] != "done":
            return as_json(200, {"completed": False, "result": None, "success": None, "started": None})
        return as_json(200, {"completed": True, "result": job["result"], "success": job["success"], "started": True})

    def op_getJobLogs(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        job = self._job(params["id"])
        return text(200, job["logs"]) if job else text(404, f"Job {params['id']} not found")

    def _listed(self, q: dict[str, str], done: bool) -> list[dict[str, Any]]:
        jobs = [j for j in self.jobs.values() if (j["state"] == "done") == done]
        if "parent_job" in q:
            jobs = [j for j in jobs if j["parent"] == q["parent_job"]]
        if q.get("has_null_parent") == "true":
            jobs = [j for j in jobs if j["parent"] is None]
        if "success" in q:
            jobs = [j for j in jobs if j.get("success") == (q["success"] == "true")]
        if q.get("running") == "true":
            jobs = [j for j in jobs if j["state"] == "running"]
        if q.get("suspended") == "true":
            jobs = [j for j in jobs if j["state"] == "suspended"]
        jobs.sort(key=lambda j: j["created_at"], reverse=q.get("order_desc") == "true")
        page, per_page = int(q.get("page", 1)), int(q.get("per_page", 30))
        return [self.doc(j) for j in jobs[(page - 1) * per_page: page * per_page]]

    def op_listQueue(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        return as_json(200, self._listed(q, done=False))

    def op_listCompletedJobs(self, params: dict[str, str], q: dict[str, str], body: Any) -> Answer:
        return as_json(200, self._listed(q, done=True))

    def op_cancelQueuedJob(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        job = self._job(params["id"])
        if job is None or job["state"] == "done":
            return text(404, f"queued job id {params['id']} does not exist")
        reason = body.get("reason") or "no reason"
        job.update(state="done", completed_at=iso(self.now()), success=False, canceled=True, canceled_by="admin",
                   canceled_reason=reason, suspend=0,
                   result={"error": {"name": "Canceled", "message": f"Job canceled: {reason} by admin"}})
        return text(200, f"job canceled {job['id']}")

    def op_resumeSuspended(self, params: dict[str, str], q: dict[str, str], body: dict[str, Any]) -> Answer:
        job = self._job(params["job_id"])
        if job is None:
            return text(404, f"Job {params['job_id']} not found")
        if job["state"] != "suspended":
            return text(400, f"job {job['id']} is not suspended")
        job["suspend"] = 0
        if body.get("approved", True):
            job.update(state="running", resumed={"payload": body.get("payload"), "approved": True})
        else:
            job.update(state="done", completed_at=iso(self.now()), success=False, canceled=True,
                       canceled_by="admin", canceled_reason="approval rejected",
                       result={"error": {"name": "Canceled", "message": "approval rejected"}})
        return 201, "text/plain", b"", {}


def _handler(fake: FakeWindmill) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body are two writes: no 40 ms delayed-ACK stall

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if fake.stopped:  # a kept-alive connection after stop(): hang up, as a dead server would
                self.close_connection = True
                return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, ctype, data, extra = fake.handle(self.command, self.path, headers, body)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for key, value in extra.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


__all__ = ["OPTION_KEYS", "FakeWindmill", "Recorded", "iso"]
