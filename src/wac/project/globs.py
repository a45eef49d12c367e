"""minimatch-style globs, as the wmill CLI applies ``includes``/``excludes`` to local paths.

``*`` and ``?`` stay inside one path segment, ``**`` as a whole segment crosses any number of
segments, ``[...]`` classes and ``{a,b}`` alternatives work, and a segment starting with ``.`` is
only matched by a pattern segment that starts with ``.`` itself (minimatch's default ``dot: false``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache


def _expand_braces(pattern: str) -> list[str]:
    depth = 0
    start = -1
    for i, ch in enumerate(pattern):
        if ch == "\\":
            continue
        if ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                body = pattern[start + 1 : i]
                parts = _split_top(body)
                if len(parts) < 2:
                    continue
                head, tail = pattern[:start], pattern[i + 1 :]
                out: list[str] = []
                for part in parts:
                    out.extend(_expand_braces(head + part + tail))
                return out
    return [pattern]


def _split_top(body: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in body:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    return parts


def _segment_regex(segment: str) -> str:
    out = ""
    if not segment.startswith("."):
        out += r"(?!\.)"
    i = 0
    while i < len(segment):
        ch = segment[i]
        if ch == "*":
            while i + 1 < len(segment) and segment[i + 1] == "*":
                i += 1
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch == "[":
            end = segment.find("]", i + 2)
            if end == -1:
                out += re.escape(ch)
            else:
                body = segment[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                out += "[" + body.replace("\\", "\\\\") + "]"
                i = end
        elif ch == "\\" and i + 1 < len(segment):
            i += 1
            out += re.escape(segment[i])
        else:
            out += re.escape(ch)
        i += 1
    return out


@lru_cache(maxsize=512)
def compile_glob(pattern: str) -> re.Pattern[str]:
    """A regex matching exactly the local paths the minimatch ``pattern`` matches."""
    alternatives = []
    for expanded in _expand_braces(pattern.removeprefix("./")):
        segments = expanded.split("/")
        rx = ""
        for idx, seg in enumerate(segments):
            last = idx == len(segments) - 1
            if seg == "**":
                # zero or more non-dot segments
                rx += r"(?:(?!\.)[^/]*(?:/|$))*" if last else r"(?:(?!\.)[^/]*/)*"
            else:
                rx += _segment_regex(seg) + ("" if last else "/")
        alternatives.append(rx)
    return re.compile("^(?:" + "|".join(alternatives) + r")\Z")


def matches(path: str, pattern: str) -> bool:
    """True if the local path ``path`` matches the minimatch ``pattern``."""
    return compile_glob(pattern).match(path) is not None


def matches_any(path: str, patterns: Iterable[str]) -> bool:
    """True if ``path`` matches one of ``patterns``."""
    return any(matches(path, p) for p in patterns)
