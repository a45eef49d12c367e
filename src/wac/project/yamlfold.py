"""Line folding of the ``yaml`` npm library (its ``foldFlowLines``), ported to Python."""

from __future__ import annotations

LINE_WIDTH = 80
MIN_CONTENT_WIDTH = 20

FOLD_FLOW = "flow"
FOLD_QUOTED = "quoted"
FOLD_BLOCK = "block"


def _consume_more_indented(text: str, i: int, indent_len: int) -> int:
    end = i
    start = i + 1
    ch = text[start] if start < len(text) else ""
    while ch in (" ", "\t"):
        if i < start + indent_len:
            i += 1
            ch = text[i] if i < len(text) else ""
        else:
            while True:
                i += 1
                ch = text[i] if i < len(text) else ""
                if not ch or ch == "\n":
                    break
            end = i
            start = i + 1
            ch = text[start] if start < len(text) else ""
    return end


def fold(text: str, indent: str, mode: str, indent_at_start: int | None) -> str:
    """``text`` folded at spaces to fit ``LINE_WIDTH`` after ``indent`` (``mode``: flow, quoted or
    block scalar; ``indent_at_start``: the column the first line starts at, if not ``indent``)."""
    end_step = max(1 + MIN_CONTENT_WIDTH, 1 + LINE_WIDTH - len(indent))
    if len(text) <= end_step:
        return text
    points = _fold_points(text, indent, mode, indent_at_start, end_step)
    if points is None or not points[0]:
        return text
    return _join(text, indent, mode, *points)


def _fold_points(
    text: str, indent: str, mode: str, indent_at_start: int | None, end_step: int,
) -> tuple[list[int], set[int]] | None:
    """Where to fold (indices of the spaces replaced by a line break; 0: before the text) and which
    of those folds split a quoted escape; None when a quoted string cannot be folded at all."""
    folds: list[int] = []
    escaped_folds: set[int] = set()
    end = LINE_WIDTH - len(indent)
    if indent_at_start is not None:
        if indent_at_start > LINE_WIDTH - max(2, MIN_CONTENT_WIDTH):
            folds.append(0)
        else:
            end = LINE_WIDTH - indent_at_start
    split: int | None = None
    prev = ""
    i = -1
    esc_start = -1
    esc_end = -1
    n = len(text)
    if mode == FOLD_BLOCK:
        i = _consume_more_indented(text, i, len(indent))
        if i != -1:
            end = i + end_step
    while True:
        i += 1
        if i >= n:
            break
        ch = text[i]
        if mode == FOLD_QUOTED and ch == "\\":
            esc_start = i
            nxt = text[i + 1] if i + 1 < n else ""
            i += {"x": 3, "u": 5, "U": 9}.get(nxt, 1)
            esc_end = i
        if ch == "\n":
            if mode == FOLD_BLOCK:
                i = _consume_more_indented(text, i, len(indent))
            end = i + len(indent) + end_step
            split = None
        else:
            if ch == " " and prev and prev not in (" ", "\n", "\t"):
                nxt = text[i + 1] if i + 1 < n else ""
                if nxt and nxt not in (" ", "\n", "\t"):
                    split = i
            if i >= end:
                if split:
                    folds.append(split)
                    end = split + end_step
                    split = None
                elif mode == FOLD_QUOTED:
                    while prev in (" ", "\t"):
                        prev = ch
                        i += 1
                        ch = text[i] if i < n else ""
                    j = i - 2 if i > esc_end + 1 else esc_start - 1
                    if j in escaped_folds:
                        return None
                    folds.append(j)
                    escaped_folds.add(j)
                    end = j + end_step
                    split = None
        prev = ch
    return folds, escaped_folds


def _join(text: str, indent: str, mode: str, folds: list[int], escaped_folds: set[int]) -> str:
    """``text`` with a line break and ``indent`` at each fold (a split escape keeps its backslash)."""
    n = len(text)
    res = text[: folds[0]]
    for idx, fold in enumerate(folds):
        stop = folds[idx + 1] if idx + 1 < len(folds) else n
        if fold == 0:
            res = f"\n{indent}{text[0:stop]}"
        else:
            if mode == FOLD_QUOTED and fold in escaped_folds:
                res += f"{text[fold]}\\"
            res += f"\n{indent}{text[fold + 1 : stop]}"
    return res
