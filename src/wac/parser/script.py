"""parse_script: one pass over a script producing everything wac needs to know about it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import libcst as cst

from wac.parser import source as src
from wac.parser.classes import Classes, collect_classes
from wac.parser.diagnostics import Diagnostic, make
from wac.parser.imports import ImportScan, scan_imports
from wac.parser.requirements import infer_requirements
from wac.parser.schema import build_schema
from wac.parser.signature import Arg, Signature, parse_signature, read_signature
from wac.parser.workflow import TaskInfo, WorkflowScan, scan_workflow


@dataclass(frozen=True)
class ScriptInfo:
    """What the parser learnt about one script.

    Attributes:
        schema: the ``schema:`` block for a new script, keys in the CLI's order; None when
            main's signature cannot be parsed (wmill would write an empty schema then).
        has_preprocessor: a top-level ``def preprocessor(`` exists.
        main_found: wmill's signature scan finds main.
        is_workflow: a ``@workflow`` decorator (wac or wmill, however imported) is present: the
            one answer to "is this a workflow" (wmill's parser also reports an ``auto_kind``
            from a substring test, comments included; wac neither computes nor writes it).
        tasks: ``@task`` functions and ``task_script`` / ``task_flow`` / ``step`` call sites.
        requirements: requirement lines inferred from imports and comment directives.
        workspace_imports: remote paths of imported workspace scripts, sorted.
        diagnostics: problems found, sorted by position.
        args: main's arguments as the parser typed them (for schema regeneration).
        is_async: main is ``async def``.
    """

    schema: dict[str, Any] | None
    has_preprocessor: bool
    main_found: bool
    is_workflow: bool
    tasks: tuple[TaskInfo, ...]
    requirements: tuple[str, ...]
    workspace_imports: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    args: tuple[Arg, ...] = field(default=(), compare=False)
    is_async: bool = False

    def regenerate_schema(self, old: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The schema regenerated over an existing one, as ``wmill generate-metadata`` does."""
        if self.schema is None:
            return None
        return build_schema(self.args, old)


class _Lazy:
    """The full-module parse, done at most once and only when something needs it."""

    def __init__(self, text: str, path: str) -> None:
        self._text = text
        self._path = path
        self._done = False
        self.module: cst.Module | None = None
        self.diagnostics: list[Diagnostic] = []
        self._classes: Classes | None = None

    def get(self) -> cst.Module | None:
        if not self._done:
            self._done = True
            self.module, self.diagnostics = src.parse_module(self._text, self._path)
        return self.module

    def classes(self) -> Classes:
        if self._classes is None:
            module = self.get()
            self._classes = collect_classes(module) if module is not None else Classes()
        return self._classes


def parse_script(
    source: str | bytes,
    path: str = "<script>",
    *,
    remote_path: str | None = None,
    detail: str = "full",
) -> ScriptInfo:
    """Analyse a Python script. Never raises on user code: problems become diagnostics.

    Args:
        source: the file's text or bytes (bytes are decoded as the wmill CLI does).
        path: the path used in diagnostics.
        remote_path: the script's remote path (``f/folder/name``), needed to resolve relative
            workspace imports.
        detail: how much to compute. ``"full"`` (default): everything. ``"metadata"``: no
            workflow analysis (``tasks`` empty, ``is_workflow`` a textual guess, no WAC1xx):
            what ``generate-metadata`` needs, much faster. ``"schema"``: only the schema,
            ``has_preprocessor`` and ``main_found`` (requirements and imports empty): the fast
            path for ``generate-metadata --schema-only``; the file is fully parsed only when
            its enums or models matter.
    """
    if detail not in ("full", "metadata", "schema"):
        raise ValueError(f"detail must be 'full', 'metadata' or 'schema', not {detail!r}")
    try:
        return _parse(source, path, remote_path, detail)
    except Exception as exc:  # a parser bug must not take generate-metadata down with it
        message = f"internal parser error ({type(exc).__name__}: {exc}); please report it"
        diag = make(path, 1, 1, "WAC000", message)
        return ScriptInfo(None, False, False, False, (), (), (), (diag,))


def _parse(source: str | bytes, path: str, remote_path: str | None, detail: str) -> ScriptInfo:
    text, diagnostics = src.decode(source, path)
    if text is None:
        return ScriptInfo(None, False, False, False, (), (), (), tuple(diagnostics))
    lazy = _Lazy(text, path)
    main_offset = src.find_main(text)
    signature, sig_diags = _signature(text, path, main_offset, lazy)
    diagnostics += sig_diags
    schema = build_schema(signature.args) if signature is not None else None
    scan_imp = ImportScan((), ())
    scan_wf = WorkflowScan(src.looks_like_workflow(text), (), ())
    if detail != "schema":
        module = lazy.get()
        if module is not None:
            # each stage is guarded: a parser bug in one keeps the others' results
            scan_imp = _guarded(lambda: scan_imports(module, text, remote_path), scan_imp,
                                path, diagnostics)
            if detail == "full":
                scan_wf = _guarded(lambda: scan_workflow(module, text, path), scan_wf, path,
                                   diagnostics)
    diagnostics += lazy.diagnostics
    diagnostics += scan_wf.diagnostics
    if main_offset is None:
        diagnostics += src.unseen_main(text, path)
    requirements = () if detail == "schema" else infer_requirements(text, scan_imp.packages)
    return ScriptInfo(
        schema=schema,
        has_preprocessor=src.has_preprocessor(text),
        main_found=main_offset is not None,
        is_workflow=scan_wf.is_workflow,
        tasks=scan_wf.tasks,
        requirements=requirements,
        workspace_imports=scan_imp.workspace,
        diagnostics=_ordered(diagnostics),
        args=signature.args if signature is not None else (),
        is_async=signature.is_async if signature is not None else False,
    )


_T = TypeVar("_T")


def _guarded(stage: Callable[[], _T], fallback: _T, path: str,
             diagnostics: list[Diagnostic]) -> _T:
    try:
        return stage()
    except Exception as exc:  # never let one stage's bug lose the schema
        message = f"internal parser error ({type(exc).__name__}: {exc}); please report it"
        diagnostics.append(make(path, 1, 1, "WAC000", message))
        return fallback


def _signature(
    text: str, path: str, offset: int | None, lazy: _Lazy
) -> tuple[Signature | None, list[Diagnostic]]:
    """main's signature (empty without main), or None with a WAC001 when it does not parse."""
    if offset is None:
        return Signature((), (), False), []
    line = src.line_of(text, offset)
    sig_source = src.cut_signature(text, offset)
    fn = parse_signature(sig_source) if sig_source is not None else None
    if fn is None:
        end = offset + len(sig_source) if sig_source is not None else len(text)
        diag = src.syntax_error(text[:end] + ": return\n" if sig_source else text, path,
                                (line, 1))
        if diag.line < line:  # the error is before main: CPython stopped there; re-locate
            diag = src.syntax_error("\n" * (line - 1) + (sig_source or text[offset:]) +
                                    ": return\n", path, (line, 1))
        msg = diag.message + " (in the signature of main; no schema can be inferred)"
        return None, [make(path, diag.line, diag.col, "WAC001", msg)]
    signature = read_signature(fn, text, lazy.classes)
    diags = []
    if signature.dropped:
        names = ", ".join(f"'{name}'" for name in signature.dropped)
        diags.append(make(path, line, 1, "WAC202",
                          f"positional-only / keyword-only parameters of main ({names}) are "
                          "left out of the schema: wmill never passes them"))
    return signature, diags


def _ordered(diagnostics: list[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Sorted by position, one per (line, col, code): the most specific message wins."""
    best: dict[tuple[int, int, str], Diagnostic] = {}
    for diag in diagnostics:
        key = (diag.line, diag.col, diag.code)
        if key not in best or len(diag.message) > len(best[key].message):
            best[key] = diag
    kept = [d for d in diagnostics if best[(d.line, d.col, d.code)] is d]
    return tuple(sorted(kept, key=lambda d: (d.line, d.col)))
