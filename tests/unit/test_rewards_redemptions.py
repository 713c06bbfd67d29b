"""Redemptions: the request decision, the lifecycle and its events (domain.md §7)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.catalog import ANY_FRUIT, Limit, Prize
from services.rewards.domain.ledger import (
    EntryRequest,
    LedgerEntry,
    Owner,
    balances,
    ledger_faults,
    post,
)
from services.rewards.domain.periods import LimitPer, limit_period
from services.rewards.domain.redemptions import (
    FINAL,
    HOLDING,
    Plan,
    Redemption,
    Transition,
    approve,
    cancel,
    fulfil,
    redeemed_in,
    redemption_event,
    redemption_id,
    reject,
    repeats,
    request,
)
from services.rewards.domain.refusals import Refusal

NOW = datetime(2025, 3, 3, 2, tzinfo=UTC)
AGENT = Owner("agent", "A1")
CUP = Prize("water_cup", "Water cup", "watermelon", 10, stock=3)
LEAVE = Prize("day_of_leave", "A day of leave", ANY_FRUIT, 30, material=False, needs_approval=True)
Move = Callable[[Redemption, str, datetime], Transition | Refusal]


def ask(prize: Prize = CUP, **changes: object) -> Plan | Refusal:
    arguments: dict[str, object] = {
        "redemption_id": "r1",
        "owner": AGENT,
        "requester": "A1",
        "balances": {"watermelon": 12, "apple": 40, "grape": 40},
        "stock_left": prize.stock,
        "redeemed_in_period": 0,
        "now": NOW,
    }
    return request(prize, **{**arguments, **changes})  # type: ignore[arg-type]


def granted(prize: Prize = CUP, **changes: object) -> Redemption:
    plan = ask(prize, **changes)
    assert isinstance(plan, Plan)
    return plan.redemption


def test_a_granted_request_debits_and_reserves() -> None:
    plan = ask()
    assert isinstance(plan, Plan)
    assert (plan.debit.kind, plan.debit.amount, plan.debit.balance) == ("debit", -10, 2)
    assert plan.debit.reference == "redemption:r1"
    assert plan.stock_change == -1
    assert plan.redemption.status == "requested"
    unlimited = ask(replace(CUP, stock=None))
    assert isinstance(unlimited, Plan) and unlimited.stock_change == 0


@pytest.mark.parametrize(
    ("prize", "changes", "code"),
    [
        (replace(CUP, active=False), {}, "inactive_prize"),
        (replace(CUP, available_from=NOW + timedelta(seconds=1)), {}, "not_active"),
        (replace(CUP, available_until=NOW), {}, "not_active"),
        (CUP, {"owner": Owner("team", "T1")}, "not_for_owner_kind"),
        (replace(CUP, limit=Limit(2, "week")), {"redeemed_in_period": 2}, "limit_reached"),
        (CUP, {"stock_left": 0}, "out_of_stock"),
        (CUP, {"fruit": "apple"}, "fruit_not_accepted"),
        (CUP, {"balances": {"watermelon": 9}}, "insufficient_fruit"),
        (LEAVE, {"balances": {}}, "insufficient_fruit"),
        (LEAVE, {"fruit": "watermelon"}, "insufficient_fruit"),
    ],
)
def test_request_refusals(prize: Prize, changes: dict[str, object], code: str) -> None:
    refusal = ask(prize, **changes)
    assert isinstance(refusal, Refusal) and refusal.code == code


def test_any_fruit_takes_the_named_kind_else_the_largest_balance() -> None:
    assert granted(LEAVE).fruit == "apple"  # apple and grape tie at 40: first by name
    assert granted(LEAVE, fruit="grape").fruit == "grape"


def test_the_approval_path_and_the_direct_path() -> None:
    leave = granted(LEAVE)
    assert isinstance(fulfil(leave, "admin", NOW), Refusal)
    approved = approve(leave, "admin", NOW)
    assert isinstance(approved, Transition) and approved.redemption.status == "approved"
    done = fulfil(approved.redemption, "admin", NOW)
    assert isinstance(done, Transition) and done.redemption.status == "fulfilled"
    cup = granted()
    assert isinstance(approve(cup, "admin", NOW), Refusal)
    direct = fulfil(cup, "admin", NOW)
    assert isinstance(direct, Transition) and direct.refund is None and direct.stock_change == 0


@pytest.mark.parametrize("move", [reject, cancel])
def test_reject_and_cancel_refund_and_return_the_stock(move: Move) -> None:
    cup = granted()
    moved = move(cup, "A1", NOW + timedelta(hours=1))
    assert isinstance(moved, Transition)
    assert moved.refund is not None
    assert (moved.refund.kind, moved.refund.amount) == ("refund", 10)
    assert moved.refund.reference == "redemption:r1/refund"
    assert moved.stock_change == 1
    assert moved.redemption.changed_at == NOW + timedelta(hours=1)
    free = move(granted(replace(CUP, stock=None)), "A1", NOW)
    assert isinstance(free, Transition) and free.stock_change == 0


def test_each_status_maps_onto_one_event() -> None:
    leave = granted(LEAVE)
    assert redemption_event(leave).type == "redemption.requested"
    approved = approve(leave, "admin", NOW)
    assert isinstance(approved, Transition)
    rejected = reject(approved.redemption, "admin", NOW, reason="short-staffed that day")
    assert isinstance(rejected, Transition)
    event = redemption_event(rejected.redemption)
    assert event.type == "redemption.rejected"
    assert event.event_id == "redemption:r1/rejected"
    assert (event.actor, event.reason, event.price, event.fruit) == (
        "admin",
        "short-staffed that day",
        30,
        "apple",
    )
    assert event.partition_key == "A1"


def test_ids_follow_the_idempotency_key_per_owner() -> None:
    assert redemption_id(AGENT, "k1") == redemption_id(AGENT, "k1")
    assert redemption_id(AGENT, "k1") != redemption_id(Owner("agent", "A2"), "k1")
    assert len(redemption_id(AGENT, "k" * 500)) <= 128
    assert repeats(granted(), prize_id="water_cup", owner=AGENT)
    assert not repeats(granted(), prize_id="day_of_leave", owner=AGENT)


MOVES: dict[str, Move] = {"approve": approve, "fulfil": fulfil, "reject": reject, "cancel": cancel}


@given(
    st.booleans(),
    st.booleans(),
    st.lists(st.sampled_from(sorted(MOVES)), max_size=8),
)
def test_every_sequence_keeps_fruit_and_stock_consistent(
    needs_approval: bool, stocked: bool, moves: list[str]
) -> None:
    prize = replace(CUP, needs_approval=needs_approval, stock=5 if stocked else None)
    plan = ask(prize)
    assert isinstance(plan, Plan)
    opening = post(0, EntryRequest("credit", "watermelon", 12, "harvest", "A1", "harvest:h1"))
    assert isinstance(opening, LedgerEntry)
    entries, stock = [opening, plan.debit], 5 + plan.stock_change if stocked else None
    redemption = plan.redemption
    statuses = [redemption.status]
    for name in moves:
        outcome = MOVES[name](redemption, "admin", NOW)
        if isinstance(outcome, Refusal):
            assert outcome.code == "invalid_transition"
            continue
        assert redemption.status not in FINAL
        redemption = outcome.redemption
        statuses.append(redemption.status)
        if outcome.refund is not None:
            refund = post(balances(entries)["watermelon"], outcome.refund)
            assert not isinstance(refund, Refusal)
            entries.append(refund)
        if stock is not None:
            stock += outcome.stock_change
    taken = -sum(e.amount for e in entries[1:])
    assert taken == (prize.price if redemption.status in HOLDING else 0)
    assert balances(entries)["watermelon"] == 12 - taken
    if stock is not None:
        assert stock == (4 if redemption.status in HOLDING else 5)
    assert len({redemption_event(replace(redemption, status=s)).event_id for s in statuses}) == len(
        statuses
    )
    assert needs_approval or "approved" not in statuses
    assert ledger_faults(entries) == []


def _limited(per: LimitPer, zone: ZoneInfo, instants: list[datetime]) -> list[Redemption]:
    prize = replace(CUP, stock=None, limit=Limit(1, per))
    held: list[Redemption] = []
    for n, instant in enumerate(instants):
        counted = redeemed_in(held, limit_period(per, instant, zone))
        plan = ask(prize, redemption_id=f"r{n}", now=instant, redeemed_in_period=counted)
        if isinstance(plan, Plan):
            held.append(plan.redemption)
    return held


@pytest.mark.parametrize("zone", [ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")])
def test_a_daily_limit_resets_at_local_midnight(zone: ZoneInfo) -> None:
    late = datetime(2025, 3, 30, 23, 59, tzinfo=zone)  # Berlin: the spring-forward day
    again = datetime(2025, 3, 30, 23, 59, 30, tzinfo=zone)
    early = datetime(2025, 3, 31, 0, 1, tzinfo=zone)
    assert [r.requested_at for r in _limited("day", zone, [late, again, early])] == [late, early]


def test_a_weekly_limit_resets_on_monday_across_the_fall_back() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    sunday = datetime(2024, 10, 27, 23, 59, tzinfo=berlin)  # the 25-hour Sunday
    monday = datetime(2024, 10, 28, 0, 1, tzinfo=berlin)
    monday_noon = datetime(2024, 10, 28, 12, tzinfo=berlin)
    held = _limited("week", berlin, [sunday, monday, monday_noon])
    assert [r.requested_at for r in held] == [sunday, monday]


def test_cancelled_redemptions_free_their_place_in_the_limit() -> None:
    period = limit_period("month", NOW, "Asia/Shanghai")
    cup = granted()
    cancelled = cancel(cup, "A1", NOW)
    assert isinstance(cancelled, Transition)
    assert redeemed_in([cup], period) == 1
    assert redeemed_in([cancelled.redemption], period) == 0


@given(
    st.lists(
        st.datetimes(
            min_value=datetime(2024, 1, 1), max_value=datetime(2024, 12, 31), timezones=st.just(UTC)
        ),
        max_size=25,
    ),
    st.sampled_from(["day", "week", "month"]),
    st.sampled_from([ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")]),
)
def test_no_period_ever_holds_more_than_the_limit(
    instants: list[datetime], per: LimitPer, zone: ZoneInfo
) -> None:
    held = _limited(per, zone, sorted(instants))
    for redemption in held:
        assert redeemed_in(held, limit_period(per, redemption.requested_at, zone)) == 1
    distinct_periods = {limit_period(per, instant, zone) for instant in instants}
    assert len(held) == len(distinct_periods)
