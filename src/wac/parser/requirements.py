"""Imports and comment directives -> requirement lines (spec §3.2, §3.3).

Rules, in order:

* ``#requirements:`` (or ``# requirements:``) at column 0, or a PEP 723 ``# /// script`` block:
  the listed requirements are used as they are, nothing is inferred.
* otherwise every top-level import before main is mapped to a distribution name (stdlib and
  workspace scripts dropped), ``#extra_requirements:`` lines are added, and a trailing
  ``# pin: <req>`` / ``# repin: <req>`` on an import line replaces what that import infers.
"""

from __future__ import annotations

import re
import sys
import tomllib
from collections.abc import Iterable

from wac.parser.imports import ImportedModule

_DIRECTIVE_LINE = re.compile(r"^#\s?(\S+)\s*$")
_REQUIREMENTS = re.compile(r"^# ?requirements:\s*$")
_EXTRA = re.compile(r"^# ?extra_requirements:\s*$")
_PEP723_START = "# /// script"
_NAME_END = re.compile(r"[!=<>~;\[\s@]")

# import name (first segment, `_` already turned into `-`) -> requirement
SHORT_MAP: dict[str, str] = {
    "psycopg2": "psycopg2-binary",
    "psycopg": "psycopg[binary, pool]",
    "yaml": "pyyaml",
    "git": "GitPython",
    "shopify": "ShopifyAPI",
    "seleniumwire": "selenium-wire",
    "openbb-terminal": "openbb[all]",
    "riskfolio": "riskfolio-lib",
    "smb": "pysmb",
    "PIL": "Pillow",
    "googleapiclient": "google-api-python-client",
    "googlecloudbigquery": "google-cloud-bigquery",
    "dateutil": "python-dateutil",
    "mailparser": "mail-parser",
    "mailparser-reply": "mail-parser-reply",
    "gitlab": "python-gitlab",
    "smbclient": "smbprotocol",
    "playhouse": "peewee",
    "dns": "dnspython",
    "msoffcrypto": "msoffcrypto-tool",
    "tabula": "tabula-py",
    "shapefile": "pyshp",
    "sklearn": "scikit-learn",
    "umap": "umap-learn",
    "cv2": "opencv-python",
    "atlassian": "atlassian-python-api",
    "mysql": "mysql-connector-python",
    "tenable": "pytenable",
    "ns1": "ns1-python",
    "pymsql": "PyMySQL",
    "haystack": "haystack-ai",
    "github": "PyGithub",
    "ldap": "python-ldap",
    "opensearchpy": "opensearch-py",
    "lokalise": "python-lokalise-api",
    "msgraph": "msgraph-sdk",
    "pythonjsonlogger": "python-json-logger",
    "socks": "PySocks",
    "taiga": "python-taiga",
    "docx": "python-docx",
    "vt": "vt-py",
    # common import names whose distribution is named differently (wac additions)
    "bs4": "bs4",
    "jwt": "PyJWT",
    "magic": "python-magic",
    "dotenv": "python-dotenv",
    "OpenSSL": "pyOpenSSL",
    "Crypto": "pycryptodome",
    "slugify": "python-slugify",
    "jose": "python-jose",
    "multipart": "python-multipart",
    "pptx": "python-pptx",
    "telegram": "python-telegram-bot",
    "serial": "pyserial",
    "usb": "pyusb",
    "zmq": "pyzmq",
    "fitz": "PyMuPDF",
    "skimage": "scikit-image",
    "attr": "attrs",
    "pkg-resources": "setuptools",
    "snowflake": "snowflake-connector-python",
    "kafka": "kafka-python",
    "jenkins": "python-jenkins",
}

# full dotted module prefixes mapped by rule: google.cloud.<svc> -> google-cloud-<svc>
_NAMESPACES = ("google.cloud", "azure.mgmt")
_FULL_MAP: dict[str, str] = {
    "azure.keyvault.secrets": "azure-keyvault-secrets",
    "azure.storage.blob": "azure-storage-blob",
    "azure.storage.filedatalake": "azure-storage-file-datalake",
    "azure.storage.queue": "azure-storage-queue",
    "azure.identity": "azure-identity",
}
# provided by the engine that runs the script, never installed from an index
_PROVIDED = frozenset({"wac"})
_STDLIB = frozenset({n.replace("_", "-") for n in sys.stdlib_module_names} | {""})


def _dashed(name: str) -> str:
    return name.replace("_", "-")


def requirement_for(imported: ImportedModule) -> str | None:
    """Distribution requirement of one import, or None for the stdlib and the engine."""
    module = imported.module
    candidates = [module]
    if module in _NAMESPACES:
        # `from google.cloud import storage` imports google.cloud.storage (wmill says `google`)
        candidates = [f"{module}.{name}" for name in imported.names] or [module]
    for full in candidates:
        parts = full.split(".")
        for depth in range(len(parts), 1, -1):
            prefix = ".".join(parts[:depth])
            if prefix in _FULL_MAP:
                return _FULL_MAP[prefix]
        if len(parts) >= 3 and ".".join(parts[:2]) in _NAMESPACES:
            return _dashed("-".join(parts[:3]).replace(".", "-"))
    first = _dashed(module.split(".")[0])
    if first in _PROVIDED:
        return None
    mapped = SHORT_MAP.get(first)
    if mapped is not None:
        return mapped
    if first in _STDLIB:
        return None
    return first


def package_key(requirement: str) -> str:
    """Normalised distribution name of a requirement line (``Foo_Bar>=1`` -> ``foo-bar``)."""
    name = _NAME_END.split(requirement.strip(), 1)[0]
    return re.sub(r"[-_.]+", "-", name).lower()


def directive_block(lines: list[str], header: re.Pattern[str]) -> list[str] | None:
    """Requirement lines following a ``#requirements:``-style header, None without header."""
    for index, line in enumerate(lines):
        if header.match(line):
            out = []
            for following in lines[index + 1:]:
                found = _DIRECTIVE_LINE.match(following)
                if found is None:
                    break
                out.append(found.group(1))
            return out
    return None


def pep723_dependencies(lines: list[str]) -> list[str] | None:
    """``dependencies`` of a PEP 723 ``# /// script`` block, None without one."""
    try:
        start = lines.index(_PEP723_START)
    except ValueError:
        return None
    body = []
    for line in lines[start + 1:]:
        if line == "# ///":
            break
        body.append(line[2:] if line.startswith("# ") else line[1:])
    else:
        return None
    try:
        deps = tomllib.loads("\n".join(body)).get("dependencies", [])
    except tomllib.TOMLDecodeError:
        return None
    return [d for d in deps if isinstance(d, str)]


def infer_requirements(text: str, imports: Iterable[ImportedModule]) -> tuple[str, ...]:
    """Requirement lines of a script, sorted and unique."""
    lines = [line.rstrip("\r") for line in text.split("\n")]
    manual = directive_block(lines, _REQUIREMENTS)
    if manual is None:
        manual = pep723_dependencies(lines)
    if manual is not None:
        return tuple(sorted(set(manual)))
    by_key: dict[str, list[str]] = {}
    repinned: set[str] = set()
    for imported in imports:
        requirement = requirement_for(imported)
        if requirement is None and imported.pin is None:
            continue
        key = package_key(requirement) if requirement else package_key(imported.pin or "")
        if imported.pin is not None:
            if imported.repin:
                if key not in repinned:
                    repinned.add(key)
                    by_key[key] = [imported.pin]
                continue
            if key in repinned:
                continue
            pins = [p for p in by_key.get(key, []) if p != requirement]
            by_key[key] = pins + [imported.pin]
        elif key not in by_key and requirement is not None:
            by_key[key] = [requirement]
    for extra in directive_block(lines, _EXTRA) or []:
        key = package_key(extra)
        if key not in repinned:
            by_key[key] = [extra]
    return tuple(sorted({req for reqs in by_key.values() for req in reqs}))
