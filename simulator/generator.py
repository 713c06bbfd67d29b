"""Seeded, deterministic upstream events for an org (domain.md §2).

A `Simulation` stands in for every center's switch/CTI (`switch-1`:
`call.completed`, `agent.state`), CRM (`crm-1`: `survey.answered`,
`complaint.filed`, `complaint.updated`) and QA system (`qa-1`:
`metric.reported`) over one or more business days. It yields plain, JSON-ready
dicts in `occurred_at` order — the same bytes for the same seed — with RFC 3339
timestamps in each center's time zone.

How a business day is made:

- Each agent who is not off that day works their shift: logs in (`ready`),
  takes calls — `on_call` when a call is answered, `wrap_up` when the caller
  hangs up, `ready` when after-call work is done — takes two short breaks and a
  meal break (`not_ready`), and logs out (`logged_out`) once the shift is over
  and the last call is wrapped up.
- A call's record (`call.completed`) is published when its after-call work
  ends: `ended_at = answered_at + talk + hold`, `occurred_at = ended_at + wrap`.
- Agents differ (`AgentSkill`): quicker or slower calls, more or fewer satisfied
  survey answers, repeat callers (missed first-call resolution) and complaints,
  and their daily QA score.
- A caller whose problem was not solved calls again minutes to hours later,
  sometimes after midnight, and reaches whichever agent answers next.
- About a third of callers answer the satisfaction survey (1–5).
- Complaints come mostly about the network, billing or products, following the
  call curve; some are about an agent's service. Some get `complaint.updated`
  events later (investigating, then resolved or withdrawn).
- A `Surge` multiplies one category's complaints in one region for a while.
"""

from __future__ import annotations

import math
import sys
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache, partial
from heapq import heappop, heappush, heapreplace
from itertools import accumulate, count
from operator import itemgetter
from random import Random
from typing import Any
from zoneinfo import ZoneInfo

from simulator.org import Org, Seat, seats
from simulator.workload import HOURLY_DEMAND, SHIFTS, Shift, VolumeProfile, idle_ratios

Event = dict[str, Any]
TimedEvent = tuple[int, Event]
"""An event with its `occurred_at` as Unix seconds (the stream's order)."""

SWITCH, CRM, QA = "switch-1", "crm-1", "qa-1"

COMPLAINT_CATEGORIES = {
    "network": 0.36,
    "billing": 0.30,
    "product": 0.14,
    "service": 0.10,
    "other": 0.10,
}
"""Mix of the complaints that are not about one agent."""
AGENT_COMPLAINT_CATEGORIES = {"service": 0.8, "billing": 0.1, "product": 0.1}
"""Mix of the complaints about an agent's service."""
REGIONS = {
    "guangzhou": 0.28,
    "shenzhen": 0.26,
    "dongguan": 0.13,
    "foshan": 0.12,
    "huizhou": 0.06,
    "zhuhai": 0.05,
    "zhongshan": 0.05,
    "shantou": 0.05,
}
"""Cities complaints come from, by share."""
CHANNELS = {"phone": 0.55, "app": 0.22, "web": 0.13, "weibo": 0.10}
QUEUES = (
    "10086-general",
    "10086-billing",
    "10086-data",
    "10086-broadband",
    "10086-vip",
    "10086-complaints",
)
"""The call queue of each kind of department (as `org.DEPARTMENT_KINDS`)."""
GENERAL_QUEUE_SHARE = 0.15
"""Calls an agent takes from the general queue when their own is quiet."""

FCR_WINDOW = 24 * 3600
QA_INDICATOR = "qa_score"
ASSESSED_AT_FILING = 0.3
"""Share of complaints whose justification is already known when filed."""
FOREVER = sys.maxsize

RECALL_DELAY = (math.log(2 * 3600), 1.1)
"""Lognormal (mu, sigma) of the wait before an unsolved caller calls again: median 2 h."""
SURVEY_DELAY = (math.log(90), 1.0)
"""Lognormal (mu, sigma) of the wait for a survey answer after the call: median 90 s."""
COMPLAINT_DELAY = (math.log(5400), 0.9)
"""Lognormal (mu, sigma) of the wait before a caller complains about an agent: median 1.5 h."""


@dataclass(frozen=True, slots=True)
class _Mix:
    """A weighted choice among names."""

    names: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def of(cls, weights: dict[str, float]) -> _Mix:
        return cls(tuple(weights), tuple(accumulate(weights.values())))

    def pick(self, rng: Random) -> str:
        return self.names[bisect(self.cumulative, rng.random() * self.cumulative[-1])]

    def share(self, name: str) -> float:
        index = self.names.index(name)
        previous = self.cumulative[index - 1] if index else 0.0
        return (self.cumulative[index] - previous) / self.cumulative[-1]


CATEGORY_MIX = _Mix.of(COMPLAINT_CATEGORIES)
AGENT_CATEGORY_MIX = _Mix.of(AGENT_COMPLAINT_CATEGORIES)
REGION_MIX = _Mix.of(REGIONS)
CHANNEL_MIX = _Mix.of(CHANNELS)
SHIFT_MIX = _Mix.of({shift.name: shift.share for shift in SHIFTS})
SHIFTS_BY_NAME = {shift.name: shift for shift in SHIFTS}


@dataclass(frozen=True, slots=True)
class Surge:
    """A burst of complaints of one category in one region (e.g. a city's network outage).

    For `minutes` from `start` (the center's local time) on `day` (default: the
    last simulated business day), the category's complaint rate in the region
    is multiplied by `factor`.
    """

    category: str
    region: str
    start: time
    minutes: int
    factor: float
    day: date | None = None

    @classmethod
    def parse(cls, text: str) -> Surge:
        """Read `category:region:HH:MM:minutes:factor[@YYYY-MM-DD]`."""
        spec, _, day = text.partition("@")
        parts = spec.split(":")
        if len(parts) != 6:
            raise ValueError(f"surge {text!r}: expected category:region:HH:MM:minutes:factor")
        category, region, hour, minute, minutes, factor = parts
        if category not in COMPLAINT_CATEGORIES:
            raise ValueError(f"surge category {category!r} not in {sorted(COMPLAINT_CATEGORIES)}")
        if region not in REGIONS:
            raise ValueError(f"surge region {region!r} not in {sorted(REGIONS)}")
        surge = cls(
            category,
            region,
            time(int(hour), int(minute)),
            int(minutes),
            float(factor),
            date.fromisoformat(day) if day else None,
        )
        if surge.minutes < 1 or surge.factor < 1:
            raise ValueError(f"surge {text!r}: minutes must be ≥ 1 and factor ≥ 1")
        return surge


@dataclass(frozen=True, slots=True)
class AgentSkill:
    """How an agent works, the same every day (drawn from the seed and the work number)."""

    quality: float
    """0 (poor) … 1 (excellent): drives satisfaction, FCR, complaints and QA score."""
    speed: float
    """Handle-time multiplier: below 1 handles calls quicker than the average agent."""
    shift: Shift

    @classmethod
    def draw(cls, seed: int, agent_id: str) -> AgentSkill:
        rng = Random(f"skill:{seed}:{agent_id}")
        quality = rng.betavariate(5, 2)
        # mu = sigma²/2 makes the mean of 1/speed 1: the average agent's calls per day
        speed = rng.lognormvariate(0.18**2 / 2, 0.18) * (1.12 - 0.17 * quality)
        return cls(quality, speed, SHIFTS_BY_NAME[SHIFT_MIX.pick(rng)])

    @property
    def satisfied_share(self) -> float:
        """Share of this agent's surveys answered 4 or 5."""
        return min(0.995, 0.8 + 0.19 * self.quality)

    @property
    def repeat_share(self) -> float:
        """Share of this agent's callers who call again within the FCR window."""
        return 0.33 - 0.18 * self.quality

    @property
    def complaint_weight(self) -> float:
        """This agent's complaints per call relative to the average agent's."""
        mean_quality = 5 / 7  # of betavariate(5, 2)
        return (0.3 + 2 * (1 - self.quality)) / (0.3 + 2 * (1 - mean_quality))

    @property
    def justified_share(self) -> float:
        """Share of complaints about this agent that turn out justified."""
        return 0.2 + 0.5 * (1 - self.quality)


class _CallerPool:
    """Callers whose problem was not solved on the first call, waiting to call again.

    A caller comes back after a delay (minutes to hours, sometimes across
    midnight) and gets whichever agent answers the next call after that moment,
    unless the FCR window since their first call has passed.
    """

    def __init__(self) -> None:
        self._waiting: list[tuple[int, int, int, str]] = []
        self._serial = count()

    def expect(self, caller: str, answered: int, done: int, rng: Random) -> None:
        """Schedule `caller` (first answered at `answered`) to call again after `done`."""
        delay = 120 + int(math.exp(rng.gauss(*RECALL_DELAY)))
        deadline = answered + FCR_WINDOW - 60
        heappush(self._waiting, (done + delay, next(self._serial), deadline, caller))

    def take(self, at: int) -> str | None:
        """Return a caller due to call again at `at`, if any."""
        waiting = self._waiting
        while waiting and waiting[0][0] <= at:
            _, _, deadline, caller = heappop(waiting)
            if at < deadline:
                return caller
        return None


@dataclass(frozen=True, slots=True)
class _CenterDay:
    """One center's business day: its clock and what its event sources share."""

    center_id: str
    day: date
    zone: ZoneInfo
    start: int
    """Local midnight, Unix seconds."""
    stamp: Callable[[int], str]
    run: str
    seed: int
    profile: VolumeProfile
    callers: _CallerPool
    idle_ratios: tuple[float, ...]

    def at(self, clock: time) -> int:
        """Unix seconds of a local time of day on this business day."""
        return int(datetime.combine(self.day, clock, self.zone).timestamp())


class _Source:
    """A publisher of events: numbers them and releases them in time order."""

    def __init__(self, day: _CenterDay, name: str, rng: Random) -> None:
        self.day = day
        self.rng = rng
        self.prefix = f"{day.run}-{day.day:%Y%m%d}-{name}-"
        self.pending: list[tuple[int, int, Event]] = []
        self.serial = 0
        self.complaints = 0

    def _emit(self, at: int, kind: str, source: str, fields: Event) -> None:
        self.serial += 1
        event = {
            "event_id": f"{self.prefix}e{self.serial}",
            "type": kind,
            "source": source,
            "occurred_at": self.day.stamp(at),
            **fields,
        }
        heappush(self.pending, (at, self.serial, event))

    def _release(self, until: int) -> Iterator[TimedEvent]:
        """Yield the pending events that occur at or before `until`."""
        pending = self.pending
        while pending and pending[0][0] <= until:
            at, _, event = heappop(pending)
            yield at, event

    def _file_complaint(
        self, at: int, category: str, region: str, agent_id: str | None, justified: bool
    ) -> None:
        """File a complaint at `at` and the CRM's later updates of it."""
        rng = self.rng
        self.complaints += 1
        complaint_id = f"{self.prefix}p{self.complaints}"
        self._emit(
            at,
            "complaint.filed",
            CRM,
            {
                "complaint_id": complaint_id,
                "category": category,
                "region": region,
                "channel": CHANNEL_MIX.pick(rng),
                "customer_id": f"CU{rng.randrange(10**10):010d}",
                "agent_id": agent_id,
                "justified": justified if rng.random() < ASSESSED_AT_FILING else None,
            },
        )
        update = {"complaint_id": complaint_id, "category": category}
        if rng.random() < 0.6:
            investigating = {**update, "status": "investigating", "justified": None}
            self._emit(at + rng.randint(600, 4 * 3600), "complaint.updated", CRM, investigating)
        if rng.random() < 0.5:
            withdrawn = rng.random() < 0.15
            closed = {
                **update,
                "status": "withdrawn" if withdrawn else "resolved",
                "justified": justified and not withdrawn,
            }
            self._emit(at + rng.randint(4 * 3600, 48 * 3600), "complaint.updated", CRM, closed)


class _AgentDay(_Source):
    """One agent's business day as the switch, the CRM and the QA system see it."""

    def __init__(self, day: _CenterDay, seat: Seat, skill: AgentSkill, rng: Random) -> None:
        super().__init__(day, seat.agent_id, rng)
        self.agent_id = seat.agent_id
        self.skill = skill
        self.queue = QUEUES[seat.department_index % len(QUEUES)]
        self.state = "logged_out"
        self.calls = 0
        self.surveys = 0
        handle = day.profile.handle_time
        self.handle = handle
        self.gap_means = tuple(skill.speed * handle.mean_seconds * r for r in day.idle_ratios)
        self.talk_mu = math.log(handle.talk_median * skill.speed)
        self.hold_mu = math.log(handle.hold_median)
        self.wrap_mu = math.log(handle.wrap_median * skill.speed)
        self.survey_share = day.profile.survey_share
        self.transfer_rate = day.profile.transfer_rate
        self.repeat_share = skill.repeat_share
        calls, complaints = day.profile.calls_per_agent, day.profile.complaints_per_agent
        per_call = complaints * day.profile.agent_complaint_share / calls
        self.complaint_share = per_call * skill.complaint_weight

    def __iter__(self) -> Iterator[TimedEvent]:
        rng, start, shift = self.rng, self.day.start, self.skill.shift
        t = max(start, start + int(shift.start_hour * 3600) + rng.randint(-300, 300))
        logout = start + int(shift.end_hour * 3600) + rng.randint(-120, 120)
        breaks = self._breaks()
        self._enter(t, "ready")
        while True:
            answer = t + 1 + int(rng.expovariate(1.0) * self._gap_mean(t))
            if breaks and breaks[-1][0] <= answer:
                t = self._pause(t, *breaks.pop())
            elif answer >= logout:
                t = self._log_out(t, logout)
                break
            else:
                t = self._call(t, answer)
            yield from self._release(t)
        self._report_qa_score(t)
        yield from self._release(FOREVER)

    def _breaks(self) -> list[tuple[int, int]]:
        """The day's breaks as (planned start, seconds), latest first."""
        rng, shift = self.rng, self.skill.shift
        planned = [
            (
                self.day.start + int((shift.start_hour + after) * 3600) + rng.randint(-900, 900),
                minutes * 60 + rng.randint(-60, 180),
            )
            for after, minutes in shift.breaks
        ]
        return sorted(planned, reverse=True)

    def _gap_mean(self, at: int) -> float:
        return self.gap_means[min(23, (at - self.day.start) // 3600)]

    def _enter(self, at: int, state: str) -> None:
        """Switch the agent to `state` at `at` (no event if already in it).

        Builds the event itself rather than through `_emit`: state changes are
        two thirds of all events, and this is the generator's hottest path.
        """
        if state != self.state:
            self.state = state
            self.serial += 1
            event = {
                "event_id": f"{self.prefix}e{self.serial}",
                "type": "agent.state",
                "source": SWITCH,
                "occurred_at": self.day.stamp(at),
                "agent_id": self.agent_id,
                "state": state,
            }
            heappush(self.pending, (at, self.serial, event))

    def _pause(self, t: int, planned: int, seconds: int) -> int:
        """Take a break once free; return when the agent is ready again."""
        begin = max(t, planned)
        if begin > t:
            self._enter(t, "ready")
        self._enter(begin, "not_ready")
        self._enter(begin + seconds, "ready")
        return begin + seconds

    def _log_out(self, t: int, planned: int) -> int:
        end = max(t, planned)
        if end > t:
            self._enter(t, "ready")
        self._enter(end, "logged_out")
        return end

    def _call(self, t: int, answer: int) -> int:
        """Answer a call at `answer`; return when its after-call work is done."""
        rng, handle, exp = self.rng, self.handle, math.exp
        self._enter(t, "ready")
        talk = max(1, int(exp(rng.gauss(self.talk_mu, handle.talk_sigma))))
        on_hold = rng.random() < handle.hold_share
        hold = int(exp(rng.gauss(self.hold_mu, handle.hold_sigma))) if on_hold else 0
        wrap = max(1, int(exp(rng.gauss(self.wrap_mu, handle.wrap_sigma))))
        ended = answer + talk + hold
        done = ended + wrap
        self._enter(answer, "on_call")
        self._enter(ended, "wrap_up")
        callers = self.day.callers
        fresh = rng.getrandbits(64)  # drawn always: an agent's day does not depend on others
        caller = callers.take(answer) or f"{fresh:016x}"
        self.calls += 1
        call_id = f"{self.prefix}c{self.calls}"
        self._emit(
            done,
            "call.completed",
            SWITCH,
            {
                "call_id": call_id,
                "agent_id": self.agent_id,
                "caller_id": caller,
                "queue": QUEUES[0] if rng.random() < GENERAL_QUEUE_SHARE else self.queue,
                "answered_at": self.day.stamp(answer),
                "ended_at": self.day.stamp(ended),
                "talk_seconds": talk,
                "hold_seconds": hold,
                "wrap_seconds": wrap,
                "transferred": rng.random() < self.transfer_rate,
            },
        )
        if rng.random() < self.repeat_share:
            callers.expect(caller, answer, done, rng)
        if rng.random() < self.survey_share:
            self._survey(done, call_id)
        if rng.random() < self.complaint_share:
            self._complain(done)
        return done

    def _survey(self, done: int, call_id: str) -> None:
        """The caller answers the satisfaction survey sent after the call."""
        rng = self.rng
        self.surveys += 1
        delay = min(2 * 3600, int(math.exp(rng.gauss(*SURVEY_DELAY))))
        if rng.random() < self.skill.satisfied_share:
            score = 5 if rng.random() < 0.72 else 4
        else:
            unhappy = rng.random()
            score = 3 if unhappy < 0.5 else 2 if unhappy < 0.7 else 1
        survey = {
            "survey_id": f"{self.prefix}s{self.surveys}",
            "call_id": call_id,
            "agent_id": self.agent_id,
            "score": score,
        }
        self._emit(done + delay, "survey.answered", CRM, survey)

    def _complain(self, done: int) -> None:
        """The caller files a complaint about this agent's service some time after the call."""
        rng = self.rng
        at = done + min(20 * 3600, int(math.exp(rng.gauss(*COMPLAINT_DELAY))))
        justified = rng.random() < self.skill.justified_share
        category = AGENT_CATEGORY_MIX.pick(rng)
        self._file_complaint(at, category, REGION_MIX.pick(rng), self.agent_id, justified)

    def _report_qa_score(self, logged_out: int) -> None:
        """The QA system reports the agent's quality score for the day after the shift."""
        rng = self.rng
        value = min(100.0, max(60.0, rng.gauss(68 + 28 * self.skill.quality, 5)))
        metric = {
            "agent_id": self.agent_id,
            "indicator": QA_INDICATOR,
            "business_date": self.day.day.isoformat(),
            "value": round(value, 1),
        }
        self._emit(logged_out + rng.randint(3600, 3 * 3600), "metric.reported", QA, metric)


class _ComplaintDesk(_Source):
    """A center's complaints that are not about an agent, over one business day."""

    def __init__(self, day: _CenterDay, agents: int, surges: Sequence[Surge]) -> None:
        rng = Random(f"{day.seed}:complaints:{day.center_id}:{day.day}")
        super().__init__(day, day.center_id, rng)
        profile = day.profile
        self.per_day = agents * profile.complaints_per_agent * (1 - profile.agent_complaint_share)
        self.surges = surges

    def __iter__(self) -> Iterator[TimedEvent]:
        for at, category, region in self._filings():
            self._file_complaint(at, category, region, None, self.rng.random() < 0.6)
            yield from self._release(at)
        yield from self._release(FOREVER)

    def _rate(self, at: int) -> float:
        """Complaints per second at `at`, following the call curve."""
        hour = min(23, (at - self.day.start) // 3600)
        return self.per_day * HOURLY_DEMAND[hour] / sum(HOURLY_DEMAND) / 3600

    def _filings(self) -> list[tuple[int, str, str]]:
        """When complaints are filed today, with their category and region, in order."""
        rng, start = self.rng, self.day.start
        filings = [
            (at, CATEGORY_MIX.pick(rng), REGION_MIX.pick(rng))
            for hour in range(24)
            for at in _arrivals(rng, start + hour * 3600, 3600, self._rate(start + hour * 3600))
        ]
        for surge in self.surges:
            share = CATEGORY_MIX.share(surge.category) * REGION_MIX.share(surge.region)
            begin = self.day.at(surge.start)
            for minute in range(begin, begin + surge.minutes * 60, 60):
                extra = self._rate(minute) * share * (surge.factor - 1)
                filings.extend(
                    (at, surge.category, surge.region) for at in _arrivals(rng, minute, 60, extra)
                )
        filings.sort()
        return filings


def _arrivals(rng: Random, start: int, seconds: int, rate: float) -> list[int]:
    """Poisson arrival times at `rate` per second within `seconds` from `start`."""
    times: list[int] = []
    if rate <= 0:
        return times
    offset = rng.expovariate(rate)
    while offset < seconds:
        times.append(start + int(offset))
        offset += rng.expovariate(rate)
    return times


def _stamper(zone: ZoneInfo) -> Callable[[int], str]:
    """Format Unix seconds as RFC 3339 local time with the zone's offset (memoised)."""

    @lru_cache(maxsize=1 << 17)
    def stamp(epoch: int) -> str:
        return datetime.fromtimestamp(epoch, zone).isoformat()

    return stamp


DaySources = tuple[int, Callable[[], list[Iterator[TimedEvent]]]]
"""When a center's business day starts, and how to make its event sources."""

SOURCE_BITS = 24
"""The merge heap holds `occurred << SOURCE_BITS | source number`: plain ints compare fast."""


def _merge(days: Iterable[DaySources]) -> Iterator[TimedEvent]:
    """Merge time-ordered sources into one stream, opening each day's sources as it starts.

    Ties in time go to the source opened first, so the order is deterministic.
    """
    heap: list[int] = []
    live: dict[int, tuple[TimedEvent, Iterator[TimedEvent]]] = {}
    numbers = count()
    for start, make in days:
        yield from _drain(heap, live, start)
        for source in make():
            first = next(source, None)
            if first is not None:
                number = next(numbers)
                live[number] = (first, source)
                heappush(heap, first[0] << SOURCE_BITS | number)
    yield from _drain(heap, live, FOREVER)


def _drain(
    heap: list[int], live: dict[int, tuple[TimedEvent, Iterator[TimedEvent]]], before: int
) -> Iterator[TimedEvent]:
    """Yield the merged events that occur before `before`."""
    mask = (1 << SOURCE_BITS) - 1
    limit = before << SOURCE_BITS
    while heap and heap[0] < limit:
        number = heap[0] & mask
        head, source = live[number]
        yield head
        following = next(source, None)
        if following is None:
            heappop(heap)
            del live[number]
        else:
            live[number] = (following, source)
            heapreplace(heap, following[0] << SOURCE_BITS | number)


class Simulation:
    """Every center's upstream systems for `days` business days from `start`."""

    def __init__(
        self,
        org: Org,
        *,
        seed: int,
        start: date,
        days: int = 1,
        surges: Sequence[Surge] = (),
        profile: VolumeProfile | None = None,
    ) -> None:
        if days < 1:
            raise ValueError("simulate at least one day")
        self.seed = seed
        self.start = start
        self.days = days
        self.profile = profile or VolumeProfile()
        last = start + timedelta(days=days - 1)
        self.surges = tuple(s if s.day else replace(s, day=last) for s in surges)
        self.run = f"{Random(f'run:{seed}').getrandbits(32):08x}"
        """Tag in every id: replaying a seed repeats ids, another seed never collides."""
        self._centers: dict[str, list[Seat]] = {}
        for seat in seats(org):
            self._centers.setdefault(seat.center_id, []).append(seat)

    def span(self) -> tuple[int, int]:
        """Unix seconds of the first local midnight and the last business day's end."""
        zones = {ZoneInfo(members[0].timezone) for members in self._centers.values()}
        end = self.start + timedelta(days=self.days)
        return (
            min(int(datetime.combine(self.start, time(), z).timestamp()) for z in zones),
            max(int(datetime.combine(end, time(), z).timestamp()) for z in zones),
        )

    def timed_events(self) -> Iterator[TimedEvent]:
        """Yield (Unix seconds, event) for every event, in `occurred_at` order."""
        callers = _CallerPool()
        ratios = idle_ratios(self.profile)
        days: list[DaySources] = []
        for center_id, members in self._centers.items():
            zone = ZoneInfo(members[0].timezone)
            stamp = _stamper(zone)
            crew = [(seat, AgentSkill.draw(self.seed, seat.agent_id)) for seat in members]
            for offset in range(self.days):
                day = self.start + timedelta(days=offset)
                start = int(datetime.combine(day, time(), zone).timestamp())
                context = _CenterDay(
                    center_id, day, zone, start, stamp, self.run, self.seed,
                    self.profile, callers, ratios,
                )  # fmt: skip
                days.append((start, partial(self._sources, context, crew)))
        days.sort(key=itemgetter(0))
        return _merge(days)

    def events(self) -> Iterator[Event]:
        """Yield every event, in `occurred_at` order."""
        return (event for _, event in self.timed_events())

    def _sources(
        self, day: _CenterDay, crew: list[tuple[Seat, AgentSkill]]
    ) -> list[Iterator[TimedEvent]]:
        sources: list[Iterator[TimedEvent]] = []
        for seat, skill in crew:
            rng = Random(f"{self.seed}:{seat.agent_id}:{day.day}")
            if rng.random() >= self.profile.absence_rate:
                sources.append(iter(_AgentDay(day, seat, skill, rng)))
        surges = [surge for surge in self.surges if surge.day == day.day]
        sources.append(iter(_ComplaintDesk(day, len(crew), surges)))
        return sources
