"""What a round imports after it is forked costs private memory in every round process, a parked
parent's included (issue 17: ~0.6 MiB each when opening the round's store imported wac.owndeps
and importlib.abc per round). The zygote imports it once, before forking."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.clirun import SRC
from wac.engine.store import open_store

CODE = """
import json, sys
import wac.engine.rounds.zygote_server  # what the zygote has loaded before its first fork
before = set(sys.modules)
from wac.engine.rounds.host import open_round_store
store = open_round_store("sqlite://" + sys.argv[1])
store.close()
print(json.dumps(sorted(m for m in set(sys.modules) - before)))
"""


def test_opening_a_rounds_store_imports_nothing_the_zygote_has_not_loaded(tmp_path: Path) -> None:
    db = tmp_path / "wac.db"
    open_store(f"sqlite://{db}").close()
    out = subprocess.run([sys.executable, "-c", CODE, str(db)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)}, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
