"""Imports and comment directives -> requirement lines (spec §3)."""

from __future__ import annotations

import pytest

from tests.parser.helpers import corpus_source
from wac.parser import parse_script
from wac.parser.imports import ImportedModule
from wac.parser.requirements import package_key, requirement_for


def requirements(source: str) -> tuple[str, ...]:
    return parse_script(source).requirements


def test_plain_imports_map_to_distributions_and_drop_the_stdlib() -> None:
    assert parse_script(corpus_source("imports_plain")).requirements == (
        "bs4", "google-cloud-storage", "numpy", "pandas", "psycopg2-binary", "pyyaml",
        "requests", "wmill",
    )


@pytest.mark.parametrize(
    ("module", "names", "expected"),
    [
        ("yaml", (), "pyyaml"),
        ("PIL.Image", (), "Pillow"),
        ("sklearn.linear_model", (), "scikit-learn"),
        ("foo_bar.baz", (), "foo-bar"),
        ("google.cloud.bigquery_storage", (), "google-cloud-bigquery-storage"),
        ("google.cloud", ("storage",), "google-cloud-storage"),
        ("google.auth", (), "google"),
        ("azure.storage.filedatalake", (), "azure-storage-file-datalake"),
        ("azure.mgmt.compute", (), "azure-mgmt-compute"),
        ("os.path", (), None),
        ("__future__", (), None),
        ("wac", (), None),
        ("wmill", (), "wmill"),
    ],
)
def test_import_name_maps_to_requirement(module: str, names: tuple, expected: str | None) -> None:
    assert requirement_for(ImportedModule(module, names)) == expected


def test_requirements_block_replaces_inference() -> None:
    source = "#requirements:\n#burkina=0.4\n#nigeria\n#\n#congo\n\nimport os\nimport wmill\n" \
             "from zanzibar.estonie import talin\n\ndef main():\n    pass\n"
    assert requirements(source) == ("burkina=0.4", "nigeria")


def test_requirements_block_accepts_one_space_after_the_hash() -> None:
    assert parse_script(corpus_source("requirements_header_space")).requirements == (
        "httpx", "requests==2.31.0")


def test_extra_requirements_and_pins_replace_what_imports_infer() -> None:
    assert parse_script(corpus_source("extra_requirements_and_pins")).requirements == (
        "Pillow", "pyyaml==6.0.1", "requests==2.31.0", "tenacity==8.2.3")


def test_first_repin_wins_over_pins_and_later_imports() -> None:
    source = ("import pandas  # pin: pandas==2.0.0\nimport pandas  # repin: pandas==2.1.0\n"
              "import pandas  # repin: pandas==9\nimport pandas\n\ndef main():\n    pass\n")
    assert requirements(source) == ("pandas==2.1.0",)


def test_several_pins_of_one_package_are_all_kept() -> None:
    source = "import numpy  # pin: numpy>=1\nimport numpy  # pin: numpy<3\n\ndef main(): pass\n"
    assert requirements(source) == ("numpy<3", "numpy>=1")


def test_pep723_block_gives_the_dependencies() -> None:
    source = ('# /// script\n# requires-python = ">=3.11"\n# dependencies = ["httpx>=0.27", '
              '"rich"]\n# ///\nimport requests\n\ndef main():\n    pass\n')
    assert requirements(source) == ("httpx>=0.27", "rich")


def test_imports_inside_blocks_or_after_main_are_not_requirements() -> None:
    source = ("try:\n    import ujson\nexcept ImportError:\n    pass\nimport httpx\n\n"
              "def main():\n    import numpy\n\nimport pandas\n")
    assert requirements(source) == ("httpx",)


@pytest.mark.parametrize(
    ("line", "key"),
    [("Foo_Bar>=1", "foo-bar"), ("psycopg[binary, pool]", "psycopg"), ("a.b==1", "a-b"),
     ("requests", "requests"), ("x ; python_version<'3'", "x")],
)
def test_package_key_normalises_the_distribution_name(line: str, key: str) -> None:
    assert package_key(line) == key
