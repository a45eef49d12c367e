"""Reading YAML with YAML 1.2 core scalars, as the ``yaml`` npm library reads it."""

from __future__ import annotations

import math
import re
from typing import Any


def load_yaml(text: str) -> Any:
    """Parse YAML with YAML 1.2 core scalars (``yes``/``on`` stay strings, as in the CLI).

    Inside an environment's round PyYAML is wac's own, lent for the call only
    (:mod:`wac.owndeps`): the user's code there still sees only its lock's packages.

    Raises:
        ImportError: PyYAML cannot be loaded here (:func:`wac.owndeps.missing` says why).
    """
    from wac.owndeps import own_deps

    with own_deps():
        import yaml  # type: ignore[import-untyped]

        return yaml.load(text, Loader=_core_loader())  # noqa: S506 - a safe loader subclass


_LOADER: Any = None


def _core_loader() -> Any:
    global _LOADER
    if _LOADER is not None:
        return _LOADER
    import yaml

    # libyaml's parser when PyYAML has it (about 10x faster); scalars are still resolved by the
    # Python resolver below, so both read the same values.
    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class CoreLoader(base):  # type: ignore[misc, valid-type]
        """SafeLoader with YAML 1.2 core implicit types instead of YAML 1.1's."""

    CoreLoader.yaml_implicit_resolvers = {}
    CoreLoader.add_implicit_resolver(
        "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)\Z"), list("tTfF")
    )
    CoreLoader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z"),
        list("-+0123456789"),
    )
    CoreLoader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(
            r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
            r"|[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$"
        ),
        list("-+0123456789."),
    )
    CoreLoader.add_implicit_resolver(
        "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)\Z"), ["~", "n", "N", ""]
    )

    def construct_int(loader: Any, node: Any) -> int:
        text = loader.construct_scalar(node)
        if text.startswith("0o"):
            return int(text[2:], 8)
        if text.startswith("0x"):
            return int(text[2:], 16)
        return int(text)

    def construct_float(loader: Any, node: Any) -> float:
        text = loader.construct_scalar(node).lower()
        if text.endswith("nan"):
            return math.nan
        if text.endswith("inf"):
            return -math.inf if text.startswith("-") else math.inf
        return float(text)

    CoreLoader.add_constructor("tag:yaml.org,2002:int", construct_int)
    CoreLoader.add_constructor("tag:yaml.org,2002:float", construct_float)
    _LOADER = CoreLoader
    return _LOADER
