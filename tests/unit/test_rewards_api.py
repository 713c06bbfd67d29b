"""The rewards API's own rules, without a database: paging cursors, who may do what, the
Idempotency-Key and owner of a request, how resources render, the garden decoder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import ConsumerRecord

from services.rewards.api.access import (
    may_read_fund,
    may_read_share,
    may_read_wallet,
    may_spend,
    own_wallet,
    parse_owner,
)
from services.rewards.api.redemptions import idempotency_key, requested_owner
from services.rewards.api.render import redemption_out
from services.rewards.catalog import DEMO_CATALOG, redeemable
from services.rewards.config import RewardsSettings
from services.rewards.domain.catalog import prize_from_document, prize_problems
from services.rewards.domain.funds import Fund
from services.rewards.domain.ledger import Owner
from services.rewards.domain.redemptions import Plan, redemption_id, request
from services.rewards.handlers import decode_garden_event
from services.rewards.paging import (
    BadCursor,
    encode,
    ledger_cursor,
    read_ledger_cursor,
    read_redemption_cursor,
    redemption_cursor,
)
from shared.auth.tokens import Principal, Role
from shared.contracts.garden import FruitHarvested, PlantWatered
from shared.errors import ApiError

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
AGENT = Principal("A1", Role.AGENT, "T1")
LEADER = Principal("L1", Role.TEAM_LEADER, "T1")
MANAGER = Principal("M1", Role.MANAGER, "D1")
ADMIN = Principal("ops", Role.ADMIN, None)


def test_cursors_round_trip_and_foreign_ones_are_refused() -> None:
    assert read_ledger_cursor(ledger_cursor(1024)) == 1024
    at = datetime(2026, 12, 1, 1, 2, 3, 456, tzinfo=UTC)
    assert read_redemption_cursor(redemption_cursor(at, "r-1")) == (at, "r-1")
    for bad in ("", "nope", encode("x"), encode(1, 2), encode(True), "e30"):
        with pytest.raises(BadCursor):
            read_ledger_cursor(bad)
    for bad in (encode(1), encode("2026-12-01T00:00:00", "r"), encode("soon", "r")):
        with pytest.raises(BadCursor):
            read_redemption_cursor(bad)


def test_owners_parse_from_text() -> None:
    assert parse_owner("agent:A1") == Owner("agent", "A1")
    assert parse_owner("team:T1") == Owner("team", "T1")
    for bad in ("A1", "center:C1", "agent:", "agent:" + "x" * 129):
        assert parse_owner(bad) is None


def test_who_may_read_and_spend_a_wallet() -> None:
    mine, team, other = Owner("agent", "A1"), Owner("team", "T1"), Owner("agent", "A2")
    assert own_wallet(AGENT) == mine and own_wallet(LEADER) == team
    assert own_wallet(MANAGER) is None and own_wallet(ADMIN) is None
    assert may_spend(AGENT, mine) and not may_spend(AGENT, other) and not may_spend(AGENT, team)
    assert may_spend(LEADER, team) and not may_spend(LEADER, mine)
    assert not may_spend(ADMIN, mine)  # admins adjust, they do not spend
    assert may_read_wallet(ADMIN, other) and not may_read_wallet(LEADER, mine)
    assert not may_read_wallet(MANAGER, team)


def test_who_may_read_a_fund_and_a_share() -> None:
    fund = Fund("f1", "team", "T1", "agent", date(2026, 11, 1), date(2026, 12, 1), 100)
    assert may_read_fund(ADMIN, fund) and may_read_fund(LEADER, fund)
    assert not may_read_fund(AGENT, fund) and not may_read_fund(MANAGER, fund)
    assert may_read_fund(Principal("M2", Role.MANAGER, "T1"), fund)
    assert may_read_share(AGENT, Owner("agent", "A1"))
    assert not may_read_share(AGENT, Owner("agent", "A2"))


def test_a_request_needs_a_printable_idempotency_key() -> None:
    assert idempotency_key("abc-123") == "abc-123"
    for bad in (None, "", "with space", "x" * 201, "é"):
        with pytest.raises(ApiError) as refused:
            idempotency_key(bad)
        assert refused.value.status == 422 and refused.value.code == "idempotency_key_required"


def test_a_request_spends_from_the_callers_own_wallet() -> None:
    assert requested_owner(AGENT, None) == Owner("agent", "A1")
    assert requested_owner(LEADER, None) == Owner("team", "T1")
    assert requested_owner(AGENT, "agent:A1") == Owner("agent", "A1")
    for principal, given in ((AGENT, "agent:A2"), (ADMIN, None), (AGENT, "garbage")):
        with pytest.raises(ApiError) as refused:
            requested_owner(principal, given)
        assert refused.value.status == 403


def test_a_retry_names_the_same_redemption_and_renders_the_same() -> None:
    owner = Owner("agent", "A1")
    assert redemption_id(owner, "k1") == redemption_id(owner, "k1")
    assert redemption_id(owner, "k1") != redemption_id(Owner("agent", "A2"), "k1")
    prize = prize_from_document(DEMO_CATALOG[0])
    plan = request(
        prize,
        redemption_id=redemption_id(owner, "k1"),
        owner=owner,
        requester="A1",
        balances={"watermelon": 12},
        stock_left=3,
        redeemed_in_period=0,
        now=NOW,
    )
    assert isinstance(plan, Plan)
    out = redemption_out(plan.redemption)
    assert out["owner"] == "agent:A1" and out["status"] == "requested" and out["price"] == 10
    assert out["requested_at"] == "2026-12-01T09:30:00+00:00"


def test_the_demo_catalog_is_valid_and_on_offer() -> None:
    for document in DEMO_CATALOG:
        assert prize_problems(document) == [], document["id"]
    prizes = [prize_from_document(d) for d in DEMO_CATALOG]
    assert {p.prize_id for p in prizes if redeemable(p, "agent", NOW)} == {
        "card-holder",
        "water-cup",
        "day-of-leave",
        "training-course",
        "garden-sticker",
    }
    assert all(p.needs_approval for p in prizes if not p.material)
    assert not any(redeemable(p, "team", NOW) for p in prizes)
    withdrawn = prize_from_document({**DEMO_CATALOG[0], "stock": 0})
    assert not redeemable(withdrawn, "agent", NOW)
    later = prize_from_document(
        {**DEMO_CATALOG[1], "available_from": (NOW + timedelta(days=1)).isoformat()}
    )
    assert not redeemable(later, "agent", NOW)


def _record(value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("cc.garden.v1", 0, 1, 0, 0, b"A1", value, None, 0, len(value), [])


def test_the_consumer_claims_harvests_only() -> None:
    common = {
        "occurred_at": NOW,
        "owner_kind": "agent",
        "owner_id": "A1",
        "center_id": "C1",
        "indicator": "satisfaction",
        "fruit": "watermelon",
        "business_date": date(2026, 12, 1),
    }
    harvest = FruitHarvested(
        event_id="e1", count=2, harvest_id="h1", trigger="owner", harvested_by="A1", **common
    )
    claimed = decode_garden_event(_record(harvest.to_json()))
    assert claimed is not None and claimed.key == "garden/e1" and claimed.payload == harvest
    watered = decode_garden_event(_record(PlantWatered(event_id="e2", **common).to_json()))
    assert watered is not None and watered.key is None
    assert decode_garden_event(_record(b"{not json")) is None


def test_limit_periods_follow_the_centers_zone() -> None:
    settings = RewardsSettings(center_timezones={"C2": "America/New_York"})
    assert str(settings.zone_of("C2")) == "America/New_York"
    assert str(settings.zone_of("C1")) == "Asia/Shanghai" == str(settings.zone_of(None))
    with pytest.raises(ValueError):
        RewardsSettings(default_timezone="Mars/Olympus")
