"""Run workflows on a real embedded engine in-process: real SQLite file, real zygote and rounds."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from wac.engine.bundle import Bundle, build_bundle
from wac.engine.local_backend import LocalBackend as LocalWorkspace, open_local
from wac.engine.store.base import JobSpec
from wac.engine.worker import Worker, WorkerConfig
from wac.project import resolve_script


def bundle_of(root: Path, rel: str) -> tuple[str, Bundle]:
    """The remote path and pinned bundle of the script at ``rel``, found as the CLI finds it."""
    ref = resolve_script(root, root / rel)
    modules = {ref.module_paths[k].relative_to(ref.repo_root).as_posix(): t for k, t in ref.modules.items()}
    return ref.remote_path, build_bundle(ref.repo_root, ref.main_file, ref.module_dir, modules)


def submit(ws: LocalWorkspace, rel: str, args: dict[str, Any] | None = None) -> str:
    script_path, bundle = bundle_of(ws.root, rel)
    ws.store.put_bundle(bundle.hash, bundle.files)
    return ws.store.submit(JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=args or {},
                                   script_path=script_path))


@contextmanager
def workers(ws: LocalWorkspace, *configs: WorkerConfig) -> Iterator[list[Worker]]:
    started = [Worker(ws.store, ws.state_dir, c) for c in configs]
    for w in started:
        w.start()
    try:
        yield started
    finally:
        for w in started:
            w.stop()


@contextmanager
def workspace(repo: Path) -> Iterator[LocalWorkspace]:
    ws = open_local(repo)
    try:
        yield ws
    finally:
        ws.close()


def wait_for(predicate: Callable[[], object], timeout: float = 60.0) -> None:
    """Poll ``predicate`` every 10 ms until it is true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)
