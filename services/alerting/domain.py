"""Complaint-surge alerting rules (domain.md §8, seed 002): pure and synchronous.

Nothing here touches a database, a broker or a clock: every function takes
`now` (the detection clock) and returns values and past-tense events that the
handlers turn into rows, outbox messages and SMS.

- `DetectionClock`: event time that keeps running on the wall clock, so a
  surge that stops arriving still cools down.
- `SurgeWindow`: per-minute complaint counts of one series (category and
  region, or the category over every region), summed over a sliding window.
- `BaselineSlot` / `learn_hour` / `window_baseline`: the typical count per
  window, learned per hour of the week from history, with a floor and a seed.
- `SurgeRule`: window, trigger `count ≥ max(min_count, surge_factor × baseline)`,
  cool-down, repeat interval and its `EscalationLadder`.
- `Incident` + `assess` / `acknowledge` / `resolve`: the lifecycle
  open → escalated → acknowledged → resolved, returning `IncidentEvent`s and
  the `Notify` decisions (which level gets which SMS).
- `RecipientRateLimit`, `retry_delay`, `render_sms`: SMS rules.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
ALL_REGIONS = "*"
"""The region of a series that counts a category over every region."""

Language = Literal["zh", "en"]


# --------------------------------------------------------------------------- clock


@dataclass(frozen=True, slots=True)
class DetectionClock:
    """Event time, extrapolated by the wall clock between events.

    `now(wall)` is the latest event time seen plus the wall time that has passed
    since; an event later than that moves the clock forward. The clock never
    goes back, follows event time when upstream replays or runs fast (the
    simulator's 60x demo), and keeps advancing when complaints stop, so windows
    empty and incidents cool down without new events.
    """

    watermark: datetime
    observed_at: datetime

    def now(self, wall: datetime) -> datetime:
        """Return the detection time at wall-clock time `wall`."""
        return self.watermark + max(timedelta(0), wall - self.observed_at)

    def observe(self, event_time: datetime, wall: datetime) -> DetectionClock:
        """Return the clock after seeing an event that occurred at `event_time`."""
        return DetectionClock(max(self.now(wall), event_time), wall)

    @staticmethod
    def start(event_time: datetime, wall: datetime) -> DetectionClock:
        return DetectionClock(event_time, wall)


def minute_of(at: datetime) -> datetime:
    """Return the start of the minute bucket `at` falls in."""
    return at.replace(second=0, microsecond=0)


def hour_of(at: datetime) -> datetime:
    return at.replace(minute=0, second=0, microsecond=0)


def hour_of_week(at: datetime, zone: ZoneInfo) -> int:
    """Return 0..167: Monday 00:00-00:59 local time is 0, Sunday 23:00 is 167."""
    local = at.astimezone(zone)
    return local.weekday() * 24 + local.hour


# --------------------------------------------------------------------------- window


@dataclass(frozen=True, slots=True)
class SurgeWindow:
    """Complaints of one series per minute, and their sum over a sliding window.

    A window of W minutes at time `now` is the minute `now` falls in and the
    W − 1 minutes before it: the window slides a minute at a time, and a
    complaint leaves it W minutes (± the minute's width) after it was filed.
    Withdrawn complaints are subtracted from their filing minute.
    """

    minutes: int
    buckets: Mapping[datetime, int] = field(default_factory=dict)

    def first_minute(self, now: datetime) -> datetime:
        """Return the oldest minute bucket inside the window at `now`."""
        return minute_of(now) - (self.minutes - 1) * MINUTE

    def count(self, now: datetime) -> int:
        """Return the complaints inside the window at `now` (never negative)."""
        first, last = self.first_minute(now), minute_of(now)
        total = sum(n for minute, n in self.buckets.items() if first <= minute <= last)
        return max(0, total)

    def add(self, at: datetime, n: int = 1) -> SurgeWindow:
        """Return the window with `n` complaints (negative: withdrawn) at `at`."""
        minute = minute_of(at)
        buckets = dict(self.buckets)
        buckets[minute] = buckets.get(minute, 0) + n
        return SurgeWindow(self.minutes, buckets)


# --------------------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Recipient:
    """Someone who receives surge SMS."""

    name: str
    phone: str
    title: str = ""


@dataclass(frozen=True, slots=True)
class EscalationLevel:
    """One rung of a ladder: who is told, and when the incident reaches it.

    Reached when the window count is at least `min_count`, or when the
    incident has been open at least `after_minutes` (time-based; stops once
    acknowledged). A level with neither is reached on opening (L1).
    """

    level: int
    title: str
    recipients: tuple[Recipient, ...]
    min_count: int | None = None
    after_minutes: float | None = None

    def reached_by_volume(self, count: int) -> bool:
        return self.min_count is not None and count >= self.min_count

    def reached_by_time(self, minutes_open: float) -> bool:
        return self.after_minutes is not None and minutes_open >= self.after_minutes


Reason = Literal["opened", "volume", "duration"]


@dataclass(frozen=True, slots=True)
class EscalationLadder:
    """Ordered levels, L1 (department head) up to L4 (general manager)."""

    levels: tuple[EscalationLevel, ...]

    def __post_init__(self) -> None:
        if not self.levels:
            raise ValueError("a ladder needs at least one level")
        if [lv.level for lv in self.levels] != list(range(1, len(self.levels) + 1)):
            raise ValueError("ladder levels must be numbered 1, 2, 3, … in order")

    @property
    def top(self) -> int:
        return len(self.levels)

    def level(self, number: int) -> EscalationLevel:
        return self.levels[number - 1]

    def highest_met(self, count: int, minutes_open: float, *, by_time: bool) -> tuple[int, Reason]:
        """Return the highest level whose trigger is met (at least 1) and why."""
        best: tuple[int, Reason] = (1, "opened")
        for lv in self.levels[1:]:
            if lv.reached_by_volume(count):
                best = (lv.level, "volume")
            elif by_time and lv.reached_by_time(minutes_open):
                best = (lv.level, "duration")
        return best


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """How surges of one complaint category (optionally one region) are detected
    and escalated.

    `region` is a city, or `*` for the category over every region; with
    `per_region` a `*` rule watches each region as its own series (a network
    outage is local). `baseline_seed` is the expected count per window before
    anything was learned; `baseline_floor` keeps a quiet history from making the
    trigger hair-trigger.
    """

    category: str
    department: str
    ladder: EscalationLadder
    region: str = ALL_REGIONS
    per_region: bool = False
    window_minutes: int = 30
    min_count: int = 10
    surge_factor: float = 3.0
    baseline_floor: float = 2.0
    baseline_seed: float = 4.0
    cooldown_minutes: float = 15.0
    repeat_minutes: float = 30.0
    language: Language = "zh"

    @property
    def rule_id(self) -> str:
        return f"{self.category}:{self.region}"

    def series_region(self, complaint_region: str) -> str | None:
        """Return the region of this rule's series a complaint counts in, or None."""
        if self.region == ALL_REGIONS:
            return complaint_region if self.per_region else ALL_REGIONS
        return self.region if complaint_region == self.region else None

    def threshold(self, baseline: float) -> int:
        """Return the trigger: max(min_count, ⌈surge_factor × baseline⌉)."""
        return max(self.min_count, math.ceil(self.surge_factor * baseline - 1e-9))

    def is_surge(self, count: int, baseline: float) -> bool:
        return count >= self.threshold(baseline)


def rules_for(rules: Iterable[SurgeRule], category: str) -> list[SurgeRule]:
    return [r for r in rules if r.category == category]


# --------------------------------------------------------------------------- baseline


@dataclass(frozen=True, slots=True)
class BaselineSlot:
    """What a series typically sees in one hour of the week (complaints per hour)."""

    per_hour: float
    samples: int


def window_baseline(slot: BaselineSlot | None, rule: SurgeRule) -> float:
    """Return the expected count per window: learned (scaled to the window) or the seed,
    never below the floor."""
    if slot is None or slot.samples == 0:
        expected = rule.baseline_seed
    else:
        expected = slot.per_hour * rule.window_minutes / 60
    return max(rule.baseline_floor, expected)


def learn_hour(
    slot: BaselineSlot | None, count: int, rule: SurgeRule, *, alpha: float = 0.3
) -> BaselineSlot:
    """Fold one finished hour's count into its hour-of-week slot (EWMA).

    The prior of a new slot is the seed. The count is capped at the trigger
    (scaled to an hour), so a surge nudges the baseline instead of teaching
    the detector that surges are normal.
    """
    hours_per_window = rule.window_minutes / 60
    prior = (
        slot.per_hour
        if slot is not None and slot.samples > 0
        else max(rule.baseline_floor, rule.baseline_seed) / hours_per_window
    )
    cap = rule.threshold(window_baseline(slot, rule)) / hours_per_window
    observed = min(float(count), cap)
    return BaselineSlot(
        per_hour=alpha * observed + (1 - alpha) * prior,
        samples=(slot.samples if slot else 0) + 1,
    )


# --------------------------------------------------------------------------- incidents


class Status(StrEnum):
    OPEN = "open"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class Incident:
    """A complaint surge of one series, from detection to resolution.

    `level` is the highest level reached; `notified_level` the highest level
    whose recipients were sent the alert (lower while a silence holds SMS back).
    """

    rule_id: str
    category: str
    region: str
    opened_at: datetime
    status: Status = Status.OPEN
    level: int = 1
    notified_level: int = 0
    last_notified_at: datetime | None = None
    repeats: int = 0
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    below_since: datetime | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: str | None = None
    last_count: int = 0
    peak_count: int = 0
    baseline: float = 0.0
    threshold: int = 0
    silenced: bool = False
    id: int | None = None

    @property
    def active(self) -> bool:
        return self.status is not Status.RESOLVED

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None

    def minutes_open(self, now: datetime) -> float:
        return max(0.0, (now - self.opened_at).total_seconds() / 60)


# Past-tense events of an incident (its audit trail and its cc.alerts.v1 events).


@dataclass(frozen=True, slots=True)
class IncidentOpened:
    count: int
    baseline: float
    threshold: int
    kind: str = "opened"


@dataclass(frozen=True, slots=True)
class LevelReached:
    from_level: int
    to_level: int
    reason: Reason
    count: int
    kind: str = "escalated"


@dataclass(frozen=True, slots=True)
class NotificationsSuppressed:
    level: int
    kind: str = "silenced"


@dataclass(frozen=True, slots=True)
class Renotified:
    level: int
    round: int
    kind: str = "renotified"


@dataclass(frozen=True, slots=True)
class Acknowledged:
    by: str
    note: str | None
    kind: str = "acknowledged"


@dataclass(frozen=True, slots=True)
class Resolved:
    reason: Literal["cooldown", "manual"]
    by: str | None
    note: str | None = None
    kind: str = "resolved"


IncidentEvent = (
    IncidentOpened | LevelReached | NotificationsSuppressed | Renotified | Acknowledged | Resolved
)

NotifyKind = Literal["alert", "repeat", "resolved"]


@dataclass(frozen=True, slots=True)
class Notify:
    """Send an SMS of `kind` about the incident.

    alert/repeat: to the recipients of `level`; resolved: to everyone who was
    sent an alert or a repeat about the incident. `round` numbers repeats.
    """

    kind: NotifyKind
    level: int
    round: int = 0

    @property
    def tag(self) -> str:
        """The SMS kind as stored (unique per incident, level and recipient)."""
        return f"repeat-{self.round}" if self.kind == "repeat" else self.kind


@dataclass(frozen=True, slots=True)
class Assessment:
    """What assessing a series decided: the incident's new state, events, SMS."""

    incident: Incident | None
    events: tuple[IncidentEvent, ...] = ()
    notify: tuple[Notify, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.events or self.notify)


def _status(incident: Incident) -> Status:
    if incident.resolved_at is not None:
        return Status.RESOLVED
    if incident.acknowledged:
        return Status.ACKNOWLEDGED
    return Status.ESCALATED if incident.level > 1 else Status.OPEN


def assess(
    incident: Incident | None,
    *,
    rule: SurgeRule,
    region: str,
    count: int,
    baseline: float,
    now: datetime,
    silenced: bool = False,
) -> Assessment:
    """Assess one series at `now`: open, escalate, re-notify, cool down or resolve.

    - No active incident: opens one when `count` reaches the trigger.
    - Level: the highest reached so far, or higher when a level's volume
      trigger is met, or (unacknowledged and not cooling down) its time trigger.
      Levels never go down.
    - SMS: every level above the last notified one is alerted (a jump from L1
      to L3 also tells L2); while unacknowledged the current level is re-sent
      every `repeat_minutes`. A silence holds SMS back but not the incident;
      when it ends, levels reached meanwhile are alerted.
    - Resolution: after the count stayed below the trigger for `cooldown_minutes`;
      everyone alerted gets a resolution SMS.
    """
    threshold = rule.threshold(baseline)
    surging = count >= threshold
    events: list[IncidentEvent] = []
    notify: list[Notify] = []
    if incident is None or not incident.active:
        if not surging:
            return Assessment(None)
        incident = Incident(
            rule_id=rule.rule_id,
            category=rule.category,
            region=region,
            opened_at=now,
            level=0,
        )
        events.append(IncidentOpened(count=count, baseline=baseline, threshold=threshold))

    below_since = None if surging else (incident.below_since or now)
    by_time = not incident.acknowledged and below_since is None
    met, reason = rule.ladder.highest_met(count, incident.minutes_open(now), by_time=by_time)
    level = max(incident.level, met)
    if level > incident.level:
        events.append(LevelReached(incident.level, level, reason, count))

    notified_level, last_notified_at, repeats = (
        incident.notified_level,
        incident.last_notified_at,
        incident.repeats,
    )
    if level > notified_level:
        if silenced:
            if level > incident.level or not incident.silenced:
                events.append(NotificationsSuppressed(level))
        else:
            notify.extend(Notify("alert", lv) for lv in range(notified_level + 1, level + 1))
            notified_level, last_notified_at = level, now
    elif (
        not silenced
        and not incident.acknowledged
        and rule.repeat_minutes > 0
        and last_notified_at is not None
        and now - last_notified_at >= timedelta(minutes=rule.repeat_minutes)
    ):
        repeats += 1
        notify.append(Notify("repeat", level, repeats))
        events.append(Renotified(level, repeats))
        last_notified_at = now

    incident = replace(
        incident,
        level=level,
        notified_level=notified_level,
        last_notified_at=last_notified_at,
        repeats=repeats,
        below_since=below_since,
        last_count=count,
        peak_count=max(incident.peak_count, count),
        baseline=baseline,
        threshold=threshold,
        silenced=silenced,
    )
    if below_since is not None and now - below_since >= timedelta(minutes=rule.cooldown_minutes):
        resolved = _resolve(incident, now, Resolved("cooldown", None))
        return Assessment(
            resolved.incident, (*events, *resolved.events), (*notify, *resolved.notify)
        )
    return Assessment(replace(incident, status=_status(incident)), tuple(events), tuple(notify))


def _resolve(incident: Incident, now: datetime, event: Resolved) -> Assessment:
    done = replace(
        incident,
        resolved_at=now,
        resolved_by=event.by,
        resolution=event.reason,
        status=Status.RESOLVED,
    )
    notify = (Notify("resolved", incident.level),) if incident.notified_level > 0 else ()
    return Assessment(done, (event,), notify)


class IncidentClosed(ValueError):
    """The incident is resolved; it can no longer be acknowledged."""


def acknowledge(
    incident: Incident, *, by: str, now: datetime, note: str | None = None
) -> Assessment:
    """Acknowledge: stops time-based escalation and repeats (volume still escalates).

    Acknowledging twice changes nothing; a resolved incident cannot be acknowledged.
    """
    if not incident.active:
        raise IncidentClosed(f"incident {incident.id} is resolved")
    if incident.acknowledged:
        return Assessment(incident)
    done = replace(incident, acknowledged_at=now, acknowledged_by=by, status=Status.ACKNOWLEDGED)
    return Assessment(done, (Acknowledged(by, note),))


def resolve(incident: Incident, *, by: str, now: datetime, note: str | None = None) -> Assessment:
    """Resolve by hand; resolving a resolved incident changes nothing."""
    if not incident.active:
        return Assessment(incident)
    return _resolve(incident, now, Resolved("manual", by, note))


# --------------------------------------------------------------------------- silences


@dataclass(frozen=True, slots=True)
class Silence:
    """A planned outage or maintenance window: incidents are recorded, no SMS sent."""

    category: str
    region: str
    starts_at: datetime
    ends_at: datetime
    id: int | None = None

    def covers(self, category: str, region: str, at: datetime) -> bool:
        """Tell whether this silence holds back SMS of a series at `at`.

        A region silence covers that region's series; a `*` silence covers every
        series of the category. A region silence does not cover the
        category-wide series (other regions count in it).
        """
        return (
            self.category == category
            and (self.region == ALL_REGIONS or self.region == region)
            and self.starts_at <= at < self.ends_at
        )


def silenced(silences: Iterable[Silence], category: str, region: str, at: datetime) -> bool:
    return any(s.covers(category, region, at) for s in silences)


# --------------------------------------------------------------------------- SMS


@dataclass(frozen=True, slots=True)
class RecipientRateLimit:
    """At most `limit` SMS per recipient in any `window`; later ones wait (never dropped)."""

    limit: int
    window: timedelta

    def next_allowed(self, sent: Sequence[datetime], now: datetime) -> datetime:
        """Return when the next SMS may go to a recipient who was sent SMS at `sent`."""
        recent = sorted(t for t in sent if t > now - self.window)
        if len(recent) < self.limit:
            return now
        return recent[len(recent) - self.limit] + self.window


def retry_delay(attempt: int, *, base: float, cap: float, jitter: float = 0.0) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential,
    capped, with `jitter` in [0, 1) spreading retries of many messages."""
    delay: float = min(cap, base * float(2 ** max(0, attempt - 1)))
    return delay * (1 + 0.25 * jitter)


CATEGORY_NAMES: dict[Language, dict[str, str]] = {
    "zh": {
        "network": "网络类",
        "billing": "计费类",
        "product": "产品类",
        "service": "服务类",
        "other": "其他类",
    },
    "en": {},
}
REGION_NAMES: dict[Language, dict[str, str]] = {
    "zh": {
        "guangzhou": "广州",
        "shenzhen": "深圳",
        "dongguan": "东莞",
        "foshan": "佛山",
        "huizhou": "惠州",
        "zhuhai": "珠海",
        "zhongshan": "中山",
        "shantou": "汕头",
    },
    "en": {},
}


@dataclass(frozen=True, slots=True)
class SmsFacts:
    """What an SMS about an incident says."""

    incident_id: int
    category: str
    region: str
    count: int
    baseline: float
    minutes_open: float
    level: int
    window_minutes: int
    peak_count: int = 0
    resolution: str | None = None


def render_sms(kind: NotifyKind, facts: SmsFacts, language: Language = "zh") -> str:
    """Render the SMS text (Chinese by default), e.g.

    【投诉预警】网络类投诉30分钟内激增至57件(基线8件),已持续25分钟,当前L2级。事件#123
    """
    baseline = round(facts.baseline)
    minutes = int(facts.minutes_open)
    if language == "en":
        where = f" in {facts.region}" if facts.region != ALL_REGIONS else ""
        if kind == "resolved":
            how = "automatically" if facts.resolution == "cooldown" else "manually"
            return (
                f"[Complaint alert resolved] {facts.category} complaints{where}: incident "
                f"#{facts.incident_id} resolved {how} after {minutes} min, peak {facts.peak_count}."
            )
        if kind == "repeat":
            return (
                f"[Complaint alert - reminder] {facts.category} complaints{where}: incident "
                f"#{facts.incident_id} not acknowledged, {facts.count} in {facts.window_minutes} "
                f"min (peak {facts.peak_count}, baseline {baseline}), open {minutes} min, "
                f"level L{facts.level}."
            )
        return (
            f"[Complaint alert] {facts.category} complaints{where} surged to {facts.count} in "
            f"{facts.window_minutes} min (baseline {baseline}), open {minutes} min, "
            f"level L{facts.level}. Incident #{facts.incident_id}"
        )
    category = CATEGORY_NAMES["zh"].get(facts.category, f"{facts.category}类")
    where = (
        "" if facts.region == ALL_REGIONS else REGION_NAMES["zh"].get(facts.region, facts.region)
    )
    if kind == "resolved":
        how = "自动解除" if facts.resolution == "cooldown" else "已人工解除"
        return (
            f"【投诉预警解除】{where}{category}投诉事件#{facts.incident_id}{how},"
            f"共持续{minutes}分钟,峰值{facts.peak_count}件。"
        )
    if kind == "repeat":
        return (
            f"【投诉预警·重复提醒】{where}{category}投诉事件#{facts.incident_id}未确认,"
            f"{facts.window_minutes}分钟内{facts.count}件(峰值{facts.peak_count}件,基线{baseline}件),"
            f"已持续{minutes}分钟,当前L{facts.level}级。"
        )
    return (
        f"【投诉预警】{where}{category}投诉{facts.window_minutes}分钟内激增至{facts.count}件"
        f"(基线{baseline}件),已持续{minutes}分钟,当前L{facts.level}级。事件#{facts.incident_id}"
    )
