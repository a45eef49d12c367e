"""The one way wac reads and shows times (wac/timeformat.py)."""

from __future__ import annotations

import time

import pytest

from wac.timeformat import duration, local_time, timestamp


@pytest.mark.parametrize(("value", "expected"), [
    (1700000000, 1700000000.0),
    (1700000000.25, 1700000000.25),
    ("2023-11-14T22:13:20Z", 1700000000.0),
    ("2023-11-14T22:13:20z", 1700000000.0),
    ("2023-11-14T22:13:20.500+00:00", 1700000000.5),
    ("2023-11-15T00:13:20+02:00", 1700000000.0),
])
def test_timestamp_reads_unix_seconds_and_rfc3339_text(value: object, expected: float) -> None:
    assert timestamp(value) == expected


@pytest.mark.parametrize("value", [None, "", "yesterday", True, [], {}])
def test_timestamp_of_nothing_or_of_something_unreadable_is_none(value: object) -> None:
    assert timestamp(value) is None


@pytest.mark.parametrize(("seconds", "shown", "compact"), [
    (0.0521, "52 ms", "52ms"),
    (0.9994, "999 ms", "999ms"),
    (1.0, "1.0 s", "1.0s"),
    (61.26, "61.3 s", "61.3s"),
    (150.0, "2.5 min", "150.0s"),
])
def test_duration_shows_ms_then_s_then_min_and_compact_as_the_wmill_summaries(
    seconds: float, shown: str, compact: str
) -> None:
    assert duration(seconds) == shown
    assert duration(seconds, compact=True) == compact


def test_duration_of_none_is_empty() -> None:
    assert duration(None) == ""


def test_local_time_is_the_local_clock_and_a_dash_or_the_given_text_for_none() -> None:
    ts = 1700000000.0
    assert local_time(ts) == time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))
    assert local_time(None) == "-" and local_time(0) == "-" and local_time(None, none="") == ""


@pytest.mark.parametrize("seconds", [-0.0006, -0.0004, -2.5])
def test_duration_below_zero_is_shown_as_zero_never_with_a_minus(seconds: float) -> None:
    # a step's start comes from the round process's clock and its end from the store's, rounded
    # to the millisecond: the span can come out a hair below zero ("done -1 ms" in the live tree)
    assert duration(seconds) == "0 ms"
    assert duration(seconds, compact=True) == "0ms"
