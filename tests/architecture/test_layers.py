"""The import rules between wac's layers, read from the source with ``ast`` (every import,
function-level ones included: a lazy import is still a dependency).

See docs/architecture.md for the picture. A subpackage (``wac.engine``) or top-level module
(``wac.errors``) is a *part*; ``wac/__init__.py`` (the SDK facade) is the part ``wac``.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "wac"

# What each part may import (besides itself and the standard library / third-party packages).
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "timeformat": set(),  # timestamps and durations, stdlib only (as errors, usable everywhere above the SDK)
    "owndeps": set(),  # wac's own dependencies lent to wac's code in an environment's round, stdlib only
    "sdk": {"errors"},
    "wac": {"sdk", "errors"},  # the SDK facade
    "_shims": {"sdk", "errors"},  # `import wmill` inside a round
    "templates": {"wac"},  # templates are user scripts
    "project": {"errors", "timeformat", "owndeps"},
    "workspaces": {"errors", "project"},  # the user's config: below the engine, opens nothing
    "parser": {"project", "errors"},
    "engine": {"wac", "sdk", "errors", "timeformat", "project", "workspaces", "parser", "owndeps"},
    "metadata": {"parser", "project", "engine", "errors", "timeformat"},
    "sync": {"metadata", "parser", "project", "engine", "errors", "timeformat", "workspaces"},
    "server": {"engine", "workspaces", "errors", "timeformat", "project"},
    "cli": {"server", "sync", "metadata", "engine", "parser", "project", "workspaces", "sdk", "wac", "errors",
            "timeformat"},
    "__main__": {"cli"},
}

# Single module-level edges allowed against the table above, each with its reason. This list
# only shrinks.
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("wac.engine.remote.items", "wac.sync.kinds"):
        "which item kinds wmill.yaml enables is the sync registry's knowledge; the Windmill "
        "backend should be handed the set by sync (needs a configure_items signature change)",
}

# The parser (libcst) is imported by the engine in exactly these modules, lazily.
ENGINE_PARSER_USERS = {"wac.engine.envlock"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _part(module: str) -> str | None:
    bits = module.split(".")
    if bits[0] != "wac":
        return None
    return bits[1] if len(bits) > 1 else "wac"


def _imports() -> dict[str, set[str]]:
    """``{module: {imported wac module, ...}}`` for every module of src/wac."""
    found: dict[str, set[str]] = defaultdict(set)
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        found.setdefault(module, set())
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                found[module] |= {a.name for a in node.names if a.name.split(".")[0] == "wac"}
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.split(".")[0] == "wac":
                    found[module].add(target)
    return found


def _violations(imports: dict[str, set[str]]) -> list[str]:
    bad = []
    for module, targets in sorted(imports.items()):
        src = _part(module)
        assert src in ALLOWED, f"{module}: part {src!r} has no row in ALLOWED; add one"
        for target in sorted(targets):
            dst = _part(target)
            if dst is None or dst == src or dst in ALLOWED[src] or (module, target) in EXCEPTIONS:
                continue
            bad.append(f"{module} imports {target} ({src} -> {dst})")
    return bad


def test_every_import_between_layers_goes_the_allowed_direction() -> None:
    assert _violations(_imports()) == []


def test_the_engine_imports_the_parser_only_where_it_resolves_a_deployed_version() -> None:
    users = {m for m, targets in _imports().items()
             if _part(m) == "engine" and any(_part(t) == "parser" for t in targets)}
    assert users <= ENGINE_PARSER_USERS


def test_the_sdk_imports_nothing_of_wac_but_its_own_modules_and_errors() -> None:
    for module, targets in _imports().items():
        if _part(module) == "sdk":
            assert {_part(t) for t in targets} <= {"sdk", "errors"}, module


def test_there_is_no_cycle_between_parts() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        for target in targets:
            a, b = _part(module), _part(target)
            if a and b and a != b and (module, target) not in EXCEPTIONS:
                graph[a].add(b)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start]:
            if nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt})):
                return True
        return False

    cycles = sorted(f"{a} -> {b} -> … -> {a}" for a in list(graph) for b in graph[a] if reaches(b, a, {b}))
    assert cycles == []


def test_the_allowed_table_has_no_cycle_and_names_only_real_parts() -> None:
    parts = {_part(m) for m in _imports()}
    assert parts <= set(ALLOWED) and set(ALLOWED) - parts <= {"timeformat"}
    order: list[str] = []
    pending = dict(ALLOWED)
    while pending:
        ready = sorted(p for p, deps in pending.items() if deps <= set(order))
        assert ready, f"the table has a cycle among {sorted(pending)}"
        order += ready
        for p in ready:
            del pending[p]


def test_a_lazy_engine_import_of_the_cli_is_reported_with_the_module_and_the_edge() -> None:
    found = _violations({"wac.engine.worker": {"wac.engine.store", "wac.cli.output"},
                         "wac.sdk.task": {"wac.engine.store.base"}})
    assert found == ["wac.engine.worker imports wac.cli.output (engine -> cli)",
                     "wac.sdk.task imports wac.engine.store.base (sdk -> engine)"]
