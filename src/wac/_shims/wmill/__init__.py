"""A ``wmill`` package for scripts run on the wac engine.

The engine puts ``src/wac/_shims`` first on ``sys.path`` inside a round process, so a script
written with ``from wmill import task, workflow`` runs unchanged on wac's SDK. Other wmill
client calls (variables, resources, state, jobs, progress; ``client.SERVED``) are answered by the
engine; the others exist but raise ``WmillNotSupportedError`` (a ``NotImplementedError``) naming
the function and the reference list (docs/reference/client.md).
"""

from __future__ import annotations

from typing import Any

from . import client
from .client import (
    TaskError,
    WmillNotSupportedError,
    get_approval_urls,
    get_resume_urls,
    parallel,
    sleep,
    step,
    task,
    task_flow,
    task_script,
    wait_for_approval,
    workflow,
)

__wac_shim__ = True


def __getattr__(name: str) -> Any:
    if name in client.UNSUPPORTED or name in client.SERVED:
        return getattr(client, name)
    raise AttributeError(f"module 'wmill' has no attribute {name!r}")


__all__ = [
    "TaskError",
    "WmillNotSupportedError",
    "client",
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
