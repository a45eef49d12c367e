"""The content hashes of wmill-lock.yaml, exactly as the wmill CLI computes them.

``script_hash = sha256("{}" + main + metadata)``, ``module_hash = sha256(module + "{}")``, and a
script with modules records ``R+<key>`` per module plus
``R+__script_hash = sha256(script_hash + JSON([[key, hash], ...] sorted by localeCompare))``.
Workspace dependency files: ``sha256(content + "dependencies/<file>")``.
"""

from __future__ import annotations

import hashlib
import json

from wac.project.collation import sort_key

SCRIPT_HASH_KEY = "__script_hash"


def sha256_text(text: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 encoding of ``text``."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogatepass")).hexdigest()


def script_hash(main_text: str, metadata_text: str, deps_json: str = "{}") -> str:
    """Hash of a script's main file and metadata text."""
    return sha256_text(deps_json + main_text + metadata_text)


def module_hash(module_text: str, deps_json: str = "{}") -> str:
    """Hash of one module file."""
    return sha256_text(module_text + deps_json)


def combined_script_hash(main_hash: str, module_hashes: dict[str, str]) -> str:
    """``__script_hash`` of a script with modules."""
    pairs = [[k, module_hashes[k]] for k in sorted(module_hashes, key=sort_key)]
    return sha256_text(main_hash + json.dumps(pairs, ensure_ascii=False, separators=(",", ":")))


def dependency_file_hash(text: str, local_path: str) -> str:
    """Hash of a workspace dependency file such as ``dependencies/requirements.in``."""
    return sha256_text(text + local_path)


def script_entries(
    remote_path: str, main_text: str, metadata_text: str, modules: dict[str, str]
) -> dict[str, str]:
    """The wmill-lock.yaml entries of one script: ``{R: h}`` or ``{R+key: h, R+__script_hash: h}``."""
    main = script_hash(main_text, metadata_text)
    if not modules:
        return {remote_path: main}
    hashes = {key: module_hash(text) for key, text in modules.items()}
    entries = {f"{remote_path}+{key}": h for key, h in hashes.items()}
    entries[f"{remote_path}+{SCRIPT_HASH_KEY}"] = combined_script_hash(main, hashes)
    return entries


def main_key(remote_path: str, has_modules: bool) -> str:
    """The key whose value decides whether a script is stale."""
    return f"{remote_path}+{SCRIPT_HASH_KEY}" if has_modules else remote_path
