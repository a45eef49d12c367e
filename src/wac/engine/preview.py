"""Submitting a preview: bundle the local file, submit it, and start in-process workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wac.engine.bundle import build_bundle, remote_path, resolve_main_file
from wac.engine.local import LocalWorkspace, open_local
from wac.engine.store.base import JobSpec
from wac.engine.worker import Worker, WorkerConfig


@dataclass(frozen=True)
class PreviewRequest:
    path: str
    args: dict[str, Any] = field(default_factory=dict)
    skip_sleeps: bool = False
    workers: int = 4
    real_wmill: bool = False


@dataclass
class PreviewRun:
    workspace: LocalWorkspace
    job_id: str
    worker: Worker


def submit_preview(request: PreviewRequest, start: Path | None = None) -> PreviewRun:
    """Pin the local code in a bundle, submit it as a preview job, and start workers for it."""
    workspace = open_local(start)
    config = WorkerConfig(slots=request.workers, skip_sleeps=request.skip_sleeps, real_wmill=request.real_wmill)
    worker = Worker(workspace.store, workspace.state_dir, config)
    worker.zygote.start()  # the zygote warms up while the bundle is built
    try:
        main_file = resolve_main_file(workspace.root, request.path)
        bundle = build_bundle(workspace.root, main_file)
        store = workspace.store
        store.put_bundle(bundle.hash, bundle.files)
        job_id = store.submit(
            JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=request.args,
                    script_path=remote_path(bundle.entry), preview=True)
        )
    except BaseException:
        worker.zygote.stop()
        workspace.close()
        raise
    worker.start()
    return PreviewRun(workspace=workspace, job_id=job_id, worker=worker)
