"""Workflow-as-code detection: ``@workflow``, ``@task`` and primitive call sites (WAC1xx).

Names are resolved to qualified names through libcst's scope analysis, so
``import wac as w; @w.workflow``, ``from wmill import task as t; @t(timeout=5)`` and
``@wac.task`` are all recognised, while a local function that happens to be called ``task`` is
not. This is the resolution ``QualifiedNameProvider`` performs, asked only for decorators and
call targets instead of every node of the module (half the cost).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider, ScopeProvider

from wac.parser.diagnostics import Diagnostic, make
from wac.parser.types import string_value

PRIMITIVES = frozenset({"workflow", "task", "step", "sleep", "wait_for_approval", "parallel",
                        "task_script", "task_flow"})
_QUALIFIED = re.compile(r"^(?:wac|wmill)(?:\.\w+)*\.(\w+)$")
TASK_OPTIONS = frozenset({"tag", "timeout", "cache_ttl", "priority", "concurrency_limit",
                          "concurrency_key", "concurrency_time_window_s", "retry"})
_INT_OPTIONS = frozenset({"timeout", "cache_ttl", "priority", "concurrency_limit",
                          "concurrency_time_window_s"})
_STR_OPTIONS = frozenset({"tag", "concurrency_key", "path"})
_RETRY_KEYS = frozenset({"attempts", "delay", "multiplier", "max_delay"})
_WORKSPACE_PATH = re.compile(r"^[ufg](/[^/]+){2,}$")
_MARKERS = ("workflow", "task", "step", "sleep", "approval", "parallel")
_NOT_LITERAL = object()
# calls whose result changes between replays of a workflow body (wrap them in step() or a task)
_NONDETERMINISTIC = frozenset({
    "time.time", "time.time_ns", "time.monotonic", "time.monotonic_ns", "time.perf_counter",
    "time.perf_counter_ns", "datetime.datetime.now", "datetime.datetime.utcnow",
    "datetime.datetime.today", "datetime.date.today", "uuid.uuid1", "uuid.uuid4", "os.urandom",
    "os.getpid", "os.getenv", "urllib.request.urlopen",
    *(f"{lib}.{verb}" for lib in ("requests", "httpx")
      for verb in ("get", "post", "put", "patch", "delete", "head", "request")),
})
_NONDETERMINISTIC_MODULES = ("random.", "secrets.")
_BLOCKING_SLEEPS = frozenset({"time.sleep", "asyncio.sleep"})
_SDK_NAME = re.compile(r"\b(?:wac|wmill)\b")  # no SDK import possible without these words


@dataclass(frozen=True)
class TaskInfo:
    """A task-like thing in a workflow script.

    ``kind`` is ``"task"`` (a ``@task`` function; ``name`` is the function name),
    ``"task_script"`` / ``"task_flow"`` (``name`` is the path) or ``"step"`` (``name`` is the
    step name). ``name`` is None when it is not a literal. ``options`` holds the literal
    options given (``timeout``, ``tag``, ``retry`` ...); non-literal ones are left out.
    """

    kind: str
    name: str | None
    line: int
    col: int
    options: Mapping[str, Any] = field(default_factory=dict, hash=False)
    is_async: bool = False


@dataclass(frozen=True)
class WorkflowScan:
    """Result of :func:`scan_workflow`."""

    is_workflow: bool
    tasks: tuple[TaskInfo, ...]
    diagnostics: tuple[Diagnostic, ...]


def literal(node: cst.BaseExpression) -> Any:
    """Python value of a literal expression, or ``_NOT_LITERAL``."""
    if isinstance(node, (cst.Integer, cst.Float)):
        return node.evaluated_value
    if isinstance(node, (cst.SimpleString, cst.ConcatenatedString)):
        value = string_value(node)
        return value if isinstance(value, str) else _NOT_LITERAL
    if isinstance(node, cst.Name) and node.value in ("None", "True", "False"):
        return {"None": None, "True": True, "False": False}[node.value]
    if isinstance(node, cst.UnaryOperation) and isinstance(node.operator, cst.Minus):
        inner = literal(node.expression)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner
        return _NOT_LITERAL
    if isinstance(node, (cst.List, cst.Tuple)):
        items = [literal(e.value) for e in node.elements if isinstance(e, cst.Element)]
        if len(items) != len(node.elements) or _NOT_LITERAL in items:
            return _NOT_LITERAL
        return items
    if isinstance(node, cst.Dict):
        out = {}
        for element in node.elements:
            if not isinstance(element, cst.DictElement):
                return _NOT_LITERAL
            key, value = literal(element.key), literal(element.value)
            if key is _NOT_LITERAL or value is _NOT_LITERAL or isinstance(key, (list, dict)):
                return _NOT_LITERAL
            out[key] = value
        return out
    return _NOT_LITERAL


def scan_workflow(module: cst.Module, text: str, path: str) -> WorkflowScan:
    """Find workflows, tasks and misuse in a parsed module.

    Fast path: a module whose text mentions none of the primitives, or neither ``wac`` nor
    ``wmill``, is not analysed (no name in it can resolve to the SDK).
    """
    if not any(marker in text for marker in _MARKERS) or not _SDK_NAME.search(text):
        return WorkflowScan(False, (), ())
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    visitor = _Visitor(path)
    wrapper.visit(visitor)
    return WorkflowScan(visitor.workflows > 0, tuple(visitor.tasks), tuple(visitor.diagnostics))


class _Visitor(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (ScopeProvider, PositionProvider)

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self.functions: list[str] = []
        self.bodies: list[bool] = []  # innermost function/lambda first: is it a workflow body?
        self.workflows = 0
        self._in_decorator = False
        self.tasks: list[TaskInfo] = []
        self.diagnostics: list[Diagnostic] = []
        # One level of helpers: what each plain module-level function does that replays badly,
        # and the calls workflow bodies make to plain names (resolved when the module ends).
        self.helpers: dict[str, list[tuple[str, int]]] = {}
        self._helper: str | None = None
        self._lambdas = 0
        self._classes = 0
        self._helper_calls: list[tuple[cst.Call, str]] = []

    # -- helpers ---------------------------------------------------------------------------
    def _qualified(self, node: cst.CSTNode) -> set[str]:
        if not isinstance(node, (cst.Name, cst.Attribute)):
            return set()
        scope = self.get_metadata(ScopeProvider, node, None)
        if scope is None:
            return set()
        return {qualified.name for qualified in scope.get_qualified_names_for(node)}

    def _primitive(self, node: cst.CSTNode) -> str | None:
        for name in self._qualified(node):
            found = _QUALIFIED.match(name)
            if found is not None and found.group(1) in PRIMITIVES:
                return found.group(1)
        return None

    def _pos(self, node: cst.CSTNode) -> tuple[int, int]:
        start = self.get_metadata(PositionProvider, node).start
        return start.line, start.column + 1

    def _report(self, node: cst.CSTNode, code: str, message: str) -> None:
        line, col = self._pos(node)
        self.diagnostics.append(make(self.path, line, col, code, message))

    def _options(self, call: cst.Call, allowed: frozenset[str], what: str,
                 skip_positional: int = 0) -> dict[str, Any]:
        options: dict[str, Any] = {}
        positional = 0
        for arg in call.args:
            if arg.star:
                self._report(arg, "WAC106", f"{what} options passed with {arg.star}: "
                             "wac cannot check them")
                continue
            if arg.keyword is None:
                positional += 1
                if positional > skip_positional:
                    self._report(arg, "WAC107", f"{what} options must be passed by keyword")
                continue
            name = arg.keyword.value
            if name not in allowed:
                known = ", ".join(sorted(allowed))
                self._report(arg.keyword, "WAC105",
                             f"unknown {what} option '{name}' (known: {known})")
                continue
            value = literal(arg.value)
            if value is _NOT_LITERAL:
                self._report(arg.value, "WAC106", f"{what} option '{name}' is not a literal: "
                             "wac cannot check it")
                continue
            problem = _option_problem(name, value)
            if problem:
                self._report(arg.value, "WAC107", f"{what} option '{name}' {problem}")
                continue
            options[name] = value
        return options

    # -- definitions -----------------------------------------------------------------------
    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        is_workflow = False
        for deco in node.decorators:
            expr = deco.decorator
            target = expr.func if isinstance(expr, cst.Call) else expr
            kind = self._primitive(target)
            if kind == "workflow":
                is_workflow = True
                self._workflow(node, expr)
            elif kind == "task":
                self._task(node, expr)
        if not self.functions and not self._classes and not is_workflow and not any(
            self._primitive(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) == "task"
            for d in node.decorators
        ):
            self._helper = node.name.value
            self.helpers[self._helper] = []
        self.functions.append(node.name.value)
        self.bodies.append(is_workflow)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self.functions.pop()
        self.bodies.pop()
        if not self.functions:
            self._helper = None

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._classes += 1

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes -= 1

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self.bodies.append(False)  # step("x", lambda: time.time()) is the right way
        self._lambdas += 1

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self.bodies.pop()
        self._lambdas -= 1

    def leave_Module(self, original_node: cst.Module) -> None:
        for call, name in self._helper_calls:
            found = self.helpers.get(name)
            if found:
                what, line = found[0]
                more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
                self._report(call, "WAC113", f"{name}() {what} (line {line}){more}: called from a "
                             "workflow body it gives another result on every replay; wrap the call in "
                             "step() or move it into a task")

    def _in_helper(self) -> bool:
        return self._helper is not None and self._lambdas == 0 and not (self.bodies and self.bodies[-1])

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._environ(node)

    def visit_Name(self, node: cst.Name) -> None:
        self._environ(node)

    def _environ(self, node: cst.Attribute | cst.Name) -> None:
        """A read of ``os.environ`` in a workflow body (WAC113) or in a helper (noted)."""
        in_body = bool(self.bodies and self.bodies[-1])
        if not (in_body or self._in_helper()):
            return
        if isinstance(node, cst.Name) and (node.value != "environ"):
            return
        if isinstance(node, cst.Attribute) and node.attr.value != "environ":
            return
        if "os.environ" not in self._qualified(node):
            return
        if in_body:
            self._report(node, "WAC113", "os.environ in a workflow body may differ between the "
                         "rounds of a run (each round is a new process): read it in step() or a task")
        elif self._helper is not None:
            self.helpers[self._helper].append(("reads os.environ", self._pos(node)[0]))

    def _workflow(self, node: cst.FunctionDef, expr: cst.BaseExpression) -> None:
        self.workflows += 1
        name = node.name.value
        if self.workflows > 1:
            self._report(node.name, "WAC111", f"second @workflow '{name}': a script has one "
                         "workflow, its main")
        if isinstance(expr, cst.Call):
            self._report(expr, "WAC104", "@workflow takes no arguments: write @workflow, "
                         "not @workflow(...) (wmill fails with a TypeError)")
        if node.asynchronous is None:
            self._report(node.name, "WAC103", f"@workflow function '{name}' must be "
                         "'async def': tasks are awaited inside it")
        if name != "main":
            self._report(node.name, "WAC110", f"@workflow on '{name}': wmill runs main, so "
                         "this workflow only runs if main calls it")

    def _task(self, node: cst.FunctionDef, expr: cst.BaseExpression) -> None:
        name = node.name.value
        options: dict[str, Any] = {}
        if isinstance(expr, cst.Call):
            options = self._options(expr, TASK_OPTIONS | {"path"}, "@task")
        if self.functions:
            self._report(node.name, "WAC101", f"task '{name}' is defined inside function "
                         f"'{self.functions[-1]}': define tasks at module level so replays "
                         "and child jobs find the same task")
        line, col = self._pos(node.name)
        self.tasks.append(TaskInfo("task", name, line, col, options,
                                   node.asynchronous is not None))

    # -- call sites ------------------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if self.bodies and self.bodies[-1]:
            self._replay_safety(node)
            if isinstance(node.func, cst.Name) and self._qualified(node.func) == {node.func.value}:
                self._helper_calls.append((node, node.func.value))
        elif self._in_helper() and self._helper is not None:
            what = self._nondeterministic(node)
            if what is not None:
                self.helpers[self._helper].append((f"calls {what}()", self._pos(node)[0]))
        kind = self._primitive(node.func)
        if kind == "workflow":
            self._workflow_call(node)
        elif kind in ("task_script", "task_flow"):
            self._task_reference(node, kind)
        elif kind == "step":
            self._named_call(node, "step", "name", record=True)
        elif kind in ("sleep", "wait_for_approval"):
            self._key_argument(node, kind)

    def _workflow_call(self, node: cst.Call) -> None:
        # `main = workflow(inner)`: a workflow, but wmill's signature scan finds no main
        if node.args and not self._in_decorator:
            self.workflows += 1

    def visit_Decorator(self, node: cst.Decorator) -> None:
        self._in_decorator = True

    def leave_Decorator(self, original_node: cst.Decorator) -> None:
        self._in_decorator = False

    def _replay_safety(self, node: cst.Call) -> None:
        names = self._qualified(node.func)
        if not names:
            return
        name = min(names)
        if names & _BLOCKING_SLEEPS:
            self._report(node, "WAC114", f"{name}() in a workflow body is not durable and "
                         "runs again on every replay: use sleep() from wac / wmill")
        elif self._nondeterministic(node) is not None:
            self._report(node, "WAC113", f"{name}() in a workflow body gives another result "
                         "on every replay: wrap it in step() or move it into a task")

    def _nondeterministic(self, node: cst.Call) -> str | None:
        """The qualified name of a call whose result changes between replays, else None."""
        names = self._qualified(node.func)
        if names & _NONDETERMINISTIC or any(
            n.startswith(_NONDETERMINISTIC_MODULES) and n != "random.Random" for n in names
        ):
            return min(names)
        return None

    def _first_argument(self, node: cst.Call, keyword: str) -> cst.Arg | None:
        for arg in node.args:
            if (arg.keyword is None and not arg.star) or (
                arg.keyword is not None and arg.keyword.value == keyword
            ):
                return arg
        return None

    def _task_reference(self, node: cst.Call, kind: str) -> None:
        arg = self._first_argument(node, "path")
        line, col = self._pos(node)
        options = self._options(node, TASK_OPTIONS, kind, skip_positional=1)
        if arg is None:
            self._report(node, "WAC109", f"{kind}() needs a path")
            return
        value = literal(arg.value)
        if not isinstance(value, str):
            self._report(arg.value, "WAC102", f"{kind} path is not a string literal: wac "
                         "cannot check it or ship the module it names")
            self.tasks.append(TaskInfo(kind, None, line, col, options))
            return
        problem = _path_problem(kind, value)
        if problem:
            self._report(arg.value, "WAC109", problem)
        self.tasks.append(TaskInfo(kind, value, line, col, options))

    def _named_call(self, node: cst.Call, kind: str, keyword: str, record: bool) -> None:
        arg = self._first_argument(node, keyword)
        line, col = self._pos(node)
        if arg is None:
            return
        value = literal(arg.value)
        if not isinstance(value, str):
            self._report(arg.value, "WAC102", f"{kind} name is not a string literal: keys "
                         "come from names, so a name that changes between replays breaks "
                         "resumption")
            value = None
        elif not value.strip():
            self._report(arg.value, "WAC108", f"{kind} name must not be empty")
        if record:
            self.tasks.append(TaskInfo(kind, value, line, col))

    def _key_argument(self, node: cst.Call, kind: str) -> None:
        for arg in node.args:
            if arg.keyword is not None and arg.keyword.value == "key":
                value = literal(arg.value)
                if isinstance(value, str):
                    self._check_key(arg.value, value, f"{kind} key")
                elif value is _NOT_LITERAL:
                    self._report(arg.value, "WAC102", f"{kind} key is not a string literal")

    def _check_key(self, node: cst.CSTNode, value: str, what: str) -> None:
        # the SDK's rule: a key travels as one URL path segment
        if not value.strip() or value.strip() in (".", "..") or "/" in value or "\\" in value:
            self._report(node, "WAC108", f"invalid {what} {value!r}: a key must be non-empty, "
                         "not '.' or '..', and contain no '/' or '\\'")


def _option_problem(name: str, value: Any) -> str | None:
    if name in _INT_OPTIONS:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be an integer, got {value!r}"
        if value < 0 or (name == "timeout" and value == 0):
            return f"must be positive, got {value}"
    elif name in _STR_OPTIONS:
        if value is not None and not isinstance(value, str):
            return f"must be a string, got {value!r}"
    elif name == "retry" and value is not None:
        if not isinstance(value, dict):
            return "must be a dict like {'attempts': 3, 'delay': 1}"
        unknown = sorted(set(map(str, value)) - _RETRY_KEYS)
        if unknown:
            return f"has unknown keys {unknown} (known: attempts, delay, multiplier, max_delay)"
        attempts = value.get("attempts", 0)
        if isinstance(attempts, bool) or not isinstance(attempts, int) or not 0 <= attempts <= 100:
            return f"attempts must be an integer from 0 to 100, got {attempts!r}"
        for key in ("delay", "multiplier", "max_delay"):
            item = value.get(key)
            if item is not None and (isinstance(item, bool) or
                                     not isinstance(item, (int, float)) or item < 0):
                return f"{key} must be a non-negative number, got {item!r}"
    return None


def _path_problem(kind: str, path: str) -> str | None:
    if kind == "task_script" and path.startswith("./"):
        if not path.endswith(".py") or ".." in path.split("/"):
            return (f"task_script path {path!r}: a module path must name a .py file inside "
                    "the script's __mod folder, e.g. './extract.py'")
        return None
    if _WORKSPACE_PATH.match(path):
        return None
    where = "'./module.py' or a workspace path" if kind == "task_script" else "a workspace path"
    return f"{kind} path {path!r} is not {where} like 'f/folder/name'"
