"""What a worker tells a round: the :class:`~wac.engine.rounds.spec.RoundSpec` of a claim.

Built from the claim (a direct child's own args, a replaying child's parent's args and steps),
the worker's settings (:class:`~wac.engine.workerconfig.WorkerConfig`) and the job: its WM_*
variables as Windmill sets them, and, for a preview and its children, where the client reads the
repo's object files first.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from wac.engine import approvals
from wac.engine.rounds.spec import RoundSpec
from wac.engine.store.base import Claim, Job, Store
from wac.errors import WacError

if TYPE_CHECKING:
    from wac.engine.bundle import Manifest
    from wac.engine.workerconfig import WorkerConfig


def round_spec(store: Store, config: WorkerConfig, claim: Claim, bundle_dir: Path, manifest: Manifest,
               user: str) -> RoundSpec:
    """What the round of ``claim`` is told (:class:`RoundSpec`)."""
    job, token = claim.job, claim.token
    # A @task child replays its parent's body up to the call: the claim carries the parent's
    # args and results for it. A direct child (job.options.direct) calls its task with its
    # own args; its round reads the parent's from the store only if it must replay after all.
    args = claim.parent_args if claim.parent_args is not None else job.args
    direct = job.options.direct if job.executing_key is not None and job.parent_id else None
    direct_children = config.direct_children and not config.real_wmill
    spec = RoundSpec(
        job_id=job.id, bundle_dir=str(bundle_dir), entry=job.entry, mod_dir=manifest.module_dir,
        args=args, checkpoint=claim.checkpoint(), store_url=store.url,
        token=[token.job_id, token.attempt, token.worker_id], workspace=config.workspace,
        cwd=os.getcwd(), env=job_env(store, config, job, user), script_path=job.script_path, root_id=job.root_id,
        parent_id=job.parent_id, lease_s=config.lease_s, slots=config.slots,
        fast_path=config.fast_path, real_wmill=config.real_wmill,
        base_url=approvals.base_url_from_env(), direct_children=direct_children,
        sticky=(config.sticky_parents and config.sticky_max > 0 and not config.real_wmill
                and job.executing_key is None),
        direct=direct, warm=bool(direct and direct_children and config.warm_tasks),
    )
    if in_preview(store, config, job):  # a preview's client reads the repo's object files first
        spec.repo_root, spec.objects_workspace = config.repo_root, config.objects_workspace
    return spec


def in_preview(store: Store, config: WorkerConfig, job: Job) -> bool:
    """A preview job, or a child of one (children read the repo's object files too)."""
    if config.repo_root is None and config.objects_workspace is None:
        return False  # nothing to read first: no need to know
    if job.preview or job.root_id == job.id:
        return job.preview
    try:
        return store.get_job(job.root_id).preview
    except WacError:
        return False


def job_env(store: Store, config: WorkerConfig, job: Job, user: str) -> dict[str, str]:
    """The WM_* variables Windmill sets for a job, with their meaning here (docs/reference/client.md)."""
    if config.real_wmill:  # the real package would call a Windmill server with these
        return {"WAC_JOB_ID": job.id, "WAC_ROOT_JOB_ID": job.root_id, "WM_JOB_ID": ""}
    return {"WAC_JOB_ID": job.id, "WAC_ROOT_JOB_ID": job.root_id, "WM_JOB_ID": job.id,
           "WM_WORKSPACE": config.workspace, "WM_ROOT_FLOW_JOB_ID": job.root_id,
           "WM_FLOW_JOB_ID": job.parent_id or "", "WM_JOB_PATH": job.script_path,
           "WM_OBJECT_PATH": job.script_path, "WM_STATE_PATH": job.script_path,
           "WM_STATE_PATH_NEW": job.script_path, "WM_BASE_URL": _no_password(store.url),
           "WM_USERNAME": user, "WM_EMAIL": f"{user}@localhost", "WM_PERMISSIONED_AS": f"u/{user}",
           "WM_WORKER_GROUP": "default", "WM_FLOW_STEP_ID": job.parent_key or ""}


def _no_password(url: str) -> str:
    """A store URL as user code may see it: never with a PostgreSQL password."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(":" + parts.password + "@", "@", 1)).geturl()
