"""wac: durable workflow-as-code for Python, file- and protocol-compatible with Windmill.

The SDK a workflow script imports::

    from wac import task, workflow, step, sleep, wait_for_approval, parallel

``import wac`` stays light (stdlib only): the CLI, the parser and the engine are subpackages
imported only when used.
"""

from __future__ import annotations

from wac.sdk.failures import TaskError
from wac.sdk.primitives import get_resume_urls, parallel, sleep, step, wait_for_approval, workflow
from wac.sdk.task import task, task_flow, task_script

__all__ = [
    "TaskError",
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
