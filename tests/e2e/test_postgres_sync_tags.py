"""A PostgreSQL workspace shared by machines that each have their own HOME and config: `wac sync
push` from one and `wac sync pull` on another, and `wac worker --tag T` taking only its jobs."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import Result, wac
from tests.e2e.postgres_machines import (
    machine_env,
    pg_url_or_skip,
    start_worker,
    stop_workers,
    wait_until,
    worker_log,
)
from tests.sync.conftest import new_repo, put
from wac.engine.store import open_store

pytestmark = pytest.mark.slow

OBJECTS = {
    "f/demo/api.variable.yaml": "description: The API base\nvalue: https://api.example.com\nis_secret: false\n",
    "f/demo/db.resource.yaml": "description: ''\nvalue:\n  host: db.internal\n  port: 5432\nresource_type: pg\n",
    "pg.resource-type.yaml": ("description: A small PostgreSQL\nschema:\n  type: object\n  properties:\n    host:\n"
                              "      type: string\n  required:\n    - host\n"),
}
HELLO = 'import wmill\n\ndef main(name: str = "x"):\n    return wmill.get_variable("f/demo/api") + "/" + name\n'


def _on(env: dict[str, str], repo: Path, *args: str, code: int | None = 0) -> Result:
    own = {k: env[k] for k in ("HOME", "XDG_CACHE_HOME", "WAC_CONFIG_DIR")}
    return wac(*args, cwd=repo, env=own, code=code)


def test_sync_push_on_one_machine_and_pull_on_another_through_a_postgresql_workspace(tmp_path: Path) -> None:
    url = pg_url_or_skip()
    a_env = machine_env(tmp_path, "a", copy_workspaces=False)
    b_env = machine_env(tmp_path, "b", copy_workspaces=False)
    a, b = new_repo(tmp_path / "a" / "repo"), new_repo(tmp_path / "b" / "repo")
    for rel, text in OBJECTS.items():
        put(a, rel, text)
    put(a, "f/demo/hello.py", HELLO)
    for env, repo in ((a_env, a), (b_env, b)):
        _on(env, repo, "workspace", "add", "prod", url, "--switch")
    pushed = _on(a_env, a, "sync", "push", "--yes")
    assert "+ variable f/demo/api" in pushed.stdout and "f/demo/hello" in pushed.stdout
    _on(b_env, b, "sync", "pull", "--yes")
    for rel, text in {**OBJECTS, "f/demo/hello.py": HELLO}.items():
        assert (b / rel).read_text() == text, rel
    ran = _on(b_env, b, "script", "run", "f/demo/hello", "-d", '{"name": "b"}')
    assert ran.json() == "https://api.example.com/b"
    # A change made on b comes back to a.
    put(b, "f/demo/api.variable.yaml", OBJECTS["f/demo/api.variable.yaml"].replace("api.example", "v2.example"))
    assert "~ variable f/demo/api" in _on(b_env, b, "sync", "push", "--yes").stdout
    assert "~ variable f/demo/api" in _on(a_env, a, "sync", "pull", "--yes").stdout
    assert "v2.example" in (a / "f/demo/api.variable.yaml").read_text()
    assert "Nothing to push" in _on(a_env, a, "sync", "push", "--yes").stderr
    assert not (a / ".wac" / "wac.db").exists() and not (b / ".wac" / "wac.db").exists()  # all in the database


TAGGED = """
    import os
    from wmill import task, workflow

    @task(tag="gpu")
    def heavy() -> str:
        return os.environ["HOME"]

    @task
    def light() -> str:
        return os.environ["HOME"]

    @workflow
    async def main():
        return [await light(), await heavy()]
"""


def test_a_tagged_task_waits_for_and_runs_only_on_the_worker_started_with_that_tag(
    tmp_path: Path, repo: Path, write: Callable[[str, str], Path], request: pytest.FixtureRequest,
) -> None:
    url = pg_url_or_skip()
    wac("workspace", "add", "prod", url, "--switch", cwd=repo)
    write("f/demo/tagged.py", TAGGED)
    wac("script", "push", "f/demo/tagged.py", cwd=repo)
    job_id = wac("script", "run", "f/demo/tagged", "--no-wait", cwd=repo).stdout.strip()
    store = open_store(url, migrate=False)
    request.addfinalizer(store.close)  # also when the test fails
    plain = start_worker(tmp_path, "plain", "-c", "2")  # takes the default tag only
    workers = [plain]

    def heavy_state() -> str | None:
        kids = {c.name: c.status for c in store.children(job_id)}
        return kids.get("heavy") if kids.get("light") == "succeeded" else None

    try:
        wait_until("the light task to finish and the heavy one to be queued",
                   lambda: heavy_state() == "queued", 120, lambda: worker_log(tmp_path, "plain"))
        time.sleep(2.0)  # the default worker keeps polling and waking; the gpu task must stay put
        assert heavy_state() == "queued" and store.get_job(job_id).status == "waiting"
        workers.append(start_worker(tmp_path, "gpu", "-c", "1", "--tag", "gpu"))
        wait_until("the run to finish", lambda: store.get_job(job_id).status == "succeeded", 120,
                   lambda: worker_log(tmp_path, "plain", "gpu"))
    finally:
        stop_workers(workers)
    assert store.get_job(job_id).result == [str(tmp_path / "plain"), str(tmp_path / "gpu")]
    heavy = next(c for c in store.children(job_id) if c.name == "heavy")
    assert heavy.worker_id is not None and f":{workers[1].pid}:" in heavy.worker_id
