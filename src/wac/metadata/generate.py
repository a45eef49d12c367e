"""Carrying out a plan: infer schemas, resolve locks, write files, record hashes.

Each stale script is computed fully in memory first (schema, main lock, module locks); only when
everything succeeded are its files written, each atomically. A failing script keeps its previous
files and its old hash, so the next run finds it stale again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.engine.lockresolver import LockResolver
from wac.errors import MetadataError, WacError
from wac.metadata.analysis import Analysis, Job, analyze_many
from wac.metadata.plan import Plan, PlanItem, dependency_files_of
from wac.metadata.schema_merge import update_metadata
from wac.metadata.state import ScriptState
from wac.project.hashing import script_entries
from wac.project.scriptmeta import INLINE_PREFIX, inline_lock_path, render_metadata
from wac.project.textio import atomic_write, create_exclusive, read_text

Progress = Callable[[int, int, PlanItem], None]
LockProgress = Callable[[int, int], None]


@dataclass(frozen=True)
class GenerateOptions:
    """What to regenerate and how."""

    lock_only: bool = False
    schema_only: bool = False
    parallel: int = 4
    resolver: LockResolver = field(default_factory=LockResolver)


@dataclass
class GenerateResult:
    """What a run did."""

    updated: list[str] = field(default_factory=list)
    items_updated: list[str] = field(default_factory=list)  # flows and apps
    failed: list[tuple[str, str]] = field(default_factory=list)
    diagnostics: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    scripts_written: int = 0
    locks_written: int = 0
    dependencies_recorded: int = 0
    seconds: float = 0.0
    lockfile_created: bool = False


@dataclass
class _Outcome:
    item: PlanItem
    state: ScriptState
    metadata: dict[str, Any] | None = None
    main_lock: str | None = None
    module_locks: dict[str, str] = field(default_factory=dict)
    error: str | None = None


def generate(
    root: Path,
    plan: Plan,
    options: GenerateOptions,
    progress: Progress | None = None,
    lock_progress: LockProgress | None = None,
) -> GenerateResult:
    """Regenerate every stale script of ``plan`` and record hashes in wmill-lock.yaml.

    ``progress(i, n, item)`` is called as each script is written; ``lock_progress(done, total)``
    as each lock resolution (main script or module) finishes.
    """
    started = time.perf_counter()
    result = GenerateResult()
    lock = plan.lockfile
    assert lock is not None
    items = [i for i in plan.items if i.kind == "script"]
    outcomes = [_Outcome(item=i, state=plan.states[i.remote_path]) for i in items]
    analyses = _analyze(plan, outcomes, options)
    for outcome in outcomes:
        try:
            _infer_schema(outcome, analyses, options, result)
        except WacError as exc:
            outcome.error = exc.message
    if not options.schema_only:
        _resolve_locks(root, plan, outcomes, analyses, options, lock_progress)
    total = len(outcomes)
    for index, outcome in enumerate(outcomes, 1):
        if progress is not None:
            progress(index, total, outcome.item)
        if outcome.error is not None:
            result.failed.append((outcome.item.local_path, outcome.error))
            continue
        try:
            _commit(root, outcome, result)
        except WacError as exc:
            result.failed.append((outcome.item.local_path, exc.message))
            continue
        lock.remove_script(outcome.item.remote_path)
        lock.update(outcome.state.entries)
        result.updated.append(outcome.item.local_path)
    _regenerate_bundles(plan, options, result)
    for dep in plan.dependencies:
        lock.update({dep.local_path: plan.dependency_hashes[dep.local_path]})
        result.dependencies_recorded += 1
    result.lockfile_created = not lock.existed
    lock.save()
    result.seconds = time.perf_counter() - started
    return result


def _regenerate_bundles(plan: Plan, options: GenerateOptions, result: GenerateResult) -> None:
    """Flows and apps: Python inline locks, then their hashes (--schema-only plans none)."""
    from wac.metadata.bundles import regenerate_bundles

    stale = [plan.bundles[i.local_path] for i in plan.items if i.kind in ("flow", "app")]
    if not stale:
        return
    assert plan.lockfile is not None

    def resolve(code: str) -> str:
        (analysis,) = analyze_many([(code, "inline_script.py", "inline_script", None)], detail="metadata")
        return options.resolver.resolve(list(analysis.requirements))

    done = regenerate_bundles(stale, plan.lockfile, resolve)
    result.items_updated += done.updated
    result.failed += done.failed
    result.warnings += done.warnings
    result.locks_written += done.locks_written


def _python(outcome: _Outcome) -> bool:
    return outcome.state.ref.language == "python3"


def _analyze(plan: Plan, outcomes: list[_Outcome], options: GenerateOptions) -> dict[tuple[str, str], Analysis]:
    """Parse every file the run needs: stale mains, their imports (for locks), changed modules."""
    jobs: dict[tuple[str, str], Job] = {}
    for outcome in outcomes:
        if not _python(outcome):
            continue
        ref = outcome.state.ref
        jobs[("main", ref.remote_path)] = (outcome.state.main_text, ref.local_path, ref.remote_path, _old_schema(outcome))
        if not options.schema_only:
            for key in _modules_to_lock(outcome):
                path = ref.module_paths[key]
                jobs[("module", f"{ref.remote_path}/{key}")] = (
                    ref.modules[key],
                    path.relative_to(ref.repo_root).as_posix(),
                    f"{ref.remote_path}/{key}",
                    None,
                )
    if not options.schema_only:
        # imported workspace scripts contribute their requirements (transitively)
        pending = [k for k in jobs if k[0] == "main"]
        done: dict[tuple[str, str], Analysis] = {}
        while pending:
            batch = {k: jobs[k] for k in pending if k not in done}
            for job_key, analysis in zip(batch, analyze_many(list(batch.values())), strict=True):
                done[job_key] = analysis
            pending = []
            for job_key in batch:
                for target in done[job_key].workspace_imports:
                    state = plan.states.get(target)
                    tkey = ("main", target)
                    if state is None or tkey in done or tkey in jobs or state.ref.language != "python3":
                        continue
                    jobs[tkey] = (state.main_text, state.ref.local_path, target, None)
                    pending.append(tkey)
        rest = {k: v for k, v in jobs.items() if k not in done}
        for job_key, analysis in zip(rest, analyze_many(list(rest.values())), strict=True):
            done[job_key] = analysis
        return done
    return dict(zip(jobs, analyze_many(list(jobs.values()), detail="schema"), strict=True))


def _old_schema(outcome: _Outcome) -> dict[str, Any] | None:
    """The schema in the script's metadata now, which the parser regenerates over."""
    try:
        schema = outcome.state.metadata.get("schema")
    except MetadataError:
        return None  # unreadable metadata is reported when the script's schema is written
    return schema if isinstance(schema, dict) else None


def _modules_to_lock(outcome: _Outcome) -> list[str]:
    ref = outcome.state.ref
    keys = [k for k in outcome.item.stale_modules if k in ref.module_paths]
    return [k for k in keys if _python_module(k)]


def _python_module(key: str) -> bool:
    return key.endswith(".py")


def _infer_schema(
    outcome: _Outcome, analyses: dict[tuple[str, str], Analysis], options: GenerateOptions, result: GenerateResult
) -> None:
    meta = dict(outcome.state.metadata)
    if not _python(outcome):
        result.warnings.append(
            f"{outcome.item.local_path}: wac infers schemas and locks for Python only; hash recorded"
        )
        outcome.metadata = meta
        return
    if options.lock_only:
        outcome.metadata = meta
        return
    analysis = analyses[("main", outcome.item.remote_path)]
    result.diagnostics.extend(analysis.errors + analysis.warnings)
    if analysis.failed:
        outcome.error = "cannot be parsed to infer the schema; previous schema kept: " + analysis.errors[0]
        return
    outcome.metadata = update_metadata(meta, analysis.schema, analysis.has_preprocessor)


def _requirements_of(
    plan: Plan, remote: str, analyses: dict[tuple[str, str], Analysis], root: Path
) -> list[str]:
    """Requirements of a script: its own, its workspace dependency files', its imports' (transitively)."""
    reqs: list[str] = []
    seen: set[str] = set()
    stack = [remote]
    deps = {}
    while stack:
        current = stack.pop(0)
        if current in seen:
            continue
        seen.add(current)
        analysis = analyses.get(("main", current))
        if analysis is None:
            continue
        reqs.extend(analysis.requirements)
        stack.extend(analysis.workspace_imports)
    state = plan.states[remote]
    for dep in dependency_files_of(state.main_text):
        path = root / dep
        if path.is_file():
            deps[dep] = read_text(path)
    for text in deps.values():
        reqs.extend(text.splitlines())
    return reqs


def _resolve_locks(
    root: Path,
    plan: Plan,
    outcomes: list[_Outcome],
    analyses: dict[tuple[str, str], Analysis],
    options: GenerateOptions,
    lock_progress: LockProgress | None = None,
) -> None:
    tasks: list[tuple[_Outcome, str | None, list[str]]] = []
    for outcome in outcomes:
        if outcome.error is not None or not _python(outcome):
            continue
        remote = outcome.item.remote_path
        tasks.append((outcome, None, _requirements_of(plan, remote, analyses, root)))
        for key in _modules_to_lock(outcome):
            analysis = analyses[("module", f"{remote}/{key}")]
            tasks.append((outcome, key, list(analysis.requirements)))

    def run(task: tuple[_Outcome, str | None, list[str]]) -> tuple[str | None, str | None]:
        _, _, reqs = task
        try:
            return options.resolver.resolve(reqs), None
        except WacError as exc:
            return None, exc.message

    with ThreadPoolExecutor(max_workers=max(1, options.parallel)) as pool:
        futures = [pool.submit(run, task) for task in tasks]
        if lock_progress is not None:
            lock_progress(0, len(tasks))
            for done, _ in enumerate(as_completed(futures), 1):
                lock_progress(done, len(tasks))
        answers = [f.result() for f in futures]
    for (outcome, module_key, _), (text, error) in zip(tasks, answers, strict=True):
        if error is not None or text is None:
            where = "" if module_key is None else f"module {module_key}: "
            if outcome.error is None:
                outcome.error = f"{where}Failed to generate lockfile: {error}"
            continue
        if module_key is None:
            outcome.main_lock = text
        else:
            outcome.module_locks[module_key] = text


def _commit(root: Path, outcome: _Outcome, result: GenerateResult) -> None:
    """Write the script's lock files and metadata, then compute its new entries."""
    state = outcome.state
    ref = state.ref
    meta = dict(outcome.metadata or state.metadata)
    writes: list[tuple[Path, str]] = []
    deletes: list[Path] = []
    if outcome.main_lock is not None:
        if outcome.main_lock.strip():
            target = inline_lock_path(root, meta.get("lock"))
            if target is None:
                target = root / ref.default_lock_ref
            meta["lock"] = INLINE_PREFIX + target.relative_to(root).as_posix()
            writes.append((target, outcome.main_lock))
        else:
            target = inline_lock_path(root, meta.get("lock"))
            if target is not None:
                deletes.append(target)
            meta["lock"] = ""
    for key, text in outcome.module_locks.items():
        writes.append((ref.module_lock_path(key), text))
    text = render_metadata(meta, as_json=state.metadata_path.name.endswith(".json"))
    for path, content in writes:
        atomic_write(path, content)
        result.locks_written += 1
    for path in deletes:
        path.unlink(missing_ok=True)
    if text != state.metadata_text or not state.metadata_exists:
        atomic_write(state.metadata_path, text)
        result.scripts_written += 1
    if not state.metadata_exists and outcome.main_lock is None:
        # a new metadata file references its lock file: create it empty, as the CLI does
        target = inline_lock_path(root, meta.get("lock"))
        if target is not None:
            create_exclusive(target, "")
    state.metadata_text = text
    state.metadata = meta
    state.metadata_exists = True
    state.entries = script_entries(ref.remote_path, state.main_text, text, ref.modules)
