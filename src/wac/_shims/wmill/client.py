"""``wmill.client`` on the wac engine: the workflow-as-code SDK mapped onto :mod:`wac.sdk`, and
the client calls of the real ``wmill`` 1.850 answered by the engine (docs/reference/client.md).

``_run_workflow`` is :func:`wac.sdk.run_round`. Variables, resources, state, progress and jobs
are read and written in the workspace store by the round process itself. Names of the real client
that wac does not serve exist and raise :class:`WmillNotSupportedError` naming the function.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Literal, NoReturn

from wac.errors import WacError
from wac.sdk import (
    TaskError,
    get_approval_urls,
    get_resume_urls as _get_resume_urls,
    parallel,
    run_round,
    sleep,
    step,
    task,
    task_flow,
    task_script,
    wait_for_approval,
    workflow,
)

__wac_shim__ = True

_run_workflow = run_round
REFERENCE = "docs/reference/client.md"
JobStatus = Literal["RUNNING", "WAITING", "COMPLETED"]


class WmillNotSupportedError(WacError, NotImplementedError):
    """This wmill function is not available on the wac engine."""

    hint = f"the calls wac serves are listed in {REFERENCE}; run the script on a Windmill workspace for the others"


class NotUnderEngineError(WacError, RuntimeError):
    """wmill client calls work only inside a job the wac engine runs."""

    hint = "run the script with `wac script preview` or `wac script run`"


def _unsupported(what: str) -> NoReturn:
    raise WmillNotSupportedError(f"wmill.{what} is not served by the wac engine (see {REFERENCE})")


def _call(name: str, *args: Any) -> Any:
    """Call the engine's client; a missing object or a refused read becomes a TaskError the
    workflow can catch."""
    from wac.sdk.host import current_client

    client = current_client()
    if client is None:
        raise NotUnderEngineError(f"wmill.{name}() works only inside a job run by the wac engine")
    try:
        return getattr(client, name)(*args)
    except TaskError:
        raise
    except WacError as exc:
        raise TaskError(exc.message, result={"error": {"name": type(exc).__name__, "message": exc.message}}) from None


def _path(value: str, prefix: str) -> str:
    return value[len(prefix):] if isinstance(value, str) and value.startswith(prefix) else value


def _seconds(timeout: dt.timedelta | int | float | None) -> float | None:
    return timeout.total_seconds() if isinstance(timeout, dt.timedelta) else timeout


class Windmill:
    """The real client's object; every method is answered by the engine (no HTTP)."""

    def __init__(self, base_url: str | None = None, token: str | None = None, workspace: str | None = None,
                 verify: bool = True) -> None:
        self.base_url = base_url or os.environ.get("WM_BASE_URL", "")
        self.token = token or os.environ.get("WM_TOKEN")
        self.workspace = workspace or os.environ.get("WM_WORKSPACE") or "local"

    # ---- variables and resources
    def get_variable(self, path: str) -> str:
        return str(_call("get_variable", _path(path, "$var:")))

    def set_variable(self, path: str, value: str, is_secret: bool = False) -> None:
        _call("set_variable", _path(path, "$var:"), value, is_secret)

    def get_resource(self, path: str, none_if_undefined: bool = False, interpolated: bool = True) -> Any:
        return _call("get_resource", _path(path, "$res:"), none_if_undefined, interpolated)

    def set_resource(self, value: Any, path: str, resource_type: str = "any") -> None:
        _call("set_resource", _path(path, "$res:"), value, resource_type)

    def list_resources(self, resource_type: str | None = None, page: int | None = None,
                       per_page: int | None = None) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = _call("list_resources", resource_type)
        if per_page:
            start = ((page or 1) - 1) * per_page
            items = items[start:start + per_page]
        return items

    # ---- state
    @property
    def state_path(self) -> str:
        return os.environ.get("WM_STATE_PATH_NEW") or os.environ.get("WM_STATE_PATH") or str(_call("__getattribute__", "state_path"))

    def get_state(self, path: str | None = None) -> Any:
        return _call("get_state", path)

    def set_state(self, value: Any, path: str | None = None) -> None:
        _call("set_state", value, path)

    @property
    def state(self) -> Any:
        return self.get_state()

    @state.setter
    def state(self, value: Any) -> None:
        self.set_state(value)

    def get_flow_user_state(self, key: str) -> Any:
        return _call("get_flow_user_state", key)

    def set_flow_user_state(self, key: str, value: Any) -> None:
        _call("set_flow_user_state", key, value)

    # ---- jobs
    def run_script_by_path_async(self, path: str, args: dict[str, Any] | None = None,
                                 scheduled_in_secs: int | None = None, tag: str | None = None,
                                 retry: dict[str, Any] | None = None) -> str:
        if scheduled_in_secs:
            _unsupported("run_script_by_path_async(scheduled_in_secs=…)")
        return str(_call("run_async", path, None, args, tag))

    def run_script_by_hash_async(self, hash_: str, args: dict[str, Any] | None = None,
                                 scheduled_in_secs: int | None = None, tag: str | None = None,
                                 retry: dict[str, Any] | None = None) -> str:
        if scheduled_in_secs:
            _unsupported("run_script_by_hash_async(scheduled_in_secs=…)")
        return str(_call("run_async", None, hash_, args, tag))

    def run_script_async(self, path: str | None = None, hash_: str | None = None, args: dict[str, Any] | None = None,
                         scheduled_in_secs: int | None = None, tag: str | None = None) -> str:
        if hash_:
            return self.run_script_by_hash_async(hash_, args, scheduled_in_secs, tag)
        return self.run_script_by_path_async(str(path), args, scheduled_in_secs, tag)

    def wait_job(self, job_id: str, timeout: dt.timedelta | int | float | None = None, verbose: bool = False,
                 cleanup: bool = True, assert_result_is_not_none: bool = False) -> Any:
        result = _call("wait", job_id, _seconds(timeout))
        if assert_result_is_not_none and result is None:
            raise TaskError(f"result is None for job {job_id}", child_job_id=job_id)
        return result

    def run_script_by_path(self, path: str, args: dict[str, Any] | None = None,
                           timeout: dt.timedelta | int | float | None = None, verbose: bool = False,
                           cleanup: bool = True, assert_result_is_not_none: bool = False,
                           tag: str | None = None) -> Any:
        job_id = self.run_script_by_path_async(path, args, tag=tag)
        return self.wait_job(job_id, timeout, verbose, cleanup, assert_result_is_not_none)

    def run_script_by_hash(self, hash_: str, args: dict[str, Any] | None = None,
                           timeout: dt.timedelta | int | float | None = None, verbose: bool = False,
                           cleanup: bool = True, assert_result_is_not_none: bool = False,
                           tag: str | None = None) -> Any:
        job_id = self.run_script_by_hash_async(hash_, args, tag=tag)
        return self.wait_job(job_id, timeout, verbose, cleanup, assert_result_is_not_none)

    def run_script(self, path: str | None = None, hash_: str | None = None, args: dict[str, Any] | None = None,
                   timeout: dt.timedelta | int | float | None = None, verbose: bool = False, cleanup: bool = True,
                   assert_result_is_not_none: bool = False, tag: str | None = None) -> Any:
        job_id = self.run_script_async(path, hash_, args, tag=tag)
        return self.wait_job(job_id, timeout, verbose, cleanup, assert_result_is_not_none)

    def get_job_status(self, job_id: str) -> JobStatus:
        status: JobStatus = _call("job_status", job_id)
        return status

    def get_result(self, job_id: str, assert_result_is_not_none: bool = True) -> Any:
        return _call("result", job_id, assert_result_is_not_none)

    def get_root_job_id(self, job_id: str | None = None) -> str:
        return str(_call("root_of", job_id))

    def set_progress(self, value: int, job_id: str | None = None) -> None:
        _call("set_progress", value, job_id)

    def get_progress(self, job_id: str | None = None) -> Any:
        return _call("get_progress", job_id)

    def get_resume_urls(self, approver: str | None = None, flow_level: bool | None = None) -> dict[str, str]:
        return get_resume_urls(approver, flow_level)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        def unsupported(*args: Any, **kwargs: Any) -> NoReturn:
            _unsupported(f"Windmill.{name}()")

        return unsupported


def _client() -> Windmill:
    return Windmill()


def get_workspace() -> str:
    """The workspace the job runs in (``WM_WORKSPACE``)."""
    return os.environ.get("WM_WORKSPACE") or str(_call("__getattribute__", "workspace"))


def get_job_id() -> str:
    """This job's id (``WM_JOB_ID``)."""
    return os.environ.get("WM_JOB_ID") or str(_call("__getattribute__", "job_id"))


def get_root_job_id(job_id: str | None = None) -> str:
    return _client().get_root_job_id(job_id)


def get_variable(path: str) -> str:
    return _client().get_variable(path)


def set_variable(path: str, value: str, is_secret: bool = False) -> None:
    _client().set_variable(path, value, is_secret)


def get_resource(path: str, none_if_undefined: bool = False, interpolated: bool = True) -> Any:
    return _client().get_resource(path, none_if_undefined, interpolated)


def set_resource(path: str, value: Any, resource_type: str = "any") -> None:
    _client().set_resource(value=value, path=path, resource_type=resource_type)


def list_resources(resource_type: str | None = None, page: int | None = None,
                   per_page: int | None = None) -> list[dict[str, Any]]:
    return _client().list_resources(resource_type, page, per_page)


def get_state(path: str | None = None) -> Any:
    return _client().get_state(path)


def set_state(value: Any, path: str | None = None) -> None:
    _client().set_state(value, path)


def get_state_path() -> str:
    return _client().state_path


def get_flow_user_state(key: str) -> Any:
    return _client().get_flow_user_state(key)


def set_flow_user_state(key: str, value: Any) -> None:
    _client().set_flow_user_state(key, value)


def run_script_by_path(path: str, args: dict[str, Any] | None = None,
                       timeout: dt.timedelta | int | float | None = None, verbose: bool = False,
                       cleanup: bool = True, assert_result_is_not_none: bool = True) -> Any:
    return _client().run_script_by_path(path, args, timeout, verbose, cleanup, assert_result_is_not_none)


def run_script_by_hash(hash_: str, args: dict[str, Any] | None = None,
                       timeout: dt.timedelta | int | float | None = None, verbose: bool = False,
                       cleanup: bool = True, assert_result_is_not_none: bool = True) -> Any:
    return _client().run_script_by_hash(hash_, args, timeout, verbose, cleanup, assert_result_is_not_none)


def run_script_by_path_sync(path: str, args: dict[str, Any] | None = None, verbose: bool = False,
                            assert_result_is_not_none: bool = True, cleanup: bool = True,
                            timeout: dt.timedelta | None = None) -> Any:
    return _client().run_script_by_path(path, args, timeout, verbose, cleanup, assert_result_is_not_none)


def run_script_sync(hash: str, args: dict[str, Any] | None = None, verbose: bool = False,
                    assert_result_is_not_none: bool = True, cleanup: bool = True,
                    timeout: dt.timedelta | None = None) -> Any:
    return _client().run_script_by_hash(hash, args, timeout, verbose, cleanup, assert_result_is_not_none)


def run_script_by_path_async(path: str, args: dict[str, Any] | None = None,
                             scheduled_in_secs: int | None = None) -> str:
    return _client().run_script_by_path_async(path, args, scheduled_in_secs)


def run_script_by_hash_async(hash_: str, args: dict[str, Any] | None = None,
                             scheduled_in_secs: int | None = None) -> str:
    return _client().run_script_by_hash_async(hash_, args, scheduled_in_secs)


def run_script_async(hash_or_path: str, args: dict[str, Any] | None = None,
                     scheduled_in_secs: int | None = None) -> str:
    is_path = "/" in hash_or_path
    return _client().run_script_async(hash_or_path if is_path else None, None if is_path else hash_or_path,
                                      args, scheduled_in_secs)


def run_script(path: str | None = None, hash_: str | None = None, args: dict[str, Any] | None = None,
               timeout: dt.timedelta | int | float | None = None, verbose: bool = False, cleanup: bool = True,
               assert_result_is_not_none: bool = True) -> Any:
    return _client().run_script(path, hash_, args, timeout, verbose, cleanup, assert_result_is_not_none)


def get_job_status(job_id: str) -> JobStatus:
    return _client().get_job_status(job_id)


def get_result(job_id: str, assert_result_is_not_none: bool = True) -> Any:
    return _client().get_result(job_id, assert_result_is_not_none)


def set_progress(value: int, job_id: str | None = None) -> None:
    _client().set_progress(value, job_id)


def get_progress(job_id: str | None = None) -> Any:
    return _client().get_progress(job_id)


def parse_resource_syntax(s: str) -> str | None:
    """``"$res:f/a/b"`` -> ``"f/a/b"``; None otherwise (as the real client)."""
    return s[len("$res:"):] if isinstance(s, str) and s.startswith("$res:") else None


def parse_variable_syntax(s: str) -> str | None:
    return s[len("$var:"):] if isinstance(s, str) and s.startswith("$var:") else None


def get_resume_urls(approver: str | None = None, flow_level: bool | None = None) -> dict[str, str]:
    """URLs resuming the next ``wait_for_approval()`` (``flow_level`` is not supported)."""
    if flow_level:
        _unsupported("get_resume_urls(flow_level=True)")
    return _get_resume_urls(approver)


# What the engine serves (the reference lists them), and the real client's other public names.
SERVED = (
    "Windmill", "get_flow_user_state", "get_job_id", "get_job_status", "get_progress", "get_resource",
    "get_result", "get_resume_urls", "get_root_job_id", "get_state", "get_state_path", "get_variable",
    "get_workspace", "list_resources", "parse_resource_syntax", "parse_variable_syntax", "run_script",
    "run_script_async", "run_script_by_hash", "run_script_by_hash_async", "run_script_by_path",
    "run_script_by_path_async", "run_script_by_path_sync", "run_script_sync", "set_flow_user_state",
    "set_progress", "set_resource", "set_state", "set_variable",
)
UNSUPPORTED = (
    "Boto3ConnectionSettings", "DataTableClient", "DuckDbConnectionSettings", "DucklakeClient",
    "PolarsConnectionSettings", "S3BufferedReader", "S3FsArgs", "S3FsClientKwargs", "S3Object",
    "SqlQuery", "StorageOptions", "WorkflowCtx", "append_to_result_stream",
    "boto3_connection_settings", "bytes_generator", "cancel_job", "cancel_running",
    "commit_kafka_offsets", "datatable", "delete_s3_object", "duckdb_connection_settings",
    "ducklake", "get_id_token", "get_job", "get_presigned_s3_public_url", "get_presigned_s3_public_urls",
    "get_shared_state", "get_shared_state_pickle", "get_version", "load_s3_file", "load_s3_file_reader",
    "parse_s3_object", "polars_connection_settings", "request_interactive_slack_approval", "run_flow_async",
    "run_inline_script_preview", "send_teams_message", "set_shared_state", "set_shared_state_pickle",
    "sign_s3_object", "sign_s3_objects", "stream_result", "username_to_email", "whoami", "worker_is_draining",
    "write_s3_file",
)


def _stub(name: str) -> Any:
    def unsupported(*args: Any, **kwargs: Any) -> NoReturn:
        _unsupported(f"{name}()")

    unsupported.__name__ = unsupported.__qualname__ = name
    unsupported.__doc__ = f"Not served by the wac engine: calling it raises WmillNotSupportedError (see {REFERENCE})."
    return unsupported


def __getattr__(name: str) -> Any:
    if name in UNSUPPORTED:
        return _stub(name)
    raise AttributeError(f"module 'wmill.client' has no attribute {name!r}")


__all__ = [
    "TaskError",
    "WmillNotSupportedError",
    "get_approval_urls",
    "parallel",
    "sleep",
    "step",
    "task",
    "task_flow",
    "task_script",
    "wait_for_approval",
    "workflow",
    "Windmill", "get_flow_user_state", "get_job_id", "get_job_status", "get_progress", "get_resource",
    "get_result", "get_resume_urls", "get_root_job_id", "get_state", "get_state_path", "get_variable",
    "get_workspace", "list_resources", "parse_resource_syntax", "parse_variable_syntax", "run_script",
    "run_script_async", "run_script_by_hash", "run_script_by_hash_async", "run_script_by_path",
    "run_script_by_path_async", "run_script_by_path_sync", "run_script_sync", "set_flow_user_state",
    "set_progress", "set_resource", "set_state", "set_variable",
]
