"""``wmill.client`` on the wac engine: the workflow-as-code SDK mapped onto :mod:`wac.sdk`.

``_run_workflow`` is :func:`wac.sdk.run_round`. The rest of the real client (variables,
resources, S3, job APIs, …) is not available on the wac engine yet: those names exist and raise
:class:`WmillNotSupportedError` naming the function when used.
"""

from __future__ import annotations

from typing import Any, NoReturn

from wac.errors import WacError
from wac.sdk import (
    TaskError,
    get_approval_urls,
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
from wac.sdk import get_resume_urls as _get_resume_urls

__wac_shim__ = True

_run_workflow = run_round


class WmillNotSupportedError(WacError, NotImplementedError):
    """This wmill function is not available on the wac engine."""

    hint = "run the script on a Windmill workspace, or keep to the workflow SDK (task, step, sleep, …)"


def get_resume_urls(approver: str | None = None, flow_level: bool | None = None) -> dict[str, str]:
    """URLs resuming the next ``wait_for_approval()`` (``flow_level`` is not supported)."""
    if flow_level:
        _unsupported("get_resume_urls(flow_level=True)")
    return _get_resume_urls(approver)


def _unsupported(what: str) -> NoReturn:
    raise WmillNotSupportedError(f"wmill.{what} is not available on the wac engine yet")


# Public names of the real wmill 1.850 client that wac does not implement.
UNSUPPORTED = (
    "Boto3ConnectionSettings", "DataTableClient", "DuckDbConnectionSettings", "DucklakeClient",
    "PolarsConnectionSettings", "S3BufferedReader", "S3FsArgs", "S3FsClientKwargs", "S3Object",
    "SqlQuery", "StorageOptions", "Windmill", "WorkflowCtx", "append_to_result_stream",
    "boto3_connection_settings", "bytes_generator", "cancel_job", "cancel_running",
    "commit_kafka_offsets", "datatable", "delete_s3_object", "duckdb_connection_settings",
    "ducklake", "get_flow_user_state", "get_id_token", "get_job", "get_job_status",
    "get_presigned_s3_public_url", "get_presigned_s3_public_urls", "get_progress", "get_resource",
    "get_result", "get_root_job_id", "get_shared_state", "get_shared_state_pickle", "get_state",
    "get_state_path", "get_variable", "get_version", "get_workspace", "list_resources",
    "load_s3_file", "load_s3_file_reader", "parse_s3_object", "polars_connection_settings",
    "request_interactive_slack_approval", "run_flow_async", "run_inline_script_preview",
    "run_script", "run_script_async", "run_script_by_hash", "run_script_by_hash_async",
    "run_script_by_path", "run_script_by_path_async", "run_script_by_path_sync", "run_script_sync",
    "send_teams_message", "set_flow_user_state", "set_progress", "set_resource",
    "set_shared_state", "set_shared_state_pickle", "set_state", "set_variable", "sign_s3_object",
    "sign_s3_objects", "stream_result", "username_to_email", "whoami", "worker_is_draining",
    "write_s3_file",
)


def _stub(name: str) -> Any:
    def unsupported(*args: Any, **kwargs: Any) -> NoReturn:
        _unsupported(f"{name}()")

    unsupported.__name__ = unsupported.__qualname__ = name
    unsupported.__doc__ = "Not available on the wac engine: calling it raises WmillNotSupportedError."
    return unsupported


def __getattr__(name: str) -> Any:
    if name in UNSUPPORTED:
        return _stub(name)
    raise AttributeError(f"module 'wmill.client' has no attribute {name!r}")


__all__ = [
    "TaskError",
    "WmillNotSupportedError",
    "get_approval_urls",
    "get_resume_urls",
    "parallel",
    "sleep",
    "step",
    "task",
    "task_flow",
    "task_script",
    "wait_for_approval",
    "workflow",
]
