"""A PostgreSQL workspace through the real CLI: add it, push, run, list, workers on "other
machines" (own HOME and cache, TCP), and the errors of a wrong URL, password or database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest

from tests import pg_server
from tests.clirun import SRC, wac
from tests.e2e.postgres_machines import pg_url_or_skip, stop_workers

Write = Callable[[str, str], Path]
pytestmark = pytest.mark.slow


@pytest.fixture
def pg_url() -> str:
    return pg_url_or_skip()


def _machine(tmp_path: Path, name: str) -> dict[str, str]:
    """The environment of another machine: its own HOME, cache and config."""
    home = tmp_path / name
    (home / "cache").mkdir(parents=True)
    (home / "config").mkdir()
    return {"HOME": str(home), "XDG_CACHE_HOME": str(home / "cache"), "WAC_CONFIG_DIR": str(home / "config")}


def test_a_postgresql_workspace_runs_scripts_pushed_from_another_repo_and_never_shows_its_password(
    tmp_path: Path, repo: Path, write: Write, pg_url: str,
) -> None:
    added = wac("workspace", "add", "prod", pg_url, "--switch", cwd=repo)
    assert "postgres" in added.stderr
    write("f/demo/greet.py", 'def main(name: str = "x"):\n    return "hi " + name\n')
    pushed = wac("script", "push", "f/demo/greet.py", cwd=repo)
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "wmill.yaml").write_text("{}\n")
    ran = wac("script", "run", "f/demo/greet", "-d", '{"name": "bo"}', cwd=other)
    assert ran.json() == "hi bo"
    assert not (other / ".wac").exists()  # nothing of the run lives on this machine's disk
    listed = wac("script", "list", "--json", cwd=other)
    assert [s["path"] for s in listed.json()] == ["f/demo/greet"]
    jobs = wac("job", "list", "--json", cwd=other).json()
    assert len(jobs) == 1 and jobs[0]["status"] in ("succeeded", "done", "success")
    shown = wac("workspace", "list", cwd=repo)
    everything = "".join(r.stdout + r.stderr for r in (added, pushed, ran, listed, shown))
    assert pg_server.PASSWORD not in everything
    assert "postgres" in shown.stdout


def test_workers_on_other_machines_run_the_jobs_of_a_postgresql_workspace(
    tmp_path: Path, repo: Path, write: Write, pg_url: str,
) -> None:
    wac("workspace", "add", "prod", pg_url, "--switch", cwd=repo)
    write("f/demo/fan.py", """
        from wmill import task, workflow

        @task
        def square(i: int) -> int:
            return i * i

        @workflow
        async def main(n: int = 5):
            import asyncio
            return sum(await asyncio.gather(*[square(i) for i in range(n)]))
    """)
    wac("script", "push", "f/demo/fan.py", cwd=repo)
    ids = [wac("script", "run", "f/demo/fan", "-d", f'{{"n": {n}}}', "--no-wait", cwd=repo).stdout.strip()
           for n in (3, 4, 5, 6)]
    workers = []
    for k in range(2):
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC), **_machine(tmp_path, f"m{k}")}
        cfg = Path(env["WAC_CONFIG_DIR"])
        (cfg / "workspaces.json").write_text(
            (Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json").read_text())
        cwd = tmp_path / f"m{k}" / "wd"
        cwd.mkdir()
        with open(tmp_path / f"m{k}" / "worker.log", "w") as log:
            workers.append(subprocess.Popen(
                [sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "-c", "2"],
                cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log))
    try:
        deadline = time.monotonic() + 90
        results = {}
        while time.monotonic() < deadline and len(results) < len(ids):
            for job_id in ids:
                got = wac("job", "get", job_id, "--json", cwd=repo).json()
                if got["status"] in ("succeeded", "failed", "cancelled"):
                    results[job_id] = got
            time.sleep(0.3)
    finally:
        for w in workers:
            w.send_signal(signal.SIGINT)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
    logs = "".join((tmp_path / f"m{k}" / "worker.log").read_text() for k in range(2))
    assert len(results) == len(ids), logs
    assert [results[i]["result"] for i in ids] == [sum(i * i for i in range(n)) for n in (3, 4, 5, 6)], logs
    assert pg_server.PASSWORD not in logs


def test_an_unreachable_server_exits_7_naming_the_host(repo: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    res = wac("workspace", "add", "prod", f"postgresql://u:SECRETPW@127.0.0.1:{port}/db", cwd=repo, code=7)
    assert f"127.0.0.1:{port}" in res.stderr and "SECRETPW" not in res.stderr
    assert res.stderr.startswith("error:")


def test_a_wrong_password_exits_3_and_is_never_printed(repo: Path, pg_url: str) -> None:
    bad = pg_url.replace(quote(pg_server.PASSWORD), "WRONGPW")
    res = wac("workspace", "add", "prod", bad, cwd=repo, code=3)
    assert "WRONGPW" not in res.stderr and "password" in res.stderr


def test_a_database_that_is_not_wacs_is_refused_with_exit_5_and_left_alone(repo: Path, pg_url: str) -> None:
    import psycopg

    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int)")
    res = wac("workspace", "add", "prod", pg_url, cwd=repo, code=5)
    assert "not a wac store" in res.stderr and "hint:" in res.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
    assert tables == ["customers"]


def test_a_store_of_a_newer_schema_is_refused_with_exit_5_and_not_altered(repo: Path, pg_url: str) -> None:
    import psycopg

    wac("workspace", "add", "prod", pg_url, "--switch", cwd=repo)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO wac_schema (version) VALUES (999)")
        before = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
    res = wac("script", "list", cwd=repo, code=5)
    assert "newer than this wac" in res.stderr and "upgrade wac" in res.stderr
    with psycopg.connect(pg_url, autocommit=True) as conn:
        assert conn.execute("SELECT max(version) FROM wac_schema").fetchone()[0] == 999
        after = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone()
    assert before == after


def test_four_worker_machines_finish_every_fan_out_once_even_when_one_is_killed(
    tmp_path: Path, repo: Path, write: Write, pg_url: str,
) -> None:
    """"Machines": 4 worker processes, each with its own HOME, cache and working directory,
    over TCP; runs × fan-outs submitted while they work; one worker is killed with SIGKILL.
    Every result is right, no run is lost, and no finished task body runs twice."""
    marks = tmp_path / "marks"
    marks.mkdir()
    wac("workspace", "add", "prod", pg_url, "--switch", cwd=repo)
    write("f/demo/fan.py", f"""
        import os
        from wmill import task, workflow

        @task
        def square(run: int, i: int) -> int:
            name = os.path.join({str(marks)!r}, f"{{run}}-{{i}}")
            fd = os.open(name if not os.path.exists(name) else name + ".again." + str(os.getpid()),
                         os.O_CREAT | os.O_WRONLY)
            os.close(fd)
            return i * i

        @workflow
        async def main(run: int, n: int = 10):
            import asyncio
            return sum(await asyncio.gather(*[square(run, i) for i in range(n)]))
    """)
    wac("script", "push", "f/demo/fan.py", cwd=repo)
    workers = []
    for k in range(4):
        env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC), **_machine(tmp_path, f"m{k}")}
        (Path(env["WAC_CONFIG_DIR"]) / "workspaces.json").write_text(
            (Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json").read_text())
        cwd = tmp_path / f"m{k}" / "wd"
        cwd.mkdir()
        with open(tmp_path / f"m{k}" / "worker.log", "w") as log:
            workers.append(subprocess.Popen(
                [sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "-c", "2", "--lease", "3"],
                cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log))
    runs = 12
    ids = []
    try:
        for run in range(runs):
            ids.append(wac("script", "run", "f/demo/fan", "-d", f'{{"run": {run}}}', "--no-wait", cwd=repo).stdout.strip())
            if run == runs // 2:
                workers[0].kill()  # SIGKILL mid-run: its claims expire and are taken over
        deadline = time.monotonic() + 150
        results: dict[str, dict] = {}
        while time.monotonic() < deadline and len(results) < runs:
            for job_id in ids:
                if job_id not in results:
                    got = wac("job", "get", job_id, "--json", cwd=repo).json()
                    if got["status"] in ("succeeded", "failed", "cancelled"):
                        results[job_id] = got
            time.sleep(0.5)
    finally:
        for w in workers[1:]:
            w.send_signal(signal.SIGINT)
        for w in workers:
            try:
                w.wait(30)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
    logs = "".join((tmp_path / f"m{k}" / "worker.log").read_text() for k in range(4))
    assert len(results) == runs, logs
    assert [results[i]["result"] for i in ids] == [sum(i * i for i in range(10))] * runs, logs
    firsts = [p for p in marks.iterdir() if ".again." not in p.name]
    again = [p for p in marks.iterdir() if ".again." in p.name]
    assert len(firsts) == runs * 10
    assert len(again) <= 2  # only what the killed worker (2 slots) had in flight may run again
    assert pg_server.PASSWORD not in logs


def test_a_server_restarted_mid_run_is_survived_by_the_worker_and_the_waiting_run(
    tmp_path: Path, repo: Path, write: Write, pg_url: str,
) -> None:
    server = pg_server.server()
    assert server is not None
    if server.pg_ctl is None:
        pytest.skip("the server is not ours to restart (WAC_TEST_POSTGRES_URL)")
    wac("workspace", "add", "prod", pg_url, "--switch", cwd=repo)
    write("f/demo/slow.py", """
        import time
        from wmill import task, workflow

        @task
        def nap(i: int) -> int:
            time.sleep(1.5)
            return i

        @workflow
        async def main():
            a = await nap(1)
            b = await nap(2)
            return a + b
    """)
    wac("script", "push", "f/demo/slow.py", cwd=repo)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC)}
    with open(tmp_path / "worker.log", "w") as wlog, open(tmp_path / "run.log", "w") as rlog:
        worker = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "worker", "-c", "2"],
                                  cwd=repo, env=env, stdout=subprocess.DEVNULL, stderr=wlog)
        run = subprocess.Popen([sys.executable, "-c", "from wac.cli.app import main; main()", "script", "run",
                                "f/demo/slow", "--workers", "1"],
                               cwd=repo, env=env, stdout=subprocess.PIPE, stderr=rlog, text=True)
        try:
            time.sleep(2.0)
            server.restart_immediate()
            out, _ = run.communicate(timeout=120)
        finally:
            stop_workers([worker])
            if run.poll() is None:
                run.kill()
                run.wait()
    errs = (tmp_path / "run.log").read_text() + (tmp_path / "worker.log").read_text()
    assert run.returncode == 0, errs
    assert out.strip() == "3", errs
    assert errs.count("lost PostgreSQL") <= 4, errs  # one line per outage and process, not a flood


def _no_saved_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


def test_a_password_the_server_asks_for_is_prompted_hidden_on_a_terminal_and_kept_in_the_0600_config(
    tmp_path: Path, repo: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server wants a password (scram-sha-256 over TCP) and none is in the URL, PGPASSWORD
    or ~/.pgpass: `workspace add` asks for it on the terminal without echoing it (a wrong one is
    asked again), and keeps it in the user config file (mode 0600); it is never printed."""
    from tests.clirun import wac_on_terminal

    _no_saved_password(monkeypatch, tmp_path)
    bare = pg_url.replace(":" + quote(pg_server.PASSWORD) + "@", "@")
    assert pg_server.PASSWORD not in bare
    code, screen = wac_on_terminal(
        "workspace", "add", "prod", bare, "--switch", cwd=repo, answer=b"not-it\r", when=b"password for wac at",
        then=[(b"password for wac at", pg_server.PASSWORD.encode() + b"\r")], timeout=60)
    assert code == 0, screen
    assert "wrong password; try again" in screen and "added workspace 'prod'" in screen
    assert pg_server.PASSWORD not in screen and "not-it" not in screen  # never echoed, never printed
    config = Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json"
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    assert quote(pg_server.PASSWORD) in config.read_text()
    listed = wac("script", "list", cwd=repo)  # later commands log in with the kept password
    shown = wac("workspace", "list", cwd=repo)
    assert pg_server.PASSWORD not in listed.stdout + listed.stderr + shown.stdout + shown.stderr


def test_without_a_terminal_a_password_the_server_asks_for_is_refused_with_exit_3_and_a_hint(
    tmp_path: Path, repo: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _no_saved_password(monkeypatch, tmp_path)
    bare = pg_url.replace(":" + quote(pg_server.PASSWORD) + "@", "@")
    res = wac("workspace", "add", "prod", bare, cwd=repo, code=3)
    assert "no password supplied" in res.stderr and "PGPASSWORD" in res.stderr and "~/.pgpass" in res.stderr
    assert not (Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json").exists() or \
        "prod" not in (Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json").read_text()
    monkeypatch.setenv("PGPASSWORD", pg_server.PASSWORD)  # the password from the environment
    added = wac("workspace", "add", "prod", bare, cwd=repo)
    assert pg_server.PASSWORD not in added.stderr
    assert pg_server.PASSWORD not in (Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json").read_text()
