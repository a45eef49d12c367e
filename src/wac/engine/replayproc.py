"""The replay process: one process dry-replays every run of one code bundle (issue 14 §1).

``python -m wac.engine.replayproc`` reads one JSON document on stdin::

    {"bundle_dir", "entry", "mod_dir", "shim_dir", "runs": [{"id", "args", "steps": [[key, done, value]]}]}

loads the bundle's main file once (as a round process does), replays each run with
:func:`wac.sdk.dryrun.dry_replay` and writes ``{"results": {id: verdict}}`` (or ``{"error": …}``
when the code cannot be loaded) on the stdout it started with. Anything the user's code prints
goes nowhere. Stdlib only.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _replay_all(spec: dict[str, Any]) -> dict[str, Any]:
    from wac.engine.rounds.round import error_record, load_main
    from wac.sdk.dryrun import dry_replay

    try:
        main = load_main(spec["bundle_dir"], spec["entry"], spec["mod_dir"], spec.get("shim_dir"))
    except BaseException as exc:  # the new code cannot even be loaded: every run is stuck
        return {"error": error_record(exc, spec["entry"])}
    import asyncio

    results: dict[str, Any] = {}
    loop = asyncio.new_event_loop()  # one event loop for every replay
    try:
        for run in spec["runs"]:
            os.environ["WAC_JOB_ID"] = os.environ["WAC_ROOT_JOB_ID"] = str(run["id"])
            results[run["id"]] = dry_replay(main, run["steps"], run.get("args") or {}, loop)
    finally:
        loop.close()
    return {"results": results}


def main() -> int:
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # user code printing at import or in a body must not corrupt the answer
    spec = json.load(sys.stdin)
    answer = _replay_all(spec)
    out.write(json.dumps(answer, ensure_ascii=False, default=str))
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
