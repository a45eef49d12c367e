"""A round's log is kept in bounded size: head and tail, cut at line ends (issue 12, item 8)."""

from __future__ import annotations

import tempfile

from wac.engine.logcap import read_capped


def _file(data: bytes) -> tempfile._TemporaryFileWrapper:  # type: ignore[type-arg]
    fh = tempfile.TemporaryFile()
    fh.write(data)
    return fh


def test_a_small_log_is_kept_whole() -> None:
    with _file(b"one\ntwo\n") as fh:
        assert read_capped(fh, cap=4096) == "one\ntwo\n"


def test_a_big_log_keeps_its_first_and_last_lines_and_says_how_much_was_left_out() -> None:
    lines = [f"line {i:06d}\n".encode() for i in range(100_000)]  # 1.2 MB
    with _file(b"".join(lines)) as fh:
        text = read_capped(fh, cap=8192)
    assert len(text.encode()) <= 8192 + 200
    kept = text.splitlines()
    assert kept[0] == "line 000000" and kept[-1] == "line 099999"
    notes = [line for line in kept if line.startswith("[wac: ")]
    assert len(notes) == 1 and "MB of output left out here" in notes[0]
    # every kept line is whole: cut at line ends only
    assert all(line.startswith("line ") and len(line) == 11 for line in kept if not line.startswith("[wac"))


def test_the_cap_reads_only_what_it_keeps_whatever_the_file_size() -> None:
    class Counting:
        def __init__(self, fh) -> None:  # type: ignore[no-untyped-def]
            self.fh, self.read_bytes = fh, 0

        def seek(self, *a):  # type: ignore[no-untyped-def]
            return self.fh.seek(*a)

        def tell(self) -> int:
            return self.fh.tell()

        def read(self, n: int = -1) -> bytes:
            data = self.fh.read(n)
            self.read_bytes += len(data)
            return data

    with _file(b"x" * 79 + b"\n" * 1 + (b"y" * 79 + b"\n") * 200_000) as fh:
        counting = Counting(fh)
        read_capped(counting, cap=65536)  # type: ignore[arg-type]
    assert counting.read_bytes <= 65536
