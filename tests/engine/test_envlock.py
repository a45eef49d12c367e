"""Which lock a code bundle pins (no uv: the decisions only)."""

from __future__ import annotations

import json

import pytest

from wac.engine.bundle import MANIFEST, Bundle
from wac.engine.envlock import (
    ENV_LOCK,
    merge_locks,
    needs_env,
    pin_env,
    third_party_imports,
)
from wac.errors import EnvBuildError


def bundle(main: str, **modules: str) -> Bundle:
    files = {"f/a/b.py": main, MANIFEST: json.dumps({"entry": "f/a/b.py", "module_dir": "f/a/b__mod"})}
    files.update({f"f/a/b__mod/{k}.py": v for k, v in modules.items()})
    return Bundle(files=files, entry="f/a/b.py")


def test_stdlib_wmill_wac_and_the_bundles_own_modules_need_no_environment() -> None:
    b = bundle("import os, json\nimport wmill\nfrom wac import workflow\nimport helper\nfrom f.shared import x\n"
               "from . import sibling\ndef main(): pass\n", helper="import sys\n")
    assert third_party_imports(b.files) == [] and not needs_env(b.files)
    assert pin_env(b, None, "f/a/b", resolve=lambda *_: pytest.fail("nothing to resolve")) == b


def test_top_level_third_party_imports_of_the_script_and_its_modules_need_one() -> None:
    b = bundle("try:\n    import pandas as pd\nexcept ImportError:\n    pd = None\ndef main():\n    import late\n",
               helper="from numpy import array\n")
    assert third_party_imports(b.files) == ["pandas", "numpy"]
    assert needs_env(bundle("# requirements:\n# six==1.16.0\ndef main(): pass\n").files)


def test_a_fresh_lock_and_the_module_locks_are_merged_into_one_pinned_in_the_bundle() -> None:
    b = bundle("import six\ndef main(): pass\n", helper="import attrs\n")
    pinned = pin_env(b, {"f/a/b.py": "# py: 3.12\nsix==1.16.0\n",
                         "f/a/b__mod/helper.py": "# py: 3.12\nattrs==23.1.0\nsix==1.16.0\n"}, "f/a/b")
    assert pinned.files[ENV_LOCK] == "# py: 3.12\nsix==1.16.0\nattrs==23.1.0\n"
    assert pinned.hash != b.hash  # the bundle hash covers the lock: a job pins its environment


def test_without_a_usable_lock_the_inferred_requirements_are_resolved() -> None:
    b = bundle("import six\ndef main(): pass\n")
    pinned = pin_env(b, {"f/a/b.py": ""}, "f/a/b", resolve=lambda files, label: "# py: 3.11\nsix==1.17.0\n")
    assert pinned.files[ENV_LOCK] == "# py: 3.11\nsix==1.17.0\n"
    empty = pin_env(b, None, "f/a/b", resolve=lambda files, label: "# py: 3.11\n")
    assert ENV_LOCK not in empty.files


def test_module_locks_that_pin_a_package_differently_are_refused_naming_both() -> None:
    with pytest.raises(EnvBuildError) as caught:
        merge_locks({"f/a/b.py": "six==1.16.0\n", "f/a/b__mod/helper.py": "Six==1.17.0\n"}, "f/a/b")
    message = caught.value.message
    assert "f/a/b.py pins six==1.16.0" in message and "f/a/b__mod/helper.py pins Six==1.17.0" in message
