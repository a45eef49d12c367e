"""How the run view labels a run's entries (wac/cli/runview.py)."""

from __future__ import annotations

from wac.cli.runview import entry_label
from wac.engine.store.base import TimelineEntry


def test_a_step_that_ended_a_hair_before_its_recorded_start_shows_done_0_ms_not_a_negative_duration() -> None:
    # step(): started_at is the round process's time.time(), finished_at the store's clock (ms)
    entry = TimelineEntry(key="s_3", kind="step", status="done", started_at=1700000000.1236,
                          finished_at=1700000000.123, child_job_id=None)
    assert entry_label(entry, now=1700000001.0) == "✓ s_3 (step)  done 0 ms"


def test_a_task_that_took_42_ms_is_labelled_with_its_duration() -> None:
    entry = TimelineEntry(key="work_1", kind="task", status="done", started_at=1700000000.0,
                          finished_at=1700000000.042, child_job_id="j1")
    assert entry_label(entry, now=1700000001.0) == "✓ work_1  done 42 ms"


def test_a_running_task_started_after_the_views_clock_shows_0_ms_so_far() -> None:
    entry = TimelineEntry(key="work_2", kind="task", status="running", started_at=1700000000.5,
                          finished_at=None, child_job_id="j2")
    assert entry_label(entry, now=1700000000.4996) == "▶ work_2  running 0 ms"
