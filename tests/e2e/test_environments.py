"""Scripts run in the environment of their lock: real uv, a local wheel folder built here
(offline), real environments in the test's cache, the real CLI."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import SRC, wac
from tests.metadata.wheels import write_wheel

pytestmark = pytest.mark.slow

Write = Callable[[str, str], Path]

USES_TINYPKG = """
    import tinypkg
    from wac import task, workflow

    @task
    def child(x: int) -> str:
        import tinypkg as again
        return f"{again.VERSION}/{x}"

    @workflow
    async def main():
        return {"top": tinypkg.VERSION, "child": await child(1)}
"""


@pytest.fixture
def wheels(tmp_path: Path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(folder, "tinypkg", "1.0.0")
    return folder


def offline(wheels: Path) -> dict[str, str]:
    return {"WAC_FIND_LINKS": str(wheels), "WAC_NO_INDEX": "1"}


def envs_dir() -> Path:
    return Path(os.environ["XDG_CACHE_HOME"]) / "wac" / "envs"


def built() -> list[str]:
    root = envs_dir()
    return sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) if root.is_dir() else []


def leftovers() -> list[str]:
    root = envs_dir()
    return sorted(p.name for p in root.iterdir() if p.name.startswith(".tmp-")) if root.is_dir() else []


def test_a_preview_imports_a_package_of_the_inferred_requirements_in_the_body_and_in_task_children(
        repo: Path, write: Write, wheels: Path) -> None:
    write("f/demo/uses.py", USES_TINYPKG)
    first = wac("script", "preview", "f/demo/uses.py", "--find-links", str(wheels), "--no-index", cwd=repo)
    assert first.json() == {"top": "1.0.0", "child": "1.0.0/1"}
    assert "building the environment of f/demo/uses" in first.stderr
    assert len(built()) == 1 and leftovers() == []
    second = wac("script", "preview", "f/demo/uses.py", cwd=repo, env=offline(wheels))
    assert second.json() == {"top": "1.0.0", "child": "1.0.0/1"}
    assert "building" not in second.stderr  # already built: shared, content-addressed
    listed = wac("cache", "list", "--json", cwd=repo).json()
    (env,) = listed["environments"]
    assert env["healthy"] and env["packages"] == 1 and env["key"] == built()[0]


def test_a_fresh_lock_pins_the_environment_of_previews_and_deployed_versions_keep_theirs(
        repo: Path, write: Write, wheels: Path) -> None:
    write("f/demo/uses.py", USES_TINYPKG)
    wac("generate-metadata", "--yes", cwd=repo, env=offline(wheels))
    assert "tinypkg==1.0.0" in (repo / "f/demo/uses.script.lock").read_text()
    wac("script", "push", "f/demo/uses.py", cwd=repo)
    write_wheel(wheels, "tinypkg", "2.0.0")  # newer, but the fresh lock says 1.0.0
    assert wac("script", "preview", "f/demo/uses.py", cwd=repo, env=offline(wheels)).json()["top"] == "1.0.0"
    # an edit makes the lock stale: the requirements are resolved again at run start (nothing written)
    write("f/demo/uses.py", USES_TINYPKG + "    # edited\n")
    edited = wac("script", "preview", "f/demo/uses.py", cwd=repo, env=offline(wheels)).json()
    assert edited == {"top": "2.0.0", "child": "2.0.0/1"}
    assert "tinypkg==1.0.0" in (repo / "f/demo/uses.script.lock").read_text()
    # the deployed version runs with the lock it was pushed with, children included
    deployed = wac("script", "run", "f/demo/uses", cwd=repo, env=offline(wheels)).json()
    assert deployed == {"top": "1.0.0", "child": "1.0.0/1"}
    assert len(built()) == 2 and leftovers() == []


def test_wmill_resolves_to_wacs_client_even_when_the_lock_installs_a_wmill_package(
        repo: Path, write: Write, wheels: Path) -> None:
    write_wheel(wheels, "wmill", "9.9.9")
    write("f/demo/client.py", """
        import tinypkg
        import wmill

        def main():
            return {"wmill": wmill.__file__, "tinypkg": tinypkg.VERSION}
    """)
    wac("generate-metadata", "--yes", cwd=repo, env=offline(wheels))
    assert "wmill==9.9.9" in (repo / "f/demo/client.script.lock").read_text()
    result = wac("script", "preview", "f/demo/client.py", cwd=repo, env=offline(wheels)).json()
    assert "_shims" in result["wmill"] and result["tinypkg"] == "1.0.0"


def test_an_uninstallable_lock_is_one_error_naming_the_script_and_package_and_leaves_nothing_built(
        repo: Path, write: Write, wheels: Path) -> None:
    write("f/demo/missing.py", """
        import nosuchpkg

        def main():
            return 1
    """)
    failed = wac("script", "preview", "f/demo/missing.py", cwd=repo, env=offline(wheels), code=1)
    errors = [ln for ln in failed.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "f/demo/missing" in errors[0] and "nosuchpkg" in errors[0]
    assert "--find-links" in failed.stderr and "Traceback" not in failed.stderr
    # a fresh lock whose wheel is gone: the install fails, nothing half-built stays in the cache
    write("f/demo/uses.py", USES_TINYPKG)
    wac("generate-metadata", "--yes", "f/demo/uses.py", cwd=repo, env=offline(wheels))
    wac("script", "push", "f/demo/uses.py", cwd=repo)
    for wheel in wheels.iterdir():
        wheel.unlink()
    failed = wac("script", "preview", "f/demo/uses.py", cwd=repo, env=offline(wheels), code=1)
    errors = [ln for ln in failed.stderr.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "f/demo/uses" in errors[0] and "tinypkg" in errors[0]
    assert "--find-links" in failed.stderr
    # a deployed run builds in its worker: the job fails with the same error, hint included
    run = wac("script", "run", "f/demo/uses", "--json", cwd=repo, env=offline(wheels), code=1).json()
    assert run["status"] == "failed" and run["error"]["name"] == "EnvBuildError"
    assert "tinypkg" in run["error"]["message"] and "--find-links" in run["error"]["message"]
    assert built() == [] and leftovers() == []


def test_a_damaged_environment_is_detected_and_rebuilt(repo: Path, write: Write, wheels: Path) -> None:
    write("f/demo/uses.py", USES_TINYPKG)
    wac("script", "preview", "f/demo/uses.py", cwd=repo, env=offline(wheels))
    (key,) = built()
    (site,) = (envs_dir() / key / "lib").glob("python*/site-packages")
    shutil.rmtree(site / "tinypkg")
    listed = wac("cache", "list", "--json", cwd=repo).json()["environments"]
    assert listed[0]["healthy"] is False and "changed" in listed[0]["problem"]
    again = wac("script", "preview", "f/demo/uses.py", cwd=repo, env=offline(wheels))
    assert again.json()["top"] == "1.0.0" and "again" in again.stderr
    assert wac("cache", "list", "--json", cwd=repo).json()["environments"][0]["healthy"] is True
    pruned = wac("cache", "prune", "--all", "--json", cwd=repo).json()
    assert [e["key"] for e in pruned["removed"]] == [key] and built() == []


BUILD_ONE = """
import sys
from wac.engine.envs import EnvSpec, UvOptions, ensure
spec = EnvSpec.of("# py: 3.11\\ntinypkg==1.0.0\\n")
said = []
path = ensure(spec, UvOptions(find_links=(sys.argv[1],), no_index=True), label="t", report=said.append)
print(path, "built" if said else "waited")
"""


def test_two_processes_building_one_environment_build_it_once(tmp_path: Path, wheels: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    procs = [subprocess.Popen([sys.executable, "-c", BUILD_ONE, str(wheels)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    paths, verbs = zip(*(o[0].split() for o in outs), strict=True)
    assert paths[0] == paths[1] and sorted(verbs) == ["built", "waited"]
    assert len(built()) == 1 and leftovers() == []
    marker = json.loads((Path(paths[0]) / ".wac-env.json").read_text())
    assert marker["packages"] == 1


def test_a_lock_for_a_python_that_is_not_installed_fails_saying_why_and_the_way_out(wheels: Path) -> None:
    from wac.engine.envs import EnvSpec, UvOptions, ensure
    from wac.errors import EnvBuildError

    write_wheel(wheels, "newpkg", "1.0.0", requires_python=">=3.99")
    spec = EnvSpec.of("# py: 3.99\nnewpkg==1.0.0\n")
    assert spec.python.path == sys.executable and spec.python.note and "3.99" in spec.python.note
    with pytest.raises(EnvBuildError) as caught:
        ensure(spec, UvOptions(find_links=(str(wheels),), no_index=True), label="f/x/y")
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert "resolved for Python 3.99" in caught.value.message and f"Python {running}" in caught.value.message
    assert "f/x/y" in caught.value.message and "newpkg" in caught.value.message
    assert caught.value.hint and "uv python install 3.99" in caught.value.hint
    assert built() == [] and leftovers() == []


def test_an_idle_environment_zygote_retires_but_never_while_a_round_of_it_runs(
        tmp_path: Path, wheels: Path) -> None:
    from wac.engine.envs import EnvSpec, UvOptions, ensure
    from wac.engine.rounds.envzygotes import ZygotePool

    lock = "# py: 3.11\ntinypkg==1.0.0\n"
    ensure(EnvSpec.of(lock), UvOptions(find_links=(str(wheels),), no_index=True))
    bundle = tmp_path / "bundle"
    (bundle / ".wac").mkdir(parents=True)
    (bundle / ".wac" / "env.lock").write_text(lock)
    (bundle / "main.py").write_text("import tinypkg\n")
    pool = ZygotePool(idle_s=3600)
    try:
        warm = pool._warm_for(bundle, lock, "t")  # as a round being spawned holds it
        assert warm.zygote.preimport == ("tinypkg",)
        warm.zygote.start()
        assert pool.retire_idle(now=warm.last_used + 7200) == []  # a round is alive
        pool._release(warm)
        assert pool.retire_idle(now=warm.last_used + 10) == []  # not idle long enough
        (key,) = pool.alive()
        assert pool.retire_idle(now=warm.last_used + 7200) == [key] and pool.alive() == {}
    finally:
        pool.stop()
