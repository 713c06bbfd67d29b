"""Turning a batch of upstream events into additive agent-day deltas.

Pure functions; the handler loads the little state they need (callers' recent
calls, agents' current states, complaints as last known) and writes back what
they return. Everything is keyed by agent and business day in the agent's
center time zone.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from operator import itemgetter
from typing import NamedTuple
from zoneinfo import ZoneInfo

from services.scoring.domain import business_date, day_bounds, split_span
from shared.contracts.views import (
    AgentStateView,
    CallCompletedView,
    ComplaintFiledView,
    ComplaintUpdatedView,
    MetricReportedView,
    SurveyAnsweredView,
)

LOGGED_OUT = "logged_out"
BUSY_STATES = frozenset({"on_call", "wrap_up"})


@dataclass(slots=True)
class DayDelta:
    """Increments to one agent-day's totals."""

    calls: int = 0
    handle_seconds: float = 0.0
    repeated_calls: int = 0
    scores: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])
    logged_in_seconds: float = 0.0
    busy_seconds: float = 0.0
    justified_complaints: int = 0


AgentDayKey = tuple[str, date]


@dataclass(slots=True)
class Tally:
    """Everything one batch adds."""

    days: defaultdict[AgentDayKey, DayDelta] = field(default_factory=lambda: defaultdict(DayDelta))
    metrics: defaultdict[tuple[str, date, str], list[float]] = field(
        default_factory=lambda: defaultdict(lambda: [0.0, 0])
    )

    def day(self, agent_id: str, day: date) -> DayDelta:
        return self.days[(agent_id, day)]


# --- calls and first-contact resolution ------------------------------------------------------


class CallRef(NamedTuple):
    """A call as first-contact resolution sees it."""

    call_key: str
    caller_id: str
    answered_at: datetime
    agent_id: str
    business_date: date
    repeated: bool = False


def call_ref(call: CallCompletedView, zone: ZoneInfo) -> CallRef:
    """The FCR view of a call; its business day is the day it was answered."""
    return CallRef(
        call_key=f"{call.source}/{call.call_id}"[:200],
        caller_id=call.caller_id,
        answered_at=call.answered_at,
        agent_id=call.agent_id,
        business_date=business_date(call.answered_at, zone),
    )


def count_calls(tally: Tally, calls: Iterable[CallRef], handle: dict[str, float]) -> None:
    """Add answered calls and their handle time (talk + hold + wrap)."""
    for call in calls:
        delta = tally.day(call.agent_id, call.business_date)
        delta.calls += 1
        delta.handle_seconds += handle[call.call_key]


def find_repeats(
    new: Sequence[CallRef],
    known: Sequence[CallRef],
    window: timedelta | Callable[[CallRef], timedelta],
) -> tuple[list[CallRef], list[CallRef]]:
    """Mark calls followed by another call from the same caller within the FCR window
    (one for all calls, or each call's own: its center's on its day).

    Works whatever order calls arrive in: the new calls and the callers' known
    calls are merged per caller. Returns the new calls (with `repeated` set)
    and the known calls that have just become repeated.
    """
    window_of = window if callable(window) else (lambda _ref, w=window: w)
    by_caller: defaultdict[str, list[tuple[CallRef, bool]]] = defaultdict(list)
    for ref in known:
        by_caller[ref.caller_id].append((ref, False))
    for ref in new:
        by_caller[ref.caller_id].append((ref, True))
    marked_new: list[CallRef] = []
    newly_repeated: list[CallRef] = []
    for calls in by_caller.values():
        if len(calls) == 1:  # most callers: one call, not repeated
            ref, is_new = calls[0]
            if is_new:
                marked_new.append(_with_repeated(ref, False) if ref.repeated else ref)
            continue
        calls.sort(key=_answered_then_key)
        count = len(calls)
        for i, (ref, is_new) in enumerate(calls):
            j = i + 1  # the next call answered strictly later
            while j < count and calls[j][0].answered_at <= ref.answered_at:
                j += 1
            repeated = j < count and calls[j][0].answered_at - ref.answered_at <= window_of(ref)
            if is_new:
                marked_new.append(_with_repeated(ref, repeated))
            elif repeated and not ref.repeated:
                newly_repeated.append(_with_repeated(ref, True))
    return marked_new, newly_repeated


def _answered_then_key(item: tuple[CallRef, bool]) -> tuple[datetime, str]:
    return item[0].answered_at, item[0].call_key


def _with_repeated(ref: CallRef, repeated: bool) -> CallRef:
    return CallRef(
        ref.call_key, ref.caller_id, ref.answered_at, ref.agent_id, ref.business_date, repeated
    )


def count_repeats(tally: Tally, repeated: Iterable[CallRef]) -> None:
    """Add calls that turned out not to be resolved at first contact."""
    for ref in repeated:
        tally.day(ref.agent_id, ref.business_date).repeated_calls += 1


# --- surveys, metrics ---------------------------------------------------------------------------


def count_survey(tally: Tally, survey: SurveyAnsweredView, zone: ZoneInfo) -> None:
    """Add an answered survey to the histogram of its day (satisfied is decided when scoring)."""
    day = business_date(survey.occurred_at, zone)
    tally.day(survey.agent_id, day).scores[survey.score - 1] += 1


def count_metric(tally: Tally, metric: MetricReportedView) -> None:
    """Add a department indicator value to its reported business day."""
    entry = tally.metrics[(metric.agent_id, metric.business_date, metric.indicator)]
    entry[0] += metric.value
    entry[1] += 1


# --- agent states and utilization ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Cursor:
    """An agent's current state and since when.

    `entered` lists every state entered at `since`, the current one last: a
    change at that instant into one of them is a copy already applied.
    """

    state: str
    since: datetime
    entered: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.entered:
            object.__setattr__(self, "entered", (self.state,))


def advance_states(
    tally: Tally,
    agent_id: str,
    cursor: Cursor | None,
    changes: Sequence[AgentStateView],
    zone: ZoneInfo,
    *,
    max_span: timedelta,
) -> tuple[Cursor | None, int]:
    """Close the agent's state spans up to each change; return the new cursor and how
    many changes came too late (older than the current state) to be placed.

    A span is logged-in time unless the state is `logged_out`, and busy time
    when on a call or in wrap-up; spans crossing midnight are split between
    the days. A span longer than `max_span` (a missing log-out) counts only up
    to `max_span`.

    Changes are applied without a dedup claim, so copies must change nothing:
    a change older than the current state is late (copies of applied changes
    are), and one at the current state's instant into a state already entered
    at that instant is a copy. Several changes at one instant keep their
    arrival order (the agent's partition order).
    """
    late = 0
    spans = _Spans(tally, agent_id, zone, max_span)
    # Instants as POSIX seconds: exact for equal instants, and far cheaper to
    # compare than aware datetimes.
    stamped = sorted([(c.occurred_at.timestamp(), c) for c in changes], key=_FIRST)
    if cursor is None:
        if not stamped:
            return None, 0
        first = stamped[0][1]
        cursor = Cursor(first.state, first.occurred_at)
    state, since, entered = cursor.state, cursor.since, cursor.entered
    since_ts = since.timestamp()
    for at_ts, change in stamped:
        if at_ts > since_ts:
            if state != LOGGED_OUT:
                spans.add(state, since, since_ts, at_ts)
            state, since, since_ts = change.state, change.occurred_at, at_ts
            entered = (state,)
        elif at_ts < since_ts:
            late += 1
        elif change.state not in entered:  # another state at the same instant
            state = change.state
            entered = (*entered, state)
    return Cursor(state, since, entered), late


_FIRST = itemgetter(0)


class _Spans:
    """Adds one agent's state spans to the tally, keeping the business day it last
    used at hand (nearly every span starts and ends on the same day)."""

    __slots__ = ("agent_id", "day", "day_end", "day_start", "max_span", "tally", "zone")

    def __init__(self, tally: Tally, agent_id: str, zone: ZoneInfo, max_span: timedelta) -> None:
        self.tally, self.agent_id, self.zone = tally, agent_id, zone
        self.max_span = max_span.total_seconds()
        self.day: date | None = None
        self.day_start = self.day_end = 0.0

    def add(self, state: str, since: datetime, start_ts: float, end_ts: float) -> None:
        end_ts = min(end_ts, start_ts + self.max_span)
        busy = state in BUSY_STATES
        if not (self.day_start <= start_ts and end_ts <= self.day_end):
            day = business_date(since, self.zone)
            bounds = day_bounds(day, self.zone)
            self.day, self.day_start, self.day_end = (
                day,
                bounds[0].timestamp(),
                bounds[1].timestamp(),
            )
            if end_ts > self.day_end:  # crosses midnight
                end = since + timedelta(seconds=end_ts - start_ts)
                for piece_day, seconds in split_span(since, end, self.zone):
                    self._count(piece_day, seconds, busy)
                return
        self._count(self.day, end_ts - start_ts, busy)  # type: ignore[arg-type]

    def _count(self, day: date, seconds: float, busy: bool) -> None:
        delta = self.tally.days[(self.agent_id, day)]
        delta.logged_in_seconds += seconds
        if busy:
            delta.busy_seconds += seconds


# --- complaints ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ComplaintView:
    """What scoring keeps of a complaint: whom it is about, and whether it counts."""

    complaint_id: str
    agent_id: str | None = None
    business_date: date | None = None
    justified: bool | None = None
    withdrawn: bool = False
    last_update_at: datetime | None = None
    """When the newest status update happened."""
    justified_at: datetime | None = None
    """When the newest event that stated `justified` happened."""

    @property
    def counted(self) -> bool:
        """A justified, not withdrawn complaint about an agent counts against them."""
        return self.agent_id is not None and self.justified is True and not self.withdrawn


def apply_complaint(
    view: ComplaintView | None, event: ComplaintFiledView | ComplaintUpdatedView, zone: ZoneInfo
) -> ComplaintView:
    """Fold a filing or an update into the complaint, whatever order they arrive in.

    The status follows the newest update; `justified` follows the newest event
    (filing or update) that states it, so a status-only update never erases it.
    """
    view = view or ComplaintView(event.complaint_id)
    justified, justified_at = view.justified, view.justified_at
    if event.justified is not None and (justified_at is None or event.occurred_at >= justified_at):
        justified, justified_at = event.justified, event.occurred_at
    if isinstance(event, ComplaintFiledView):
        return replace(
            view,
            agent_id=event.agent_id,
            business_date=business_date(event.occurred_at, zone) if event.agent_id else None,
            justified=justified,
            justified_at=justified_at,
        )
    newest = view.last_update_at is None or event.occurred_at >= view.last_update_at
    return replace(
        view,
        justified=justified,
        justified_at=justified_at,
        withdrawn=(event.status == "withdrawn") if newest else view.withdrawn,
        last_update_at=event.occurred_at if newest else view.last_update_at,
    )


def count_complaint_change(
    tally: Tally, before: ComplaintView | None, after: ComplaintView
) -> None:
    """Move the agent-day's justified count by what changed (a complaint counts once;
    a copy of an applied event changes nothing and touches no day)."""
    was = _counted_on(before)
    now = _counted_on(after)
    if was == now:
        return
    if was is not None:
        tally.day(*was).justified_complaints -= 1
    if now is not None:
        tally.day(*now).justified_complaints += 1


def _counted_on(view: ComplaintView | None) -> AgentDayKey | None:
    """The agent-day a complaint counts against, if it counts."""
    if view is None or not view.counted or view.business_date is None or not view.agent_id:
        return None
    return (view.agent_id, view.business_date)
