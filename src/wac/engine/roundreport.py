"""What a worker makes of a round's report: each outcome becomes one store operation.

The worker (:mod:`wac.engine.worker`) receives a round's outcome (:mod:`wac.sdk.outcomes`) or
error on the round's channel and applies it here: a completion, a dispatch of children (a
``task_script`` child pinned to the head deployed now), a checkpoint, a sleep or an approval,
each one fenced store transaction (G1, G2). Logs are masked of secret values first.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from wac.engine.store.base import ChildSpec, Job, Store, TaskOptions, Token
from wac.errors import LostClaimError, WacError
from wac.sdk.outcomes import OUTCOME_TYPES
from wac.timeformat import timestamp

if TYPE_CHECKING:
    from wac.engine.workerconfig import WorkerConfig
    from wac.sdk.outcomes import DispatchStep, Outcome

WORKSPACE_ENTRY = "ws:"  # entry prefix of a child that runs a script deployed in the workspace


def is_failure_marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get("__wmill_error") is True


def child_specs(job: Job, module_dir: str, steps: list[DispatchStep],
                direct: dict[str, str] | None = None) -> list[ChildSpec]:
    """Turn the SDK's dispatched step dicts into children of ``job``.

    ``direct`` maps the keys of @task children the round proved callable directly to their
    task function (``module:name:line``); they carry it in their options."""
    children = []
    for step in steps:
        kind = step.get("dispatch_type", "inline")
        script = str(step.get("script") or step["name"])
        if kind == "inline":
            entry, executing, child_kind = job.entry, step["key"], "task"
        elif script.startswith(("./", "../")):
            entry = posixpath.normpath(posixpath.join(module_dir, script))
            executing, child_kind = None, "script"
        else:
            entry, executing, child_kind = WORKSPACE_ENTRY + script, None, kind
        options = TaskOptions.from_windmill(step)
        target = (direct or {}).get(step["key"]) if kind == "inline" else None
        if isinstance(target, str) and target:
            options = replace(options, direct=target)
        children.append(
            ChildSpec(
                key=step["key"], name=step["name"], entry=entry, args=dict(step.get("args") or {}),
                executing_key=executing, options=options,
                script_path=job.script_path if kind == "inline" else script, kind=child_kind,
            )
        )
    return children


def error_record(name: str, message: str, stack: str | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"name": name, "message": message}
    if stack:
        record["stack"] = stack
    return record


def apply_error(store: Store, token: Token, error: dict[str, Any], logs: str) -> None:
    try:
        store.fail(token, error, logs=logs)
    except LostClaimError:
        pass


def apply_outcome(store: Store, config: WorkerConfig, job: Job, token: Token, outcome: Outcome, logs: str,
                  module_dir: str, direct: dict[str, str] | None = None) -> bool:
    """One store transaction for the outcome (:mod:`wac.sdk.outcomes`, dispatched on its
    ``type``); False when the claim was lost or the job failed."""
    kind = outcome.get("type")
    try:
        if kind not in OUTCOME_TYPES:
            store.fail(token, error_record("ProtocolError", f"unknown round outcome {kind!r}"), logs=logs)
            return False
        if outcome["type"] == "complete":
            store.complete(token, outcome.get("result"), logs=logs)
        elif outcome["type"] == "dispatch":
            steps = outcome.get("steps") or []
            marks = direct if config.direct_children and isinstance(direct, dict) else None
            children = [pin_deployed(store, c) for c in child_specs(job, module_dir, steps, marks)]
            store.dispatch(token, children, max_in_flight=outcome.get("max_in_flight"), logs=logs)
        elif outcome["type"] == "inline_checkpoint":
            value = outcome.get("result")
            store.checkpoint(token, outcome["key"], value, requeue=True,
                             failed=is_failure_marker(value), started_at=timestamp(outcome.get("started_at")),
                             logs=logs)
        elif outcome["type"] == "sleep":
            seconds = float(outcome.get("seconds") or 0)
            if config.skip_sleeps and job.preview:
                seconds = 0.0
            store.sleep(token, outcome["key"], store.now() + seconds, logs=logs)
        else:  # approval
            key = outcome["key"]
            timeout = outcome.get("timeout")
            shown = {"form": outcome.get("form"), "description": outcome.get("description"), "skin": outcome.get("skin")}
            form = {k: v for k, v in shown.items() if v is not None}
            store.suspend(token, key, store.now() + float(timeout) if timeout else None,
                          "", form or None, logs=logs)
    except LostClaimError:
        return False
    return True


def not_deployed(store: Store, workspace: str, job: Job, path: str) -> dict[str, Any]:
    """The error of a child whose workspace script or flow could not be pinned."""
    kind = None
    if job.parent_id is not None:
        kind = next((s.kind for s in store.get_steps(job.parent_id) if s.key == job.parent_key), None)
    get_item = getattr(store, "get_item", None)
    if get_item is not None and get_item("flow", path) is not None:
        return error_record("FlowNotSupportedError", f"{path} is a flow (pushed to workspace "
                            f"'{workspace}'): running flows on the embedded engine is not "
                            "supported yet")
    if kind == "flow":
        from wac.engine.deployed import resolve_child

        if resolve_child(store, path) is not None:
            return error_record("NotAFlowError", f'{path} is a script, not a flow: call it with '
                                f'task_script("{path}") instead of task_flow("{path}")')
        return error_record("NotDeployedError", f"no flow {path} in workspace '{workspace}' "
                            "(the embedded engine runs scripts; flows run on a Windmill server)")
    return error_record(
        "NotDeployedError",
        f"{path} is not deployed in workspace '{workspace}'; running workspace scripts "
        "from task_script()/task_flow() needs a workspace (wac sync push)",
    )


def pin_deployed(store: Store, child: ChildSpec) -> ChildSpec:
    """A ``task_script("f/a/b")`` child runs the head deployed now, pinned by its bundle (its
    environment is pinned when it starts: _pin_started)."""
    if not child.entry.startswith(WORKSPACE_ENTRY) or child.kind == "flow":
        return child  # a flow is never a deployed script: its round says so (not_deployed)
    from wac.engine.deployed import resolve_child

    found = resolve_child(store, child.entry[len(WORKSPACE_ENTRY):])
    return child if found is None else replace(child, bundle_hash=found[0], entry=found[1])


def mask(store: Store, logs: str, revealed: list[str] | None = None) -> str:
    """Job logs never hold a secret variable's value: each is replaced by ``*****`` as Windmill does."""
    if not logs:
        return logs
    from wac.engine.objects import secret_values

    try:
        values = list(secret_values(store))
    except WacError:
        values = []
    values += [v for v in revealed or [] if isinstance(v, str) and len(v) >= 3]
    for value in sorted(values, key=len, reverse=True):
        logs = logs.replace(value, "*****")
    return logs
