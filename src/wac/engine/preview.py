"""Starting a preview: submit a pinned bundle and start in-process workers for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from wac.engine.bundle import Bundle
from wac.engine.local import LocalWorkspace
from wac.engine.store.base import JobSpec
from wac.engine.worker import Worker, WorkerConfig


@dataclass
class PreviewRun:
    workspace: LocalWorkspace
    job_id: str
    worker: Worker


def start_preview(
    workspace: LocalWorkspace, bundle: Bundle, script_path: str, args: dict[str, Any], config: WorkerConfig,
    before_submit: Callable[[], None] | None = None,
) -> PreviewRun:
    """Store the bundle, submit it as a preview job, and start workers (zygote first: it warms up
    while the job is written). ``before_submit`` may refuse the run by raising."""
    worker = Worker(workspace.store, workspace.state_dir, config)
    worker.zygote.start()
    try:
        store = workspace.store
        store.put_bundle(bundle.hash, bundle.files)
        if before_submit is not None:
            before_submit()
        job_id = store.submit(
            JobSpec(bundle_hash=bundle.hash, entry=bundle.entry, args=args, script_path=script_path, preview=True)
        )
    except BaseException:
        worker.zygote.stop()
        raise
    worker.start()
    return PreviewRun(workspace=workspace, job_id=job_id, worker=worker)
