"""Memory of the engine's process tree (issue 17): the peak PSS summed over a worker process, its
zygotes and every round process, for a fan-out of n tasks and for n live sticky parents.

    .venv/bin/python bench/linear_memory.py [--before DIR] [--after DIR] [--fanout 1000] [--parents 100]

Each scenario runs in its own process (``PYTHONPATH`` = the tree's ``src``: this checkout, or
``--before DIR`` too, measured one after the other) on a fresh SQLite store; this process samples
``/proc/*/smaps_rollup`` of that process and all its descendants every 50 ms and prints the largest
sum (PSS counts a page shared by k processes as 1/k in each, so the sum is what the tree really
costs). Linux only. Nothing here asserts a size.

Scenarios: ``fanout`` — ``asyncio.gather`` of n ``@task`` calls, one worker of 4 slots;
``parents`` — n workflows each committing one ``step()`` then awaiting one ``@task`` child: with
``WAC_STICKY_MAX`` = n, so all n parents are parked at once, first each in a process of its own
(``WAC_STICKY_SHARE=1``: the baseline), then sharing processes (the default: 16 per process,
engine/rounds/sharing.py); then with the default settings. Their children carry a tag the
parents' worker (4 slots) does not serve: a second worker (4 slots) that serves it starts only
once every parent's first round has ended (parked or let go), so the figure is that of n parents
parked together, not of however many the timing happened to overlap. At that moment the parents'
worker reads ``/proc/PID/smaps`` of each process holding parked parents and the bench prints what
one parked parent costs on average (the processes' sum over the parents they hold), by mapping:
CPython's object arenas and other anonymous memory, the C heap (malloc: SQLite's cache, compile,
large buffers), libpython's own data (static objects' reference counts), thread stacks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # scratch beside this file

from scratch import scratch_script  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = textwrap.dedent("""
    import asyncio
    from wac import step, task, workflow

    @task
    def work(i: int) -> int:
        return i + 1

    @task(tag="gate")
    def gated(i: int) -> int:
        return i

    @workflow
    async def main(shape: str, n: int):
        if shape == "fanout":
            return sum(await asyncio.gather(*[work(i) for i in range(n)]))
        seen = await step("read", lambda: n)
        return await gated(seen)
""")


def scenario(shape: str, n: int) -> None:
    """In the measured process: run the scenario once, print its breakdown (parents) and engine time."""
    from wac.engine.store.base import JobSpec
    from wac.engine.worker import Worker, WorkerConfig

    with scratch_script(SCRIPT, "mem") as (ws, bundle):
        tags = frozenset({"*"}) if shape == "fanout" else frozenset({"default"})
        worker = Worker(ws.store, ws.state_dir, WorkerConfig(slots=4, tags=tags))
        gate = Worker(ws.store, ws.state_dir, WorkerConfig(slots=4, tags=frozenset({"gate"})))
        worker.start()
        try:
            t0 = time.perf_counter()
            if shape == "fanout":
                ids = [ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"shape": shape, "n": n}, "f/mem"))]
            else:
                ids = [ws.store.submit(JobSpec(bundle.hash, bundle.entry, {"shape": shape, "n": i}, "f/mem"))
                       for i in range(n)]
                deadline = time.monotonic() + 300
                while len(worker.parked) + worker.parked.evicted < n and time.monotonic() < deadline:
                    time.sleep(0.05)
                pids = [entry[0].pid for entry in list(worker.parked._procs.values())]
                report: dict[str, Any] = {"parked": len(pids), "processes": len(set(pids)),
                                          "breakdown": breakdown(sorted(set(pids)), len(pids))}
                if pids and os.environ.get("WAC_BENCH_PAGES"):
                    report["pages"] = page_changes(pids[0])
                print(json.dumps(report), flush=True)
                time.sleep(0.5)  # the sampler sees the tree with every parent parked
                gate.start()
            for job_id in ids:
                job = ws.store.wait_for_result(job_id, 600)
                if job.status != "succeeded":
                    raise SystemExit(f"{shape}: {job.status} {job.error}")
            print(json.dumps({"seconds": time.perf_counter() - t0}), flush=True)
        finally:
            gate.stop()
            worker.stop()


#: How a parked process's mappings are grouped in the breakdown.
KINDS = ("object arenas + anon", "C heap (malloc)", "libpython data", "thread stacks", "other")


def _kind(name: str, size_kib: int) -> str:
    if name == "[heap]":
        return KINDS[1]
    if "libpython" in name:
        return KINDS[2]
    if name == "[anon]":
        return KINDS[3] if size_kib >= 8192 else KINDS[0]
    return KINDS[4]


def breakdown(pids: list[int], parents: int) -> dict[str, dict[str, float]]:
    """KiB per parked parent of the processes ``pids`` that hold ``parents`` of them (several
    share a process: engine/rounds/sharing.py), by kind of mapping: PSS and Private_Dirty."""
    sums = {k: {"pss": 0.0, "private_dirty": 0.0} for k in (*KINDS, "total")}
    for pid in pids:
        try:
            text = Path(f"/proc/{pid}/smaps").read_text()
        except OSError:
            continue
        kind = KINDS[4]
        for line in text.splitlines():
            head, _, rest = line.partition(" ")
            if "-" in head and not head.endswith(":"):  # a mapping's first line
                fields = line.split()
                start, end = (int(x, 16) for x in fields[0].split("-"))
                kind = _kind(fields[5] if len(fields) > 5 else "[anon]", (end - start) // 1024)
            elif head in ("Pss:", "Private_Dirty:"):
                key = "pss" if head == "Pss:" else "private_dirty"
                kib = float(rest.split()[0])
                sums[kind][key] += kib
                sums["total"][key] += kib
    return {k: {key: v / max(parents, 1) for key, v in d.items()} for k, d in sums.items()}


def page_changes(pid: int) -> dict[str, int]:
    """How much of each page private to ``pid`` (a round process) differs from the same page in
    its zygote (its parent): pages by the number of 8-byte words that differ. A page whose copy
    differs in a few words was copied for a reference count or a pointer; one that differs in
    most holds new data. (The zygote's own writes since the fork count too: a few pages.)"""
    zygote = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    bins = {"1-4 words": 0, "5-16": 0, "17-64": 0, "65-512": 0, "same": 0}
    with open(f"/proc/{pid}/pagemap", "rb", 0) as pagemap, open(f"/proc/{pid}/mem", "rb", 0) as mine, \
            open(f"/proc/{zygote}/mem", "rb", 0) as theirs:
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            fields = line.split()
            if not fields[1].startswith("rw"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            pagemap.seek(start // 4096 * 8)
            entries = pagemap.read((end - start) // 4096 * 8)
            for i in range(len(entries) // 8):
                flags = int.from_bytes(entries[i * 8:i * 8 + 8], "little")
                if not (flags >> 63) & 1 or not (flags >> 56) & 1:  # not present, or shared
                    continue
                addr = start + i * 4096
                try:
                    mine.seek(addr)
                    a = mine.read(4096)
                    theirs.seek(addr)
                    b = theirs.read(4096)
                except OSError:
                    continue
                words = sum(a[j:j + 8] != b[j:j + 8] for j in range(0, 4096, 8)) if len(b) == 4096 else 512
                key = ("same" if words == 0 else "1-4 words" if words <= 4 else "5-16" if words <= 16
                       else "17-64" if words <= 64 else "65-512")
                bins[key] += 1
    return bins


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _pss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(src: Path, shape: str, n: int, sticky_max: int | None = None,
            share: int | None = None) -> tuple[float, int, float, dict[str, Any]]:
    """Peak PSS (MiB) of the tree, the most processes seen at once, the engine time and what the
    scenario reported of its parked parents (``{}`` for a fan-out)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "WAC_STICKY_MAX", "WAC_STICKY_SHARE")}
    env["PYTHONPATH"] = str(src)
    if sticky_max is not None:
        env["WAC_STICKY_MAX"] = str(sticky_max)
    if share is not None:
        env["WAC_STICKY_SHARE"] = str(share)
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "--one", shape, str(n)],
                            stdout=subprocess.PIPE, text=True, env=env)
    peak, most = 0, 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, most
        while not done.is_set():
            pids = _tree(proc.pid)
            peak = max(peak, sum(_pss_kib(p) for p in pids))
            most = max(most, len(pids))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = proc.communicate(timeout=900)
    done.set()
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{shape} {n} on {src} failed")
    lines = [json.loads(line) for line in out.strip().splitlines()]
    parked = next((line for line in lines if "breakdown" in line), {})
    return peak / 1024, most, float(lines[-1]["seconds"]), parked


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--one", nargs=2)
    parser.add_argument("--before", type=Path, help="a tree whose src/ is the code to compare against")
    parser.add_argument("--after", type=Path, help="a tree whose src/ is measured (default: this checkout)")
    parser.add_argument("--fanout", type=int, default=1000)
    parser.add_argument("--parents", type=int, default=100)
    parser.add_argument("--pages", action="store_true",
                        help="also compare one parked parent's private pages with its zygote's, word by word")
    opts = parser.parse_args()
    if opts.pages:
        os.environ["WAC_BENCH_PAGES"] = "1"
    if opts.one:
        scenario(opts.one[0], int(opts.one[1]))
        return
    trees = [("after", (opts.after or ROOT) / "src")]
    if opts.before is not None:
        trees.insert(0, ("before", opts.before / "src"))
    print(f"memory bench: peak PSS of the process tree, one worker with 4 slots, load {os.getloadavg()[0]:.1f}")
    # parents parked all at once: each in a process of its own (WAC_STICKY_SHARE=1, as before
    # sharing), then sharing processes (the default); then the default cap of parked parents
    for shape, n, sticky_max, share in (("fanout", opts.fanout, None, None),
                                        ("parents", opts.parents, opts.parents, 1),
                                        ("parents", opts.parents, opts.parents, None),
                                        ("parents", opts.parents, None, None)):
        for name, src in trees:
            mib, most, seconds, parked = measure(src, shape, n, sticky_max, share)
            kept = ", ".join(filter(None, (f"WAC_STICKY_MAX={sticky_max}" if sticky_max else "",
                                           f"WAC_STICKY_SHARE={share}" if share else ""))) or "default settings"
            print(f"{shape:8} n={n:<5} {name:6} peak {mib:7.1f} MiB  processes {most:4}  ({seconds:.2f} s, {kept})",
                  flush=True)
            if parked:
                print(f"  per parked parent ({parked['parked']} parked at once in {parked.get('processes', '?')}"
                      " processes), KiB:")
                for kind, kib in parked["breakdown"].items():
                    print(f"    {kind:22} PSS {kib['pss']:7.0f}  private dirty {kib['private_dirty']:7.0f}", flush=True)
                if "pages" in parked:
                    print("  its private pages by 8-byte words that differ from the zygote's copy: "
                          + ", ".join(f"{k}: {v}" for k, v in parked["pages"].items()), flush=True)


if __name__ == "__main__":
    main()
