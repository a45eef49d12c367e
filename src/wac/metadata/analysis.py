"""Running the parser over many files, in a process pool when there are many."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

# Below this many files a pool costs more than it saves.
POOL_THRESHOLD = 48


@dataclass(frozen=True)
class Analysis:
    """What generate-metadata needs from the parser for one file."""

    schema: dict[str, Any] | None
    has_preprocessor: bool
    requirements: tuple[str, ...]
    workspace_imports: tuple[str, ...]
    errors: tuple[str, ...]
    warnings: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """True when no schema could be inferred because the code does not parse."""
        return self.schema is None and bool(self.errors)


# (source, local path, remote path, the schema now in the script's metadata or None): with an old
# schema the parser regenerates over it, keeping what the user edited (spec §2.1).
Job = tuple[str, str, str, "dict[str, Any] | None"]


def analyze(job: Job, detail: str = "full") -> Analysis:
    """Parse one file with :func:`wac.parser.parse_script`.

    ``detail`` is the parser's: "full" (with workflow diagnostics), "metadata" (schema,
    requirements, imports) or "schema".
    """
    from wac.parser import parse_script

    source, path, remote, old_schema = job
    try:
        info = parse_script(source, path, remote_path=remote, detail=detail)
        schema = info.schema if old_schema is None else info.regenerate_schema(old_schema)
    except Exception as exc:  # the parser must not raise on user code; if it does, fail this file only
        return Analysis(None, False, (), (), (f"{path}:1:1 WAC000 the parser failed: {exc!r}",), ())
    errors = tuple(str(d) for d in info.diagnostics if getattr(d, "severity", "error") == "error")
    warnings = tuple(str(d) for d in info.diagnostics if getattr(d, "severity", "error") != "error")
    return Analysis(
        schema=schema,
        has_preprocessor=bool(info.has_preprocessor),
        requirements=tuple(info.requirements),
        workspace_imports=tuple(info.workspace_imports),
        errors=errors,
        warnings=warnings,
    )


def analyze_many(jobs: list[Job], workers: int | None = None, detail: str = "full") -> list[Analysis]:
    """:func:`analyze` each job, in order; a process pool is used for large batches."""
    one = functools.partial(analyze, detail=detail)
    if len(jobs) < POOL_THRESHOLD:
        return [one(job) for job in jobs]
    workers = workers or os.cpu_count() or 1
    if workers <= 1:
        return [one(job) for job in jobs]
    import multiprocessing
    import threading

    # fork is the cheapest start and safe while this process runs a single thread
    method = "fork" if os.name == "posix" and threading.active_count() == 1 else "spawn"
    ctx = multiprocessing.get_context(method)
    chunk = max(1, len(jobs) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        return list(pool.map(one, jobs, chunksize=chunk))
