"""Run workflows on a real embedded engine in-process: real SQLite file, real zygote and rounds."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from wac.engine.bundle import build_bundle, remote_path
from wac.engine.local import LocalWorkspace, open_local
from wac.engine.store.base import JobSpec
from wac.engine.worker import Worker, WorkerConfig


def submit(ws: LocalWorkspace, rel: str, args: dict[str, Any] | None = None) -> str:
    bundle = build_bundle(ws.root, ws.root / rel)
    ws.store.put_bundle(bundle.hash, bundle.files)
    return ws.store.submit(JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=args or {},
                                   script_path=remote_path(bundle.entry)))


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
