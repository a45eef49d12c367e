"""A round's log file (engine/rounds/zygote_client.round_log_file)."""

from __future__ import annotations

import os
import sys

import pytest

from wac.engine.logcap import read_capped
from wac.engine.rounds.zygote_client import round_log_file


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="memfd_create is Linux's")
def test_on_linux_a_rounds_log_is_kept_in_memory_not_on_a_disk() -> None:
    with round_log_file() as log:
        assert os.readlink(f"/proc/self/fd/{log.fileno()}").startswith("/memfd:wac-round-log")


def test_a_rounds_log_reads_back_what_was_written_through_its_descriptor_and_empties_for_the_next_round() -> None:
    with round_log_file() as log:
        os.write(log.fileno(), "first round ✓\n".encode())  # as the round process writes it
        assert read_capped(log) == "first round ✓\n"
        log.truncate(0)  # RoundProcess.reset_log: a parked parent's next round
        log.seek(0)
        os.write(log.fileno(), b"next\n")
        assert read_capped(log) == "next\n"
