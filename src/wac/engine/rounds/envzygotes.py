"""A worker's warm parents: wac's own zygote, and one per environment in use.

A round of a bundle that pins no lock forks from the default zygote (wac's interpreter). A round
of a bundle that pins one forks from its environment's zygote, started on first use on the
environment's interpreter with the bundle's top-level third-party imports already imported
(``import pandas`` is paid once per worker and environment, not per round).

An environment's zygote that has had no round for ``idle_s`` seconds (``WAC_ENV_IDLE_S``,
default 300) and none running is stopped; the next round of that environment starts it again.
Rounds still running are never cut short: a zygote's children die with it, so a zygote is retired
only when none of its rounds is alive.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wac.engine.envlock import ENV_LOCK, third_party_imports
from wac.engine.envs import EnvSpec, engine_path, ensure, env_python, note_once
from wac.engine.rounds.spec import RoundSpec
from wac.engine.rounds.zygote_client import RoundProcess, Zygote, adopt_early

DEFAULT_IDLE_S = 300.0


@dataclass
class _Warm:
    zygote: Zygote
    last_used: float = field(default_factory=time.monotonic)
    active: int = 0


def _bundle_sources(bundle_dir: Path) -> dict[str, str]:
    files = {}
    for path in bundle_dir.rglob("*"):
        rel = path.relative_to(bundle_dir).as_posix()
        if path.is_file() and (rel.endswith(".py") or rel == ".wac/bundle.json"):
            files[rel] = path.read_text(encoding="utf-8", errors="replace")
    return files


class ZygotePool:
    def __init__(self, idle_s: float | None = None, report: Callable[[str], None] | None = None) -> None:
        self.default = adopt_early()  # started already when the CLI asked for it early
        if idle_s is None:
            idle_s = float(os.environ.get("WAC_ENV_IDLE_S") or DEFAULT_IDLE_S)
        self.idle_s = idle_s
        self._report = report
        self._envs: dict[str, _Warm] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._reaper: threading.Thread | None = None

    def start(self) -> None:
        self.default.start()
        if self._reaper is None:
            self._reaper = threading.Thread(target=self._reap_loop, name="wac-zygote-reaper", daemon=True)
            self._reaper.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            warm = list(self._envs.values())
            self._envs.clear()
        for w in warm:
            w.zygote.stop()
        self.default.stop()

    def alive(self) -> dict[str, int | None]:
        """``env key → zygote pid`` of every environment zygote kept (pid None until started)."""
        with self._lock:
            return {k: w.zygote.pid for k, w in self._envs.items()}

    def spawn(self, bundle_dir: Path, label: str, spec: RoundSpec) -> RoundProcess:
        """Fork a round for ``spec`` from the zygote of the bundle's environment.

        Raises:
            EnvBuildError: the environment could not be built.
            OSError: the zygote could not be reached.
        """
        lock_file = bundle_dir / ENV_LOCK
        if not lock_file.is_file():
            return self.default.spawn(spec)
        warm = self._warm_for(bundle_dir, lock_file.read_text(encoding="utf-8"), label)
        try:
            proc = warm.zygote.spawn(spec)
        except BaseException:
            self._release(warm)
            raise
        proc.on_close = lambda: self._release(warm)
        return proc

    def _warm_for(self, bundle_dir: Path, lock: str, label: str) -> _Warm:
        env = EnvSpec.of(lock)
        with self._lock:
            warm = self._envs.get(env.key)
            if warm is not None:
                warm.active += 1
                warm.last_used = time.monotonic()
                return warm
        note_once(env, label, self._report)
        env_dir = ensure(env, label=label, report=self._report)
        zygote = Zygote(python=str(env_python(env_dir)), pythonpath=engine_path(),
                        preimport=tuple(third_party_imports(_bundle_sources(bundle_dir))))
        with self._lock:
            warm = self._envs.setdefault(env.key, _Warm(zygote))
            warm.active += 1
            warm.last_used = time.monotonic()
        if warm.zygote is not zygote:
            zygote.stop()  # another slot started one first
        return warm

    def _release(self, warm: _Warm) -> None:
        with self._lock:
            warm.active -= 1
            warm.last_used = time.monotonic()

    def retire_idle(self, now: float | None = None) -> list[str]:
        """Stop the environment zygotes idle for ``idle_s`` with no round alive; their keys."""
        now = time.monotonic() if now is None else now
        retired = []
        with self._lock:
            for key, warm in list(self._envs.items()):
                if warm.active == 0 and now - warm.last_used >= self.idle_s:
                    del self._envs[key]
                    retired.append((key, warm))
        for _key, warm in retired:
            warm.zygote.stop()
        return [k for k, _ in retired]

    def _reap_loop(self) -> None:
        tick = max(0.05, min(5.0, self.idle_s / 4))
        while not self._stop.wait(tick):
            self.retire_idle()
