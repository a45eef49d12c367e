"""``@task``, ``task_script`` and ``task_flow``: calls that run as child jobs of the workflow.

The decorator is thin: it attaches a frozen :class:`TaskDef` as ``__wac_task__`` (the one mark
of a task, whatever made it: read it with :func:`task_def`) and wraps the function. A call
inside a workflow round dispatches through the checkpoint (:func:`wac.sdk.replay.next_step`);
inside a task body it runs in place; anywhere else it just runs. In every case the value crosses
JSON, as it would through a child job.
"""

from __future__ import annotations

import functools

from wac.sdk.context import _in_task_body, current_round, dispatch_round, task_body_kind
from wac.sdk.failures import NotInWorkflowError, TaskOptionError
from wac.sdk.jsonvalue import to_json
from wac.sdk.replay import next_step
from wac.sdk.retry import checked_retry

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


class TaskDef:
    """What ``@task`` / ``task_script`` / ``task_flow`` declared (read-only)."""

    __slots__ = ("name", "path", "dispatch_type", "options")

    name: str
    path: str | None
    dispatch_type: str  # "inline" | "script" | "flow"
    options: dict[str, Any] | None

    def __init__(self, name: str, path: str | None, dispatch_type: str, options: dict[str, Any] | None = None) -> None:
        for attr, value in (("name", name), ("path", path), ("dispatch_type", dispatch_type), ("options", options)):
            object.__setattr__(self, attr, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"TaskDef is read-only: cannot set {name!r}")

    def __repr__(self) -> str:
        return f"TaskDef(name={self.name!r}, path={self.path!r}, dispatch_type={self.dispatch_type!r}, options={self.options!r})"


def task_def(fn: object) -> TaskDef | None:
    """What ``@task`` / ``task_script`` / ``task_flow`` declared for ``fn``; None for anything else.

    ``__wac_task__`` is the only mark a task carries (``wmill``'s ``_is_task`` / ``_task_path``,
    which wmill sets and never reads, are not set: the path is ``task_def(fn).path``).
    """
    found = getattr(fn, "__wac_task__", None)
    return found if isinstance(found, TaskDef) else None


def _options(
    timeout: int | None,
    tag: str | None,
    cache_ttl: int | None,
    priority: int | None,
    concurrency_limit: int | None,
    concurrency_key: str | None,
    concurrency_time_window_s: int | None,
    retry: dict[str, Any] | None,
) -> dict[str, Any] | None:
    opts = {
        "timeout": timeout,
        "tag": tag,
        "cache_ttl": cache_ttl,
        "priority": priority,
        "concurrent_limit": concurrency_limit,
        "concurrency_key": concurrency_key,
        "concurrency_time_window_s": concurrency_time_window_s,
        "retry": checked_retry(retry),
    }
    return {k: v for k, v in opts.items() if v is not None} or None


def _is_async(func: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)


def _run_in_task_body(func: Callable[..., Any], caller: str, what: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """A task called from inside a task body runs in place, its value JSON round-tripped."""
    import inspect

    async def run_async(coro: Any) -> Any:
        token = _in_task_body.set("async")
        try:
            return to_json(await coro, what)
        finally:
            _in_task_body.reset(token)

    if _is_async(func):
        return run_async(func(*args, **kwargs))
    token = _in_task_body.set("sync")
    try:
        result = func(*args, **kwargs)
    finally:
        _in_task_body.reset(token)
    if inspect.iscoroutine(result):
        return run_async(result)
    value = to_json(result, what)
    if caller == "async":

        async def resolved() -> Any:
            return value

        return resolved()
    return value


def _standalone(func: Callable[..., Any], what: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    import inspect

    result = func(*args, **kwargs)
    if inspect.iscoroutine(result):

        async def round_trip() -> Any:
            return to_json(await result, what)

        return round_trip()
    return to_json(result, what)


def task(
    _func: Callable[..., Any] | None = None,
    *,
    path: str | None = None,
    tag: str | None = None,
    timeout: int | None = None,
    cache_ttl: int | None = None,
    priority: int | None = None,
    concurrency_limit: int | None = None,
    concurrency_key: str | None = None,
    concurrency_time_window_s: int | None = None,
    retry: dict[str, Any] | None = None,
) -> Any:
    """Mark a function as a task: inside a ``@workflow`` each call runs as its own child job.

    Usable bare (``@task``) or with options (``@task(timeout=600, tag="gpu", retry={...})``).
    ``retry`` = ``{"attempts": 0..100, "delay": s, "multiplier": m, "max_delay": s}``: each attempt
    is its own step (``call``, ``call#2``, …) and backoffs are durable sleeps.
    Outside a workflow the function just runs; its value is JSON round-tripped either way.
    """
    opts = _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry)

    def decorator(func: Callable[..., Any]) -> Callable[..., Any]:
        import inspect

        name = func.__name__
        params = list(inspect.signature(func).parameters)
        definition = TaskDef(name=name, path=path, dispatch_type="inline", options=opts)
        what = f"task '{name}'"

        def merge_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
            merged = dict(kwargs)
            for i, arg in enumerate(args):
                if i < len(params):
                    merged.setdefault(params[i], arg)
                else:
                    merged[f"arg{i}"] = arg
            return merged

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            state = dispatch_round()
            if state is not None:
                return next_step(state, name, path or name, func, "inline", opts, merge_args(args, kwargs))
            caller = task_body_kind()
            if caller is not None:
                return _run_in_task_body(func, caller, what, args, kwargs)
            return _standalone(func, what, args, kwargs)

        wrapper.__wac_task__ = definition  # type: ignore[attr-defined]
        return wrapper

    if _func is not None:
        return decorator(_func)
    return decorator


def _remote(kind: str, path: str, opts: dict[str, Any] | None) -> Callable[..., Any]:
    if not isinstance(path, str) or not path.strip():
        raise TaskOptionError(f"task_{kind}() needs a non-empty path, got {path!r}")
    name = path.rsplit("/", 1)[-1]
    what = f'task_{kind}("{path}")'

    def call(**kwargs: Any) -> Any:
        if task_body_kind():
            raise NotInWorkflowError(
                f"{what} cannot be called from inside a task: a task runs as a single job and cannot "
                "suspend or dispatch steps. Call it from the @workflow body instead."
            )
        state = current_round()
        if state is None:
            raise NotInWorkflowError(f"{what} can only be called inside a @workflow")
        return next_step(state, name, path, None, kind, opts, kwargs)

    return _RemoteTask(call, name, path, what, TaskDef(name=name, path=path, dispatch_type=kind, options=opts))


class _RemoteTask:
    """What ``task_script()`` / ``task_flow()`` return: a task to call with keyword arguments.

    Awaiting it without calling it (``await task_script("f/x")``) is a common slip; it raises a
    TypeError that says what to write instead of Python's "object … can't be used in 'await'"."""

    def __init__(self, call: Callable[..., Any], name: str, path: str, what: str, definition: TaskDef) -> None:
        self._call = call
        self.__name__ = self.__qualname__ = name
        self._what = what
        self.__wac_task__ = definition

    def __call__(self, **kwargs: Any) -> Any:
        return self._call(**kwargs)

    def __await__(self) -> Any:
        raise TypeError(
            f"{self._what} is a task, not a result: call it with its arguments, then await the call: "
            f"await {self._what}(x=1)  (or await {self._what}() when it takes none)"
        )

    def __repr__(self) -> str:
        return f"<task {self._what}>"


def task_script(
    path: str,
    *,
    timeout: int | None = None,
    tag: str | None = None,
    cache_ttl: int | None = None,
    priority: int | None = None,
    concurrency_limit: int | None = None,
    concurrency_key: str | None = None,
    concurrency_time_window_s: int | None = None,
    retry: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    """A task that runs another script: ``./x.py`` of this script's ``__mod`` folder, or a
    workspace script ``f/a/b``. Call it with keyword arguments inside a ``@workflow``."""
    opts = _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry)
    return _remote("script", path, opts)


def task_flow(
    path: str,
    *,
    timeout: int | None = None,
    tag: str | None = None,
    cache_ttl: int | None = None,
    priority: int | None = None,
    concurrency_limit: int | None = None,
    concurrency_key: str | None = None,
    concurrency_time_window_s: int | None = None,
    retry: dict[str, Any] | None = None,
) -> Callable[..., Any]:
    """A task that runs the workspace flow at ``path``. Call it with keyword arguments inside a
    ``@workflow``."""
    opts = _options(timeout, tag, cache_ttl, priority, concurrency_limit, concurrency_key, concurrency_time_window_s, retry)
    return _remote("flow", path, opts)
