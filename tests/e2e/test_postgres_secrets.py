"""A secret set on one machine is read by a worker on another: a PostgreSQL workspace seals its
secrets with the key in its database, not the key file in one user's config folder (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clirun import Result, wac
from tests.e2e.postgres_machines import machine_env, pg_url_or_skip, start_worker, stop_workers, wait_until, worker_log
from tests.sync.conftest import new_repo, put
from wac.engine.store import open_store

pytestmark = pytest.mark.slow

READER = ('import wmill\n\ndef main():\n'
          '    return [wmill.get_variable("f/demo/token")[::-1], wmill.get_variable("f/demo/pushed")[::-1]]\n')


def _on(env: dict[str, str], repo: Path, *args: str, code: int | None = 0) -> Result:
    own = {k: env[k] for k in ("HOME", "XDG_CACHE_HOME", "WAC_CONFIG_DIR")}
    return wac(*args, cwd=repo, env=own, code=code)


def test_a_worker_on_another_machine_reads_a_secret_variable_set_and_pushed_from_the_cli_machine(
    tmp_path: Path, request: pytest.FixtureRequest,
) -> None:
    url = pg_url_or_skip()
    a_env = machine_env(tmp_path, "a", copy_workspaces=False)
    b_env = machine_env(tmp_path, "b", copy_workspaces=False)
    a = new_repo(tmp_path / "a" / "repo")
    put(a, "f/demo/reader.py", READER)
    wmill = (a / "wmill.yaml").read_text()
    (a / "wmill.yaml").write_text(wmill.replace("skipSecrets: true", "skipSecrets: false")
                                  if "skipSecrets" in wmill else wmill + "skipSecrets: false\n")
    put(a, "f/demo/pushed.variable.yaml", "description: ''\nvalue: pushed-secret-42\nis_secret: true\n")
    _on(a_env, a, "workspace", "add", "prod", url, "--switch")
    _on(b_env, Path(b_env["HOME"]) / "wd", "workspace", "add", "prod", url, "--switch")
    assert "+ variable f/demo/pushed" in _on(a_env, a, "sync", "push", "--yes").stdout
    _on(a_env, a, "variable", "set", "f/demo/token", "tok-s3cret-value", "--secret")
    job_id = _on(a_env, a, "script", "run", "f/demo/reader", "--no-wait").stdout.strip()
    store = open_store(url, migrate=False)
    request.addfinalizer(store.close)
    for rec in store.list_objects("variable"):
        assert rec.is_secret and "s3cret" not in rec.value and "pushed-secret" not in rec.value
    worker = start_worker(tmp_path, "b", "-c", "1", env=b_env)
    try:
        wait_until("the run to finish", lambda: store.get_job(job_id).status in ("succeeded", "failed"), 120,
                   lambda: worker_log(tmp_path, "b"))
    finally:
        stop_workers([worker])
    job = store.get_job(job_id)
    assert job.status == "succeeded", (job.error, [ln.text for ln in store.read_logs(job_id)], worker_log(tmp_path, "b"))
    assert job.result == ["eulav-terc3s-kot", "24-terces-dehsup"]
    assert job.worker_id is not None and f":{worker.pid}:" in job.worker_id
    # Neither machine needed a key file of its own: the key is the workspace's, in its database.
    assert not (Path(b_env["WAC_CONFIG_DIR"]) / "secret.key").exists()
    assert not (Path(a_env["WAC_CONFIG_DIR"]) / "secret.key").exists()
    shown = _on(b_env, Path(b_env["HOME"]) / "wd", "variable", "list")
    assert "f/demo/token" in shown.stdout and "s3cret" not in shown.stdout
