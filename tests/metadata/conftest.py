from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from wac.engine.lockresolver import LockResolutionError, LockResolver
from wac.metadata.generate import GenerateOptions, GenerateResult, generate
from wac.metadata.plan import Plan, plan
from wac.metadata.rehash import RehashResult, rehash
from wac.project.config import load_config

DATA = Path(__file__).resolve().parent.parent / "data"
CLI_DATA = DATA / "wmill-cli"

# Files the CLI writes; everything else in a fixture tree is input the harness may edit between runs.
_OUTPUTS = re.compile(r"(\.script\.yaml|/script\.yaml|\.lock|^wmill-lock\.yaml)$")


@dataclass(frozen=True)
class FixtureBackendResolver(LockResolver):
    """Resolves like the recording's fake backend: each imported package pinned at 1.0.0.

    Only the dependency job is faked; everything else (parser, schema, files, hashes) is real.
    """

    fail_with: str | None = None
    empty: bool = False
    calls: list[list[str]] = field(default_factory=list, compare=False, hash=False)

    def resolve(self, requirements: Iterable[str]) -> str:
        reqs = list(requirements)
        self.calls.append(reqs)
        if self.fail_with:
            raise LockResolutionError(self.fail_with)
        if self.empty:
            return ""
        names = []
        for req in reqs:
            name = re.split(r"[\s=<>!~\[;#]", req.strip(), maxsplit=1)[0]
            name = {"pyyaml": "yaml"}.get(name, name)
            if name and name != "wmill" and name not in names:
                names.append(name)
        return "".join(["# py: 3.12\n", *(f"{n}==1.0.0\n" for n in names)])


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.parts
    }


def scenario_dir(number: str) -> Path:
    (found,) = CLI_DATA.glob(f"{number}-*")
    return found


def copy_input(number: str, dest: Path) -> Path:
    repo = dest / "repo"
    shutil.copytree(scenario_dir(number) / "tree-input", repo)
    return repo


def apply_harness_edits(repo: Path, after: Path, lock_files_too: bool = False) -> None:
    """Bring input files (code, modules, wmill.yaml...) to their state in ``after``."""
    wanted = {k: v for k, v in tree(after).items() if not _OUTPUTS.search(k) or (lock_files_too and k.endswith(".script.lock"))}
    current = {k: v for k, v in tree(repo).items() if not _OUTPUTS.search(k)}
    for rel in current.keys() - wanted.keys():
        (repo / rel).unlink()
    for rel, data in wanted.items():
        path = repo / rel
        if not path.exists() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    for d in sorted((p for p in repo.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if not any(d.iterdir()) and not (after / d.relative_to(repo)).exists():
            d.rmdir()


@dataclass
class Run:
    kind: str  # "rehash" | "dry" | "real"
    plan: Plan | None = None
    result: GenerateResult | RehashResult | None = None


def run_wmill_command(repo: Path, cmd: str, resolver: LockResolver | None = None) -> Run:
    """Run the equivalent of a recorded ``wmill generate-metadata ...`` command through wac's API."""
    first, _, rest = cmd.strip().partition("\n")
    if resolver is None:
        resolver = FixtureBackendResolver(
            fail_with="Failed: dependency job failed" if "--deps-fail" in rest else None,
            empty="--empty-lock" in rest,
        )
    args = shlex.split(first)[2:]
    drop = {"--base-url", "--token", "--workspace"}
    clean: list[str] = []
    it = iter(args)
    for a in it:
        if a in drop:
            next(it)
            continue
        clean.append(a)
    flags = {a for a in clean if a.startswith("--")}
    includes, excludes, positional = [], [], []
    it = iter(clean)
    for a in it:
        if a == "-i":
            includes.append(next(it))
        elif a == "-e":
            excludes.append(next(it))
        elif not a.startswith("-"):
            positional.append(a)
    config = load_config(repo).with_overrides(includes, excludes)
    if positional and positional[0] == "rehash":
        folder = positional[1] if len(positional) > 1 else None
        skips = {f"skip_{k}": f"--skip-{k}" in flags for k in ("scripts", "flows", "apps")}
        return Run("rehash", result=rehash(repo, config, folder, **skips))
    folder = positional[0] if positional else None
    the_plan = plan(repo, config, folder=folder, strict_folder_boundaries="--strict-folder-boundaries" in flags)
    if "--dry-run" in flags or not the_plan.items:
        return Run("dry", plan=the_plan)
    options = GenerateOptions(
        lock_only="--lock-only" in flags,
        schema_only="--schema-only" in flags,
        resolver=resolver,
    )
    return Run("real", plan=the_plan, result=generate(repo, the_plan, options))


def stale_lines(stdout: str) -> set[str]:
    return {line.strip() for line in stdout.splitlines() if line.strip().startswith("~ ")}


@pytest.fixture
def cli_data() -> Path:
    return CLI_DATA
