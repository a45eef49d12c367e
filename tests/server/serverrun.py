"""Helpers of the server tests: the real `wac server` and a real preview run waiting for approval,
each in its own subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.clirun import SRC, wac

GATE = """
    import json
    from wac import get_resume_urls, parallel, sleep, step, task, wait_for_approval, workflow

    FORM = {
        "type": "object",
        "properties": {
            "amount": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 10,
                       "description": "How much to refund"},
            "tier": {"type": "string", "enum": ["gold", "silver"]},
            "urgent": {"type": "boolean"},
            "note": {"type": "string"},
        },
        "required": ["amount", "tier"],
    }

    @task
    def square(x: int) -> int:
        return x * x

    @task
    def notify(links: str) -> str:
        print("LINKS", links)
        return "sent"

    @workflow
    async def main(customer: str = "ada", n: int = 3):
        squares = await parallel(range(n), square)
        links = await step("links", lambda: {"any": get_resume_urls(), "alice": get_resume_urls("alice")})
        await notify(json.dumps(links))
        await sleep(1)
        decision = await wait_for_approval(timeout=600, form=FORM, description="Refund for " + customer)
        return {"squares": squares, "decision": decision}
"""


@dataclass
class Server:
    proc: subprocess.Popen[str]
    url: str
    token: str
    log: Path
    log_handle: object = None

    def stop(self) -> str:
        """Stop it (SIGINT, as Ctrl-C) and return what it wrote on stderr (its log)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        if self.log_handle is not None:
            self.log_handle.close()  # type: ignore[attr-defined]
        return self.log.read_text()


def env_for(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC), "NO_COLOR": "1", **(extra or {})}


def start_server(repo: Path, *args: str) -> Server:
    token_file = repo / "server.token"
    log = repo / "server.log"
    handle = log.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wac.cli.app import main; main()", "server", "--port", "0",
         "--token-file", str(token_file), *args],
        cwd=repo, env=env_for(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=handle, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("listening http://127.0.0.1:"), (line, log.read_text())
    proc.stdout.readline()  # the login line
    return Server(proc, line.split()[1], token_file.read_text().strip(), log, handle)


@dataclass
class Run:
    proc: subprocess.Popen[str]
    job_id: str
    links: dict[str, dict[str, str]]

    def finish(self) -> tuple[int, str, str]:
        try:
            out, err = self.proc.communicate(timeout=60)
        finally:
            self.kill()
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)


def start_gate(repo: Path, base_url: str | None, args: dict[str, object] | None = None) -> Run:
    """Preview the gate workflow in the background and wait until it waits for its approval."""
    gate = repo / "f" / "s" / "gate.py"
    if not gate.exists():
        import textwrap

        gate.parent.mkdir(parents=True, exist_ok=True)
        gate.write_text(textwrap.dedent(GATE).lstrip("\n"))
    extra = {"WAC_BASE_URL": base_url} if base_url else {}
    env = env_for(extra)
    if not base_url:
        env.pop("WAC_BASE_URL", None)
        env.pop("WM_BASE_URL", None)
    before = {j["id"] for j in wac("job", "list", "--json", "--limit", "100", cwd=repo).json()}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wac.cli.app import main; main()", "script", "preview", "f/s/gate.py",
         "-d", json.dumps(args or {"customer": "ada", "n": 3})],
        cwd=repo, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        jobs = [j for j in wac("job", "list", "--json", "--limit", "100", cwd=repo).json() if j["id"] not in before]
        if jobs and jobs[0]["status"] == "suspended":
            logs = wac("job", "logs", jobs[0]["id"], cwd=repo).stdout
            found = [ln.split(" ", 1)[1] for ln in logs.splitlines() if ln.startswith("LINKS ")]
            return Run(proc, jobs[0]["id"], json.loads(found[0]))
        if proc.poll() is not None:
            raise AssertionError(f"the preview ended early: {proc.communicate(timeout=30)}")
        time.sleep(0.2)
    proc.kill()
    proc.communicate(timeout=30)
    raise AssertionError("the run never waited for its approval")
