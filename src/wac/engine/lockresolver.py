"""Lock resolution, locally and for real, with ``uv pip compile``, in Windmill's lock format.

Windmill writes ``requirements.in`` and runs ``uv pip compile -q --no-header ... --strip-extras``;
the lock is ``# py: <X.Y>`` followed by the non-comment lines of the compiled file. wac does the
same on the user's machine instead of in a backend dependency job.

It lives in the engine (beside :mod:`wac.engine.envs`, which installs what it pins) because a run
resolves too: a deployed version pushed without locks (:mod:`wac.engine.envlock`); the metadata
layer's ``generate-metadata`` uses it from here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from wac.errors import MetadataError

DEFAULT_PYTHON_VERSION = "3.12"


class LockResolutionError(MetadataError):
    """The dependencies could not be resolved."""

    hint = "check the requirement names and versions, or the index (--index-url / --find-links)"


@dataclass(frozen=True)
class LockResolver:
    """How to run uv: the index and the target Python version.

    ``index_url``/``find_links`` default to the ``WAC_INDEX_URL``/``WAC_FIND_LINKS`` env vars;
    ``no_index`` resolves from ``find_links`` only (offline).
    """

    python_version: str = DEFAULT_PYTHON_VERSION
    index_url: str | None = None
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    timeout: float = 600.0
    # Found when the resolver is made: uv.find_uv_bin() initialises sysconfig lazily, which is
    # not thread-safe in Python 3.11, and locks are resolved from a thread pool.
    uv_bin: str = field(default_factory=lambda: _find_uv())

    @classmethod
    def from_env(
        cls,
        python_version: str | None = None,
        index_url: str | None = None,
        find_links: Iterable[str] = (),
        no_index: bool = False,
    ) -> LockResolver:
        """Options from the command line, falling back to the environment."""
        links = tuple(find_links) or tuple(
            p for p in os.environ.get("WAC_FIND_LINKS", "").split(os.pathsep) if p
        )
        return cls(
            python_version=python_version
            or os.environ.get("WAC_PYTHON_VERSION")
            or DEFAULT_PYTHON_VERSION,
            index_url=index_url or os.environ.get("WAC_INDEX_URL") or None,
            find_links=links,
            no_index=no_index or os.environ.get("WAC_NO_INDEX", "") not in ("", "0"),
        )

    def header(self) -> str:
        """The first line of every lock."""
        return f"# py: {self.python_version}"

    def command(self, req_in: Path, req_out: Path) -> list[str]:
        """The uv command line."""
        cmd = [
            self.uv_bin,
            "pip",
            "compile",
            "-q",
            "--no-header",
            "--no-config",
            str(req_in),
            "--strip-extras",
            "-o",
            str(req_out),
            # uv would otherwise search (and try to download) an interpreter of that version; the
            # running one is enough to build sdists, and --python-version sets the target markers
            "--python",
            sys.executable,
            "--python-version",
            self.python_version,
        ]
        if self.index_url:
            cmd += ["--index-url", self.index_url]
        for link in self.find_links:
            cmd += ["--find-links", link]
        if self.no_index:
            cmd.append("--no-index")
        return cmd

    def resolve(self, requirements: Iterable[str]) -> str:
        """The lock text for ``requirements`` (``# py: X.Y`` alone when there are none).

        Raises:
            LockResolutionError: uv failed; the message carries uv's own error.
        """
        lines = normalize_requirements(requirements)
        if not lines:
            return self.header() + "\n"
        with tempfile.TemporaryDirectory(prefix="wac-lock-") as tmp:
            req_in = Path(tmp) / "requirements.in"
            req_out = Path(tmp) / "requirements.txt"
            req_in.write_text("\n".join([self.header(), *lines]) + "\n", encoding="utf-8")
            try:
                proc = subprocess.run(
                    self.command(req_in, req_out),
                    capture_output=True,
                    text=True,
                    timeout=self.timeout,
                    cwd=tmp,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise LockResolutionError(f"uv pip compile timed out after {self.timeout:.0f}s") from exc
            except OSError as exc:
                raise LockResolutionError(f"cannot run uv: {exc}") from exc
            if proc.returncode != 0:
                raise LockResolutionError(_uv_error(proc.stderr or proc.stdout))
            compiled = req_out.read_text(encoding="utf-8")
        pinned = [
            line.strip()
            for line in compiled.splitlines()
            if line.strip() and not line.strip().startswith("#")
        ]
        return "\n".join([self.header(), *pinned]) + "\n"


def _find_uv() -> str:
    import uv

    return str(uv.find_uv_bin())


def normalize_requirements(requirements: Iterable[str]) -> list[str]:
    """Requirement lines without comments, blanks and duplicates, in first-seen order."""
    out: list[str] = []
    for raw in requirements:
        for line in str(raw).splitlines():
            line = line.split(" #", 1)[0].strip()
            if not line or line.startswith("#") or line in out:
                continue
            out.append(line)
    return out


def _uv_error(text: str) -> str:
    lines = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip()]
    if not lines:
        return "uv pip compile failed"
    return " ".join(ln.strip() for ln in lines[:8])
