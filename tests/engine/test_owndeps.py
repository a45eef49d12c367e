"""The region in which wac's code borrows its own dependencies inside an environment's round
(wac.owndeps), in a fresh interpreter: one folder plays wac's site-packages, another the
environment's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.clirun import SRC
from wac import owndeps

PROBE = """
    import json, sys, threading
    from wac.owndeps import own_deps

    out = {}
    try:
        import psycopg
    except ModuleNotFoundError:
        out["user_psycopg_before"] = None
    import yaml as user_yaml
    out["user_yaml"] = user_yaml.VERSION
    with own_deps():
        import yaml, psycopg
        out["in_region"] = [yaml.VERSION, psycopg.VERSION, sys.modules["yaml"] is yaml]
        wac_psycopg = psycopg
    out["after"] = [sys.modules["yaml"] is user_yaml, "psycopg" in sys.modules]
    try:
        import psycopg
        out["user_psycopg_after"] = psycopg.VERSION
    except ModuleNotFoundError as exc:
        out["user_psycopg_after"] = "not found: " + exc.name
    # a late import by wac's psycopg itself, from a thread, outside any region (a pool's worker)
    done = []
    thread = threading.Thread(target=lambda: done.append(wac_psycopg.late()))
    thread.start(); thread.join()
    out["late"] = done
    import time
    deadline = time.monotonic() + 30
    while any(m.startswith("psycopg") for m in sys.modules) and time.monotonic() < deadline:
        time.sleep(0.01)  # taken out right after the import (psycopg served, psycopg.pq loaded late)
    out["late_left"] = [m for m in sys.modules if m.startswith("psycopg")]
    try:
        import psycopg
        out["user_psycopg_late"] = psycopg.VERSION
    except ModuleNotFoundError as exc:
        out["user_psycopg_late"] = "not found: " + exc.name
    with own_deps():
        import psycopg
        out["again"] = psycopg is wac_psycopg
    out["path"] = [p for p in sys.path if p.endswith(("wacsite", "envsite"))]
    out["after_again"] = ["psycopg" in sys.modules, "psycopg.pq" in sys.modules, sys.modules["yaml"] is user_yaml]
    print(json.dumps(out))
"""


def _package(root: Path, name: str, body: str, files: dict[str, str] | None = None) -> None:
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text(textwrap.dedent(body))
    for rel, text in (files or {}).items():
        (root / name / rel).write_text(text)


def test_wacs_modules_are_visible_inside_a_region_and_their_late_imports_are_served_and_cleared(tmp_path: Path) -> None:
    wac_site, env_site = tmp_path / "wacsite", tmp_path / "envsite"
    _package(wac_site, "yaml", 'VERSION = "wac"\n')
    _package(wac_site, "psycopg", """
        VERSION = "wac"

        def late():
            from . import pq  # imported now, after the region ended, as psycopg's pool threads do
            from psycopg import pq as again
            return [pq.NAME, again is pq]
    """, {"pq.py": 'NAME = "wac pq"\n'})
    _package(env_site, "yaml", 'VERSION = "lock"\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), str(env_site)]),
           owndeps.ENV_VAR: str(wac_site)}
    proc = subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(PROBE)], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["user_psycopg_before"] is None and out["user_yaml"] == "lock"
    assert out["in_region"] == ["wac", "wac", True]  # wac's yaml, not the lock's, inside the region
    assert out["after"] == [True, False]  # the lock's yaml back, wac's psycopg gone
    assert out["user_psycopg_after"] == "not found: psycopg"
    assert out["late"] == [["wac pq", True]]
    assert out["late_left"] == []
    assert out["user_psycopg_late"] == "not found: psycopg"  # taken out again right after
    assert out["again"] is True  # the same module objects in every region
    assert out["path"] == [str(env_site)]
    assert out["after_again"] == [False, False, True]


def test_a_region_does_nothing_outside_an_environments_round() -> None:
    assert not owndeps.active()
    before = list(sys.path)
    with owndeps.own_deps():
        import yaml  # type: ignore[import-untyped]  # wac's own interpreter: imported as always
    assert sys.modules["yaml"] is yaml and sys.path == before


def test_an_environment_on_another_python_gets_no_folders_and_errors_say_the_way_out() -> None:
    assert owndeps.folders_for_env("3.99") == {owndeps.MISMATCH_VAR: f"{sys.version_info[0]}.{sys.version_info[1]}"}
    here = owndeps.folders_for_env(f"{sys.version_info[0]}.{sys.version_info[1]}")
    folders = here[owndeps.ENV_VAR].split(os.pathsep)
    assert any((Path(f) / "yaml").is_dir() for f in folders) and any((Path(f) / "psycopg").is_dir() for f in folders)
    os.environ[owndeps.MISMATCH_VAR] = "3.11"
    try:
        message, hint = owndeps.missing("yaml", ModuleNotFoundError("No module named 'yaml'"))
    finally:
        del os.environ[owndeps.MISMATCH_VAR]
    assert "pyyaml" in message and "Python 3.11" in message and "#extra_requirements:" in hint


def test_a_repo_object_file_read_where_wac_cannot_lend_pyyaml_fails_saying_the_way_out() -> None:
    probe = """
        from wac.errors import ObjectError
        from wac.project.objectfiles import parse
        try:
            parse("variable", "f/x/y.variable.yaml", "value: x\\n")
        except ObjectError as exc:
            print(exc.message)
    """
    env = {**os.environ, "PYTHONPATH": str(SRC), owndeps.MISMATCH_VAR: "3.99"}
    env.pop(owndeps.ENV_VAR, None)
    proc = subprocess.run([sys.executable, "-S", "-c", textwrap.dedent(probe)], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert proc.stdout.strip() == (
        "f/x/y.variable.yaml: cannot be read: wac needs pyyaml inside this script's environment and cannot lend "
        f"its own: the environment runs Python {here}, wac Python 3.99 (No module named 'yaml'); add pyyaml to "
        f"the script's requirements (#extra_requirements:), or run wac on Python {here}")
