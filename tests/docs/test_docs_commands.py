"""Follow docs/quickstart.md and README.md top to bottom in a temp folder (issue 12, item 9).

Every ``console`` block is run: each ``$ command`` with bash in the same folder, one after the
other, and what it prints (stdout and stderr together, as a terminal shows them) is compared with
the lines under it in the doc by *shape*: job ids, version hashes, times and durations are
placeholders, runs of spaces are one, and the order of lines is free (concurrent tasks finish in
any order). ``echo $?`` must print the exit code of the command before it; any other command must
exit 0. A ``python`` block right after a line `` `path`: `` is written to that file first. Ids the
doc shows are mapped to the real ones, so a later ``wac job timeline 1a1f…`` finds its job.

Two HTML comments steer it, on the line before a block:
``<!-- docs-test: skip (reason) -->`` skips the block;
``<!-- docs-test: output of: COMMAND -->`` runs COMMAND for a block that only shows output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent.parent
SRC = ROOT / "src"

_FENCE = re.compile(r"^```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^<!-- docs-test: (skip|output of: (.*?)) ?(?:\(.*\))? ?-->$")
_FILE_LINE = re.compile(r"^`([\w./-]+)`:$")
_ID = re.compile(r"\b[0-9a-f]{14}\b")
_HASH16 = re.compile(r"\b[0-9a-f]{16}\b")
_HASH7 = re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{7}\b")
_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)?")
_DURATION = re.compile(r"\b\d+(\.\d+)? ?(ms|s|min)\b")


@dataclass
class Block:
    kind: str  # "console" | "file"
    lines: list[str]
    path: str | None = None
    directive: str | None = None  # "skip" or the command whose output the block shows
    line_no: int = 0


@dataclass
class Run:
    cwd: Path
    env: dict[str, str]
    ids: dict[str, str] = field(default_factory=dict)  # id or hash shown in the doc -> the real one
    last_code: int = 0


def blocks_of(text: str) -> list[Block]:
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if not fence or not fence.group(1):
            i += 1
            continue
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1
        before = [line for line in lines[:start] if line.strip()]
        prev = before[-1] if before else ""
        directive = _DIRECTIVE.match(prev)
        kind = fence.group(1)
        if kind == "console":
            how = None if directive is None else ("skip" if directive.group(1) == "skip" else directive.group(2))
            out.append(Block("console", body, directive=how, line_no=start + 1))
        elif kind == "python" and _FILE_LINE.match(prev):
            out.append(Block("file", body, path=_FILE_LINE.match(prev).group(1), line_no=start + 1))  # type: ignore[union-attr]
    return out


def normalize(line: str, tmp: Path) -> str:
    line = line.replace(str(tmp), "<tmp>")
    line = _TIME.sub("<time>", line)
    line = _ID.sub("<id>", line)
    line = _HASH16.sub("<hash>", line)
    line = _HASH7.sub("<h7>", line)
    line = _DURATION.sub("<dur>", line)
    line = re.sub(r"\bin \d+ms\b", "in <dur>", line)
    return " ".join(line.split())


def _learn_ids(expected: list[str], actual: list[str], run: Run) -> None:
    """Map the ids / hashes the doc shows to the real ones, pairing lines of the same shape."""
    pool: dict[str, list[str]] = {}
    for line in actual:
        pool.setdefault(normalize(line, run.cwd), []).append(line)
    for line in expected:
        shown = _ID.findall(line) + _HASH16.findall(line) + _HASH7.findall(line)
        candidates = pool.get(normalize(line, run.cwd))
        if not shown or not candidates:
            continue
        real_line = candidates.pop(0)
        real = _ID.findall(real_line) + _HASH16.findall(real_line) + _HASH7.findall(real_line)
        for doc_id, real_id in zip(shown, real, strict=False):  # a line may show fewer ids than it printed
            run.ids.setdefault(doc_id, real_id)
            if len(doc_id) == 16:
                run.ids.setdefault(doc_id[:7], real_id[:7])


def _substitute(command: str, run: Run) -> str:
    for doc_id, real_id in run.ids.items():
        command = re.sub(rf"\b{doc_id}\b", real_id, command)
    return command


def _run_command(command: str, expected: list[str], run: Run, where: str) -> None:
    if command.strip() == "echo $?":
        assert expected == [str(run.last_code)], f"{where}: `{command}` shows {expected}, the exit code was {run.last_code}"
        return
    proc = subprocess.run(["bash", "-c", _substitute(command, run)], cwd=run.cwd, env=run.env,
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=300)
    run.last_code = proc.returncode
    actual = [line for line in proc.stdout.splitlines() if line.strip()]
    shown = [line for line in expected if line.strip()]
    want = Counter(normalize(line, run.cwd) for line in shown)
    got = Counter(normalize(line, run.cwd) for line in actual)
    assert want == got, (f"{where}: `{command}` printed another shape than the doc shows\n"
                         f"only in the doc: {list((want - got).elements())}\n"
                         f"only in the output: {list((got - want).elements())}\n--- output:\n{proc.stdout}")
    _learn_ids(shown, actual, run)


def _follow(doc: Path, run: Run) -> int:
    """Run every block of ``doc``; returns how many commands ran."""
    ran = 0
    blocks = blocks_of(doc.read_text(encoding="utf-8"))
    for index, block in enumerate(blocks):
        where = f"{doc.relative_to(ROOT)}:{block.line_no}"
        if block.kind == "file":
            target = run.cwd / str(block.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
            continue
        if block.directive == "skip":
            continue
        if block.directive is not None:
            _run_command(block.directive, block.lines, run, where)
            ran += 1
            if index + 1 < len(blocks) and run.last_code != 0:
                raise AssertionError(f"{where}: `{block.directive}` exited {run.last_code}")
            continue
        commands: list[tuple[str, list[str]]] = []
        for line in block.lines:
            if line.startswith("$ "):
                commands.append((line[2:], []))
            elif commands:
                commands[-1][1].append(line)
            elif line.strip():
                raise AssertionError(f"{where}: a console block without `$ ` prompts needs a docs-test comment")
        for i, (command, expected) in enumerate(commands):
            _run_command(command, expected, run, where)
            ran += 1
            followed_by_code = i + 1 < len(commands) and commands[i + 1][0].strip() == "echo $?"
            if command.strip() != "echo $?" and not followed_by_code:
                assert run.last_code == 0, f"{where}: `{command}` exited {run.last_code}"
    return ran


def _env(tmp: Path) -> dict[str, str]:
    bin_dir = tmp.parent / f"{tmp.name}-bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "wac"
    wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" -c "from wac.cli.app import main; main()" "$@"\n')
    wrapper.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "PYTHONPATH": str(SRC),
            "NO_COLOR": "1", "COLUMNS": "100"}


def test_the_quickstart_runs_top_to_bottom_as_written(tmp_path: Path) -> None:
    repo = tmp_path / "quickstart"
    repo.mkdir()
    ran = _follow(ROOT / "docs" / "quickstart.md", Run(repo, _env(repo)))
    assert ran >= 8


def test_the_readme_runs_as_written(tmp_path: Path) -> None:
    repo = tmp_path / "readme"
    repo.mkdir()
    shutil.copytree(ROOT / "examples", repo / "examples")
    ran = _follow(ROOT / "README.md", Run(repo, _env(repo)))
    assert ran >= 7


def test_the_shape_comparison_catches_a_wrong_output(tmp_path: Path) -> None:
    run = Run(tmp_path, _env(tmp_path))
    with pytest.raises(AssertionError, match="another shape"):
        _run_command("echo 'hello 1a1fcc9c964000 in 12 ms'", ["goodbye 1a1fcc9c964000 in 3 ms"], run, "here")
    _run_command("echo 'hello 1a24d450964000 in 12 ms'", ["hello 1a1fcc9c964000 in 3 ms"], run, "here")
    assert run.ids == {"1a1fcc9c964000": "1a24d450964000"}
