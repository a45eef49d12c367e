"""Helpers of the PostgreSQL e2e tests: a server URL, "machines" (worker processes with their own
HOME, cache, config and working directory), and waiting on a store's runs."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import pg_server
from tests.clirun import SRC


def pg_url_or_skip() -> str:
    """A fresh, empty schema on the session's server (a failure in CI, where it must exist)."""
    server = pg_server.server()
    if server is None:
        if os.environ.get("WAC_REQUIRE_POSTGRES"):
            pytest.fail("PostgreSQL binaries are missing in CI (.ci/run installs them)")
        pytest.skip("no PostgreSQL here (install Debian's postgresql or set WAC_TEST_POSTGRES_URL)")
    return server.fresh_url()


def machine_env(tmp_path: Path, name: str, *, copy_workspaces: bool = True) -> dict[str, str]:
    """The environment of another machine: its own HOME, cache, config and working directory
    (``<name>/wd``), with the test's workspaces file copied into its config."""
    home = tmp_path / name
    for sub in ("cache", "config", "wd"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(SRC), "HOME": str(home),
           "XDG_CACHE_HOME": str(home / "cache"), "WAC_CONFIG_DIR": str(home / "config")}
    if copy_workspaces:
        mine = Path(os.environ["WAC_CONFIG_DIR"]) / "workspaces.json"
        (home / "config" / "workspaces.json").write_text(mine.read_text())
    return env


def start_worker(tmp_path: Path, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``wac worker ARGS`` on machine ``name`` (stderr in ``<name>/worker.log``), in a session of
    its own so the test can stop or kill it without touching itself."""
    env = env or machine_env(tmp_path, name)
    home = Path(env["HOME"])
    with open(home / "worker.log", "ab") as log:
        return subprocess.Popen(
            [sys.executable, "-c", "from wac.cli.app import main; main()", "worker", *args],
            cwd=home / "wd", env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)


def worker_log(tmp_path: Path, *names: str) -> str:
    return "".join(f"--- {n}\n" + (tmp_path / n / "worker.log").read_text(errors="replace") for n in names)


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """Ctrl-C every worker still running, then wait (kill after 30 s)."""
    for w in workers:
        if w.poll() is None:
            w.send_signal(signal.SIGINT)
    for w in workers:
        try:
            w.wait(30)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()


def process_tree(pid: int) -> list[int]:
    """``pid`` and every process descending from it (from /proc), parents first."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def wait_until(what: str, check: Callable[[], bool], timeout: float,
               logs: Callable[[], str] | None = None) -> None:
    """Poll ``check()`` until it is true; fail naming ``what`` (and ``logs()``) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            extra = logs() if logs is not None else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{extra}")
        time.sleep(0.2)
