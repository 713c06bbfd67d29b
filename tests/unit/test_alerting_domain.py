"""Complaint-surge rules on a simulated clock: windows, baseline, trigger, the ladder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.alerting.domain.incidents import (
    Acknowledged,
    Incident,
    IncidentClosed,
    IncidentOpened,
    LevelReached,
    Notify,
    Renotified,
    Resolved,
    Status,
    acknowledge,
    assess,
    resolve,
)
from services.alerting.domain.ladder import EscalationLadder, EscalationLevel, Recipient
from services.alerting.domain.sms import RecipientRateLimit, SmsFacts, render_sms, retry_delay
from services.alerting.domain.surge import (
    ALL_REGIONS,
    BaselineSlot,
    DetectionClock,
    Silence,
    SurgeRule,
    SurgeWindow,
    hour_of_week,
    learn_hour,
    silenced,
    window_baseline,
)

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
MIN = timedelta(minutes=1)


def ladder() -> EscalationLadder:
    def people(level: int) -> tuple[Recipient, ...]:
        return (Recipient(f"L{level} head", f"+861380000{level:04d}"),)

    return EscalationLadder(
        (
            EscalationLevel(1, "department head", people(1)),
            EscalationLevel(2, "director", people(2), min_count=30, after_minutes=30),
            EscalationLevel(3, "vice-president", people(3), min_count=60, after_minutes=60),
            EscalationLevel(4, "general manager", people(4), min_count=100, after_minutes=120),
        )
    )


def rule(**changes: object) -> SurgeRule:
    values: dict[str, object] = {
        "category": "network",
        "department": "网络运维部",
        "ladder": ladder(),
        "per_region": True,
        "min_count": 10,
        "surge_factor": 3.0,
        "baseline_floor": 2.0,
        "baseline_seed": 4.0,
        "cooldown_minutes": 15,
        "repeat_minutes": 20,
    }
    values.update(changes)
    return SurgeRule(**values)  # type: ignore[arg-type]


class Run:
    """Drives one series through `assess` on a simulated clock, keeping every decision."""

    def __init__(self, surge_rule: SurgeRule | None = None) -> None:
        self.rule = surge_rule or rule()
        self.incident: Incident | None = None
        self.now = T0
        self.notified: list[tuple[datetime, Notify]] = []
        self.events: list[object] = []
        self.incidents: list[Incident] = []

    def step(self, count: int, *, minutes: float = 1, baseline: float = 4.0, quiet: bool = False):
        self.now += timedelta(minutes=minutes)
        result = assess(
            self.incident,
            rule=self.rule,
            region="foshan",
            count=count,
            baseline=baseline,
            now=self.now,
            silenced=quiet,
        )
        self._keep(result)
        return result

    def ack(self, by: str = "boss") -> None:
        assert self.incident is not None
        self._keep(acknowledge(self.incident, by=by, now=self.now))

    def _keep(self, result) -> None:  # type: ignore[no-untyped-def]
        if (
            result.incident is not None
            and (self.incident is None or not self.incident.active)
            and result.incident.active
        ):
            self.incidents.append(result.incident)
        self.incident = result.incident
        self.events += result.events
        self.notified += [(self.now, n) for n in result.notify]

    def alerts(self) -> list[int]:
        return [n.level for _, n in self.notified if n.kind == "alert"]

    def kinds(self) -> list[str]:
        return [n.tag for _, n in self.notified]


# ----------------------------------------------------------------------- clock


def test_clock_follows_events_and_runs_on_the_wall_clock() -> None:
    clock = DetectionClock.start(T0, T0)
    assert clock.now(T0 + 5 * MIN) == T0 + 5 * MIN
    fast = clock.observe(T0 + 60 * MIN, T0 + MIN)  # upstream runs ahead (60x demo)
    assert fast.now(T0 + MIN) == T0 + 60 * MIN
    assert fast.now(T0 + 3 * MIN) == T0 + 62 * MIN  # and keeps running when events stop
    late = fast.observe(T0, T0 + 3 * MIN)  # a late event does not move it back
    assert late.now(T0 + 3 * MIN) == T0 + 62 * MIN


@given(st.lists(st.tuples(st.integers(-3600, 3600), st.integers(0, 600)), min_size=1))
def test_clock_never_goes_back(steps: list[tuple[int, int]]) -> None:
    clock = DetectionClock.start(T0, T0)
    wall, previous = T0, T0
    for event_offset, wall_step in steps:
        wall += timedelta(seconds=wall_step)
        clock = clock.observe(T0 + timedelta(seconds=event_offset), wall)
        assert clock.now(wall) >= previous
        previous = clock.now(wall)


def test_hour_of_week_is_local() -> None:
    assert hour_of_week(T0, ZoneInfo("Asia/Shanghai")) == 10  # Monday 10:00
    assert hour_of_week(T0 + timedelta(days=6, hours=13), ZoneInfo("Asia/Shanghai")) == 167


# ----------------------------------------------------------------------- window


def test_window_counts_the_last_minutes_and_subtracts_withdrawals() -> None:
    window = SurgeWindow(30)
    for i in range(40):
        window = window.add(T0 + i * MIN)
    now = T0 + 39 * MIN + timedelta(seconds=30)
    assert window.count(now) == 30
    assert window.add(T0 + 39 * MIN, -1).count(now) == 29
    assert window.add(T0, -5).count(T0) == 0  # never negative
    assert window.count(T0 + 200 * MIN) == 0  # cools down on the clock alone


@given(
    st.lists(st.integers(0, 180 * 60), max_size=200),
    st.integers(1, 90),
    st.integers(0, 200 * 60),
)
def test_window_count_is_the_complaints_in_the_last_w_minutes(
    offsets: list[int], minutes: int, at: int
) -> None:
    window = SurgeWindow(minutes)
    for offset in offsets:
        window = window.add(T0 + timedelta(seconds=offset))
    now = T0 + timedelta(seconds=at)
    first = (at // 60 - minutes + 1) * 60
    expected = sum(1 for o in offsets if first <= o < (at // 60 + 1) * 60)
    assert window.count(now) == expected


# ----------------------------------------------------------------------- baseline + trigger


def test_baseline_seed_floor_and_learning() -> None:
    r = rule(baseline_seed=4.0, baseline_floor=2.0, window_minutes=30)
    assert window_baseline(None, r) == 4.0
    assert window_baseline(BaselineSlot(per_hour=1.0, samples=3), r) == 2.0  # floor
    assert window_baseline(BaselineSlot(per_hour=20.0, samples=3), r) == 10.0  # scaled to 30 min
    slot = None
    for _ in range(40):  # a steady 16 an hour is learned as 8 per window
        slot = learn_hour(slot, 16, r)
    assert window_baseline(slot, r) == pytest.approx(8.0, rel=0.01)


def test_a_surge_hour_only_nudges_the_baseline() -> None:
    r = rule()
    slot = BaselineSlot(per_hour=8.0, samples=10)  # 4 per window, trigger 12
    after = learn_hour(slot, 5000, r)
    assert after.per_hour == pytest.approx(0.3 * 24 + 0.7 * 8)  # capped at the trigger per hour


@given(st.floats(0, 1000), st.integers(1, 500), st.floats(1, 20), st.integers(0, 5000))
def test_trigger_is_max_of_min_count_and_factor_times_baseline(
    baseline: float, min_count: int, factor: float, count: int
) -> None:
    r = rule(min_count=min_count, surge_factor=factor)
    assert r.is_surge(count, baseline) == (count >= max(min_count, factor * baseline - 1e-9))


def test_series_regions() -> None:
    assert rule(per_region=True).series_region("foshan") == "foshan"
    assert rule(per_region=False).series_region("foshan") == ALL_REGIONS
    assert rule(region="foshan", per_region=False).series_region("zhuhai") is None


# ----------------------------------------------------------------------- the ladder


def test_quiet_series_opens_nothing() -> None:
    run = Run()
    for _ in range(60):
        assert run.step(9).incident is None
    assert run.notified == []


def test_volume_first_climbs_every_level_and_alerts_each_once() -> None:
    run = Run()
    run.step(12)
    assert run.incident is not None and run.incident.status is Status.OPEN
    assert run.alerts() == [1]
    run.step(35)
    assert run.incident.level == 2 and run.incident.status is Status.ESCALATED
    run.step(36)
    run.step(65)
    run.step(120)
    assert run.alerts() == [1, 2, 3, 4]
    reasons = [e.reason for e in run.events if isinstance(e, LevelReached)]
    assert reasons == ["opened", "volume", "volume", "volume"]


def test_a_jump_alerts_the_levels_below_too() -> None:
    run = Run()
    run.step(70)
    assert run.incident is not None and run.incident.level == 3
    assert run.alerts() == [1, 2, 3]


def test_duration_first_escalates_with_time_alone() -> None:
    run = Run(rule(repeat_minutes=0))
    run.step(15)
    for _ in range(130):
        run.step(15)
    assert run.alerts() == [1, 2, 3, 4]
    times = [at for at, n in run.notified if n.kind == "alert"]
    assert [(t - times[0]) // MIN for t in times] == [0, 30, 60, 120]
    assert {e.reason for e in run.events if isinstance(e, LevelReached)} == {"opened", "duration"}


def test_acknowledging_stops_time_and_repeats_but_not_volume() -> None:
    run = Run()
    run.step(15)
    run.step(15, minutes=10)
    run.ack()
    assert run.incident is not None and run.incident.status is Status.ACKNOWLEDGED
    assert any(isinstance(e, Acknowledged) for e in run.events)
    for _ in range(100):
        run.step(15)  # long past L2's 30 minutes and many repeat intervals
    assert run.alerts() == [1] and "repeat-1" not in run.kinds()
    run.step(65)  # volume still escalates
    assert run.alerts() == [1, 2, 3]
    assert run.incident.status is Status.ACKNOWLEDGED and run.incident.level == 3


def test_repeats_every_interval_while_unacknowledged() -> None:
    run = Run(rule(repeat_minutes=20))
    run.step(15)
    for _ in range(29):
        run.step(15)  # 29 minutes: one repeat at 20
    assert run.kinds() == ["alert", "repeat-1"]
    run.step(15)  # minute 30: L2 by time (the new level is alerted, not repeated)
    assert run.kinds() == ["alert", "repeat-1", "alert"]
    for _ in range(20):
        run.step(15)
    assert run.kinds()[-1] == "repeat-2"
    repeat = next(n for _, n in run.notified if n.tag == "repeat-2")
    assert repeat.level == 2
    assert sum(isinstance(e, Renotified) for e in run.events) == 2


def test_cool_down_resolves_and_tells_everyone_alerted() -> None:
    run = Run()
    run.step(40)
    run.step(5)
    assert run.incident is not None and run.incident.below_since is not None
    run.step(20)  # back above the trigger: cool-down starts again
    assert run.incident.below_since is None
    for _ in range(15):  # below since minute 0 … 14
        run.step(3)
    assert run.incident.active
    run.step(3)  # 15 minutes below the trigger
    assert run.incident.status is Status.RESOLVED and run.incident.resolution == "cooldown"
    assert run.kinds() == ["alert", "alert", "resolved"]
    assert run.incident.peak_count == 40
    assert run.step(3).incident is None or not run.incident.active
    run.step(50)  # a new surge is a new incident
    assert len(run.incidents) == 2


def test_cooling_down_incident_does_not_climb_by_time() -> None:
    run = Run(rule(cooldown_minutes=60, repeat_minutes=0))
    run.step(15)
    for _ in range(50):
        run.step(1)
    assert run.incident is not None and run.incident.level == 1


def test_silence_records_but_sends_nothing_until_it_ends() -> None:
    run = Run(rule(repeat_minutes=0))
    run.step(40, quiet=True)
    assert run.incident is not None and run.incident.level == 2
    assert run.notified == []
    assert any(isinstance(e, IncidentOpened) for e in run.events)
    run.step(70, quiet=True)
    assert run.notified == []
    run.step(70)  # the silence is over: levels reached meanwhile are alerted
    assert run.alerts() == [1, 2, 3]


def test_silenced_incident_resolves_without_resolution_sms() -> None:
    run = Run()
    run.step(40, quiet=True)
    for _ in range(16):
        run.step(0, quiet=True)
    assert run.incident is not None and not run.incident.active
    assert run.notified == []


def test_manual_resolution_and_acknowledgement_rules() -> None:
    run = Run()
    run.step(40)
    assert run.incident is not None
    again = acknowledge(
        acknowledge(run.incident, by="a", now=run.now).incident, by="b", now=run.now
    )  # type: ignore[arg-type]
    assert again.events == () and again.incident.acknowledged_by == "a"  # type: ignore[union-attr]
    done = resolve(run.incident, by="boss", now=run.now, note="fibre repaired")
    assert done.incident is not None and done.incident.status is Status.RESOLVED
    assert done.notify == (Notify("resolved", 2),)
    assert isinstance(done.events[0], Resolved) and done.events[0].by == "boss"
    assert resolve(done.incident, by="x", now=run.now).changed is False
    with pytest.raises(IncidentClosed):
        acknowledge(done.incident, by="x", now=run.now)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 150),  # window count
            st.integers(1, 15),  # minutes until this step
            st.booleans(),  # acknowledge now?
            st.booleans(),  # silenced now?
        ),
        min_size=1,
        max_size=80,
    )
)
def test_ladder_invariants(steps: list[tuple[int, int, bool, bool]]) -> None:
    run = Run()
    previous_level = 0
    for count, minutes, ack, quiet in steps:
        before = run.incident
        result = run.step(count, minutes=minutes, quiet=quiet)
        incident = result.incident
        if incident is None or (before is not None and not before.active and not incident.active):
            continue
        fresh = before is None or not before.active
        if not fresh:
            assert incident.level >= previous_level, "levels never go down"
            if before is not None and before.acknowledged:
                assert not any(n.kind == "repeat" for n in result.notify)
                assert not any(
                    isinstance(e, LevelReached) and e.reason == "duration" for e in result.events
                )
        if quiet:
            assert all(n.kind == "resolved" for n in result.notify) or not result.notify
            assert not any(n.kind in ("alert", "repeat") for n in result.notify)
        previous_level = incident.level
        if ack and incident.active:
            run.ack()
    # each incident alerts each level at most once, in order, and says resolved at most once
    per_incident: list[list[Notify]] = [[]]
    for _, n in run.notified:
        per_incident[-1].append(n)
        if n.kind == "resolved":
            per_incident.append([])
    for notes in per_incident:
        alerts = [n.level for n in notes if n.kind == "alert"]
        assert alerts == sorted(set(alerts))
        assert sum(n.kind == "resolved" for n in notes) <= 1
        rounds = [n.round for n in notes if n.kind == "repeat"]
        assert rounds == list(range(1, len(rounds) + 1))


# ----------------------------------------------------------------------- silences and SMS


def test_silence_coverage() -> None:
    s = Silence("network", "foshan", T0, T0 + 60 * MIN)
    assert s.covers("network", "foshan", T0)
    assert not s.covers("network", "foshan", T0 + 60 * MIN)
    assert not s.covers("network", "zhuhai", T0)
    assert not s.covers("network", ALL_REGIONS, T0)
    everywhere = Silence("network", ALL_REGIONS, T0, T0 + MIN)
    assert silenced([s, everywhere], "network", "zhuhai", T0)


def test_rate_limit_per_recipient_postpones() -> None:
    limit = RecipientRateLimit(limit=3, window=timedelta(minutes=10))
    sent = [T0, T0 + MIN, T0 + 2 * MIN]
    assert limit.next_allowed(sent[:2], T0 + 3 * MIN) == T0 + 3 * MIN
    assert limit.next_allowed(sent, T0 + 3 * MIN) == T0 + 10 * MIN
    assert limit.next_allowed(sent, T0 + 11 * MIN) == T0 + 11 * MIN


@given(st.lists(st.integers(0, 3600), max_size=30), st.integers(0, 3600))
def test_rate_limit_never_exceeded(offsets: list[int], at: int) -> None:
    limit = RecipientRateLimit(limit=4, window=timedelta(minutes=10))
    sent = [T0 + timedelta(seconds=o) for o in offsets]
    allowed = limit.next_allowed(sent, T0 + timedelta(seconds=at))
    assert allowed >= T0 + timedelta(seconds=at)
    assert sum(1 for t in sent if allowed - limit.window < t <= allowed) < 4


def test_retry_backoff_is_exponential_and_capped() -> None:
    delays = [retry_delay(n, base=2, cap=60) for n in range(1, 9)]
    assert delays == [2, 4, 8, 16, 32, 60, 60, 60]


def test_sms_text_matches_the_domain_example() -> None:
    facts = SmsFacts(
        incident_id=123,
        category="network",
        region=ALL_REGIONS,
        count=57,
        baseline=8.2,
        minutes_open=25.7,
        level=2,
        window_minutes=30,
    )
    assert (
        render_sms("alert", facts)
        == "【投诉预警】网络类投诉30分钟内激增至57件(基线8件),已持续25分钟,当前L2级。事件#123"
    )
    regional = render_sms("repeat", replace(facts, region="foshan"))
    assert regional.startswith("【投诉预警·重复提醒】佛山网络类投诉")
    english = render_sms("alert", facts, "en")
    assert "network complaints surged to 57 in 30 min (baseline 8)" in english
    assert "level L2. Incident #123" in english
    done = replace(facts, resolution="cooldown", peak_count=80)
    assert (
        render_sms("resolved", done)
        == "【投诉预警解除】网络类投诉事件#123自动解除,共持续25分钟,峰值80件。"
    )
