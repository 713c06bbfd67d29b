"""Wallets as append-only ledgers (domain.md §7)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.ledger import (
    EntryRequest,
    LedgerEntry,
    Owner,
    Recorded,
    adjustment_from_document,
    adjustment_problems,
    balances,
    credit_for,
    debit_for,
    entry_recorded,
    ledger_faults,
    post,
    refund_for,
    replay_of,
)
from services.rewards.domain.refusals import Refusal
from shared.contracts.garden import FruitHarvested

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
FRUITS = ("apple", "grape", "watermelon")


def harvest(owner_kind: str = "agent", count: int = 3) -> FruitHarvested:
    return FruitHarvested(
        event_id="agent:A1:satisfaction/harvest/1-3",
        occurred_at=NOW,
        owner_kind=owner_kind,  # type: ignore[arg-type]
        owner_id="A1",
        center_id="C1",
        indicator="satisfaction",
        fruit="watermelon",
        business_date=date(2025, 3, 1),
        count=count,
        harvest_id="agent:A1:satisfaction/harvest/1-3",
        trigger="owner",
        harvested_by="A1",
    )


def test_a_harvest_credits_its_owner_under_its_harvest_id() -> None:
    credited = credit_for(harvest())
    assert credited is not None
    owner, request = credited
    assert owner == Owner("agent", "A1")
    assert (request.kind, request.fruit, request.amount) == ("credit", "watermelon", 3)
    assert request.reference == "harvest:agent:A1:satisfaction/harvest/1-3"
    assert request.actor == "A1"


def test_units_above_teams_have_no_wallet() -> None:
    assert credit_for(harvest("department")) is None
    assert credit_for(harvest("team")) is not None


def test_post_never_goes_negative() -> None:
    debit = debit_for("r1", "apple", 10, actor="A1", prize_id="cup")
    assert post(9, debit) == Refusal("insufficient_fruit", "10 apple asked, 9 held")
    entry = post(10, debit)
    assert isinstance(entry, LedgerEntry)
    assert (entry.amount, entry.balance, entry.reference) == (-10, 0, "redemption:r1")


def test_refund_and_debit_references_differ() -> None:
    debit = debit_for("r1", "apple", 10, actor="A1", prize_id="cup")
    refund = refund_for("r1", "apple", 10, actor="admin", why="rejected")
    assert refund.reference == "redemption:r1/refund" != debit.reference
    assert refund.amount == 10


@pytest.mark.parametrize(("kind", "amount"), [("credit", -1), ("debit", 1), ("adjustment", 0)])
def test_amount_sign_follows_the_kind(kind: str, amount: int) -> None:
    with pytest.raises(ValueError, match="cannot have the amount"):
        EntryRequest(kind, "apple", amount, "r", "a", "x")  # type: ignore[arg-type]


def test_a_retry_is_told_from_a_reused_reference() -> None:
    doc = {"fruit": "apple", "amount": -2, "reason": "duplicate credit", "reference": "t-42"}
    request = adjustment_from_document(doc, actor="admin")
    assert request.reference == "adjustment:t-42"
    entry = post(5, request)
    assert isinstance(entry, LedgerEntry)
    assert replay_of(entry, adjustment_from_document(doc, actor="admin"))
    assert not replay_of(entry, adjustment_from_document({**doc, "amount": -3}, actor="admin"))


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"fruit": "Apple", "amount": 1, "reason": "x", "reference": "r"}, "fruit"),
        ({"fruit": "apple", "amount": 0, "reason": "x", "reference": "r"}, "amount"),
        ({"fruit": "apple", "amount": True, "reason": "x", "reference": "r"}, "amount"),
        ({"fruit": "apple", "amount": 10**6, "reason": "x", "reference": "r"}, "amount"),
        ({"fruit": "apple", "amount": 1, "reason": " ", "reference": "r"}, "reason"),
        ({"fruit": "apple", "amount": 1, "reason": "x", "reference": "a b"}, "reference"),
        ({"fruit": "apple", "amount": 1, "reason": "x", "reference": "r", "x": 1}, "x"),
    ],
)
def test_adjustment_problems(document: dict[str, object], field: str) -> None:
    assert [p["field"] for p in adjustment_problems(document)] == [field]
    with pytest.raises(ValueError, match="invalid adjustment"):
        adjustment_from_document(document, actor="admin")


def test_an_entry_maps_onto_its_event() -> None:
    entry = post(0, EntryRequest("credit", "apple", 4, "harvest", "A1", "harvest:h1"))
    assert isinstance(entry, LedgerEntry)
    event = entry_recorded(Recorded(7, Owner("team", "T1"), NOW, entry))
    assert event.event_id == "ledger:7"
    assert (event.owner_kind, event.owner_id, event.partition_key) == ("team", "T1", "T1")
    assert (event.entry_kind, event.amount, event.balance) == ("credit", 4, 4)
    assert event.reference == "harvest:h1"


requests = st.builds(
    lambda kind, fruit, size, sign: EntryRequest(
        kind,
        fruit,
        {"credit": size, "refund": size, "debit": -size, "adjustment": sign * size}[kind],
        "reason",
        "actor",
        "ref",
    ),
    st.sampled_from(["credit", "debit", "refund", "adjustment"]),
    st.sampled_from(FRUITS),
    st.integers(min_value=1, max_value=50),
    st.sampled_from([-1, 1]),
)


@given(st.lists(requests, max_size=60))
def test_no_sequence_of_posts_breaks_the_ledger(stream: list[EntryRequest]) -> None:
    entries: list[LedgerEntry] = []
    for request in stream:
        held = balances(entries).get(request.fruit, 0)
        outcome = post(held, request)
        if isinstance(outcome, Refusal):
            assert held + request.amount < 0
            assert outcome.code == "insufficient_fruit"
        else:
            entries.append(outcome)
    assert ledger_faults(entries) == []
    final = balances(entries)
    assert all(value >= 0 for value in final.values())
    for fruit, value in final.items():
        last = [e for e in entries if e.fruit == fruit][-1]
        assert last.balance == value == sum(e.amount for e in entries if e.fruit == fruit)


def test_faults_name_a_broken_running_balance() -> None:
    good = LedgerEntry("credit", "apple", 3, 3, "r", "a", "x")
    bad = LedgerEntry("debit", "apple", -1, 1, "r", "a", "y")
    assert ledger_faults([good, bad]) == ["entry 1: balance 1, expected 2"]
