"""A real PostgreSQL server for the tests, started once per session.

``WAC_TEST_POSTGRES_URL`` (a superuser URL) points the tests at an existing server. Otherwise
Debian's binaries (``initdb``/``pg_ctl``, installed by ``.ci/run``) start a throwaway cluster in a
temp dir on a free port, as ``nobody`` when running as root (PostgreSQL refuses root). Without
either, PostgreSQL tests skip (never in CI: ``.ci/run`` installs the binaries).

Each test gets a schema of its own (``?options=-csearch_path=…`` in its URL): a fresh, empty
wac store that other processes open by the same URL.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from urllib.parse import quote

PASSWORD = "wac-test-pw"
_server: PgServer | None = None


def _find(binary: str) -> str | None:
    found = shutil.which(binary)
    if found:
        return found
    for version in ("17", "16", "15", "14", "13"):
        path = f"/usr/lib/postgresql/{version}/bin/{binary}"
        if os.path.exists(path):
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgServer:
    """A throwaway cluster (or an existing server): ``base`` is a superuser URL without db."""

    def __init__(self) -> None:
        self.dir: str | None = None
        self.pg_ctl: str | None = None
        self.user_prefix: list[str] = []
        existing = os.environ.get("WAC_TEST_POSTGRES_URL")
        if existing:
            self.url = existing
            return
        initdb, pg_ctl = _find("initdb"), _find("pg_ctl")
        if not initdb or not pg_ctl:
            raise FileNotFoundError("initdb/pg_ctl not found")
        self.pg_ctl = pg_ctl
        self.dir = tempfile.mkdtemp(prefix="wac-pg-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            subprocess.run(["chown", "nobody", self.dir], check=True)
            self.user_prefix = ["runuser", "-u", "nobody", "--"]
        data = os.path.join(self.dir, "data")
        pwfile = os.path.join(self.dir, "pw")
        with open(pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        os.chmod(pwfile, 0o644)
        subprocess.run(
            [*self.user_prefix, initdb, "-D", data, "-U", "wac", "--pwfile", pwfile, "--no-sync",
             "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8"],
            check=True, capture_output=True)
        self.port = _free_port()
        self.data = data
        self.start()
        self.url = f"postgresql://wac:{quote(PASSWORD)}@127.0.0.1:{self.port}/postgres"
        atexit.register(self.stop)

    def _ctl(self, *args: str) -> None:
        assert self.pg_ctl and self.dir
        subprocess.run(
            [*self.user_prefix, self.pg_ctl, "-D", self.data, "-w", "-t", "60", "-l",
             os.path.join(self.dir, "log"), *args,
             "-o", (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
                    " -c full_page_writes=off -c max_connections=300")],
            check=True, capture_output=True)

    def start(self) -> None:
        self._ctl("start")

    def restart_immediate(self) -> None:
        self._ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            self._ctl("stop", "-m", "fast")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def fresh_url(self) -> str:
        """The URL of a new, empty schema of its own."""
        import psycopg

        schema = "t" + uuid.uuid4().hex[:16]
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        sep = "&" if "?" in self.url else "?"
        return f"{self.url}{sep}options=-csearch_path%3D{schema}"


def server() -> PgServer | None:
    """The session's server, started on first use; None when PostgreSQL is not available here."""
    global _server
    if _server is None:
        try:
            _server = PgServer()
        except FileNotFoundError:
            return None
    return _server
