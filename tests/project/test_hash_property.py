"""Random repos hash exactly as an independent implementation of the spec's algorithm says."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings, strategies as st

from wac.metadata.rehash import rehash
from wac.project.config import RepoConfig

# -- the independent computation (spec wmill-cli §0 and §2.2), sharing no code with wac --------

ORDER = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$0123456789abcdefghijklmnopqrstuvwxyz"


def icu_key(s: str) -> tuple[list[int], list[int]]:
    return [ORDER.index(c.lower()) for c in s], [1 if c.isupper() else 0 for c in s]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def default_yaml(lock_ref: str) -> str:
    return (
        "summary: ''\ndescription: ''\n"
        f"lock: '!inline {lock_ref}'\n"
        "kind: script\nschema:\n  $schema: https://json-schema.org/draft/2020-12/schema\n"
        "  type: object\n  properties: {}\n  required: []\n"
    )


def text(s: str) -> str:
    """Files are read as UTF-8 with a leading BOM dropped (spec §0)."""
    return s[1:] if s.startswith("\ufeff") else s


def expected_entries(scripts: list[dict]) -> dict[str, str]:
    out = {}
    for s in scripts:
        meta = text(s["meta"]) if s["meta"] is not None else default_yaml(s["lock_ref"])
        main = sha("{}" + text(s["code"]) + meta)
        mods = {k: sha(text(v) + "{}") for k, v in s["modules"].items() if k.endswith((".py", ".ts"))}
        if not mods:
            out[s["remote"]] = main
            continue
        pairs = [[k, mods[k]] for k in sorted(mods, key=icu_key)]
        for k, h in mods.items():
            out[f"{s['remote']}+{k}"] = h
        out[f"{s['remote']}+__script_hash"] = sha(main + json.dumps(pairs, separators=(",", ":")))
    return out


def expected_file(entries: dict[str, str]) -> str:
    lines = [f"  {k}: {entries[k]}\n" for k in sorted(entries, key=icu_key)]
    return "version: v2\nlocks:\n" + "".join(lines) if lines else "version: v2\nlocks: {}\n"


# -- random repos ---------------------------------------------------------------------------

NAME = st.text(alphabet="abcXYZ_-.019", min_size=1, max_size=6).filter(
    lambda n: not n.startswith(".") and ".." not in n and not n.endswith(".") and n.lower() != "script"
)
TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\r"), max_size=40)
MODULE = st.tuples(
    st.lists(st.sampled_from(["lib", ".hidden", "Sub", "a_b", "a-b"]), max_size=2),
    NAME,
    st.sampled_from([".py", ".ts", ".md", ".lock"]),
)


@st.composite
def repos(draw: st.DrawFn) -> list[dict]:
    names = draw(st.lists(NAME, min_size=1, max_size=4, unique_by=lambda n: n.lower()))
    scripts = []
    for name in names:
        folder = draw(st.sampled_from(["f/demo", "f/Other", "u/me", "g/team"]))
        layout = draw(st.sampled_from(["flat", "folder"]))
        mods = {}
        for parts, mname, ext in draw(st.lists(MODULE, max_size=4)):
            key = "/".join([*parts, mname + ext])
            if layout == "folder" and not parts and (mname + ext).startswith("script."):
                continue
            mods[key] = draw(TEXT)
        scripts.append({
            "folder": folder, "name": name, "layout": layout, "code": draw(st.one_of(TEXT, TEXT.map(lambda t: "\ufeff" + t))), "modules": mods,
            "meta": draw(st.one_of(st.none(), st.just("summary: edited\n"), TEXT.map(lambda t: "x: y\n#" + t))),
        })
    return scripts


def build(root: Path, scripts: list[dict]) -> None:
    for s in scripts:
        remote = f"{s['folder']}/{s['name']}"
        s["remote"] = remote
        mod_dir = root / f"{remote}__mod"
        if s["layout"] == "flat":
            main = root / f"{remote}.py"
            meta_path = root / f"{remote}.script.yaml"
            s["lock_ref"] = f"{remote}.script.lock"
        else:
            main = mod_dir / "script.py"
            meta_path = mod_dir / "script.yaml"
            s["lock_ref"] = f"{remote}__mod/script.lock"
        main.parent.mkdir(parents=True, exist_ok=True)
        main.write_bytes(s["code"].encode())
        if s["meta"] is not None:
            meta_path.parent.mkdir(parents=True, exist_ok=True)
            meta_path.write_bytes(s["meta"].encode())
        for key, text in s["modules"].items():
            path = mod_dir / key
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(repos())
def test_rehash_of_a_random_repo_matches_an_independent_computation(scripts: list[dict]) -> None:
    root = Path(tempfile.mkdtemp(prefix="wac-prop-"))
    try:
        build(root, scripts)
        result = rehash(root, RepoConfig())
        assert len(result.rehashed) == len(scripts)
        assert (root / "wmill-lock.yaml").read_text() == expected_file(expected_entries(scripts))
    finally:
        shutil.rmtree(root)
