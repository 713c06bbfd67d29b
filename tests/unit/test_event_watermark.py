"""The event-time watermark: idle partitions are drained only when Kafka has nothing waiting
on them, and event time never runs ahead of the clock by more than the tolerance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.scoring.domain import PartitionMark, event_watermark

NOW = datetime(2026, 3, 3, 3, 0, tzinfo=UTC)
IDLE = timedelta(seconds=60)
LEAD = timedelta(minutes=5)
ACTIVE = PartitionMark(("cc.calls.v1", 0), NOW - timedelta(minutes=1), NOW)
STALLED = PartitionMark(("cc.calls.v1", 1), NOW - timedelta(hours=6), NOW - timedelta(hours=1))


def _watermark(*marks: PartitionMark, lagging: set[tuple[str, int]] | None) -> datetime | None:
    return event_watermark(marks, now=NOW, idle_after=IDLE, lagging=lagging, lead=LEAD)


def test_an_idle_partition_is_drained_only_without_a_backlog() -> None:
    assert _watermark(ACTIVE, STALLED, lagging=set()) == ACTIVE.high
    assert _watermark(ACTIVE, STALLED, lagging={STALLED.partition}) == STALLED.high
    assert _watermark(ACTIVE, STALLED, lagging=None) == STALLED.high  # backlog unknown


def test_a_backlog_on_a_partition_never_applied_leaves_the_watermark_unknown() -> None:
    assert _watermark(ACTIVE, lagging={("cc.calls.v1", 2)}) is None
    assert _watermark(lagging=set()) is None


def test_when_every_partition_is_idle_the_lowest_counts() -> None:
    idle = PartitionMark(("cc.calls.v1", 0), NOW - timedelta(hours=1), NOW - timedelta(hours=1))
    assert _watermark(idle, STALLED, lagging=set()) == STALLED.high


def test_event_time_never_runs_ahead_of_the_clock_by_more_than_the_tolerance() -> None:
    ahead = PartitionMark(("cc.calls.v1", 0), NOW + timedelta(hours=30), NOW)
    assert _watermark(ahead, lagging=set()) == NOW + LEAD
