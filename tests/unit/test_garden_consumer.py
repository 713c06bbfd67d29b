"""The garden consumer's pure parts: decoding, which copies of a day count, the plant row,
the timeline rows and events of entries, configuration versions by day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from aiokafka import ConsumerRecord

from services.garden.domain.config import DEFAULT_CONFIG, config_document
from services.garden.domain.growth import FruitRipenedEntry, StageReachedEntry, grow
from services.garden.domain.harvest import harvest_plan
from services.garden.domain.plant import Plant, SettledDay
from services.garden.events import entry_detail, entry_event, harvest_detail, harvest_event
from services.garden.growing import entries_since, newer_days, plant_row, timeline_row
from services.garden.handlers import decode_score, latest_places, member_row, owner_name
from services.garden.repo.plants import Place
from services.garden.versions import ConfigBook, StoredVersion
from shared.contracts.catalog import parse_derived
from shared.contracts.garden import FruitHarvested, FruitRipened, StageReached
from tests.integration.garden_support import score

PLANT = Plant("agent", "A1", "fcr")
D0 = date(2026, 3, 1)
NOW = datetime(2026, 3, 20, tzinfo=UTC)
PLACE = Place("C1", "C1-D1", "C1-D1-T1")


def record(value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord("cc.scores.v1", 0, 0, 0, 0, b"A1", value, None, 0, 0, [])


def test_settled_scores_are_claimed_and_previews_are_not() -> None:
    settled = decode_score(record(score("A1", D0, 4).to_json()))
    preview = decode_score(record(score("A1", D0, 4, settled=False).to_json()))
    assert settled is not None and settled.key == "scoring/agent:A1:2026-03-01:satisfaction:settled"
    assert preview is not None and preview.key is None
    assert decode_score(record(b"not json")) is None
    assert decode_score(record(b'{"type": "score.settled"}')) is None


def test_a_name_the_score_carries_is_kept() -> None:
    named = score("A1", D0, 4, owner_name="Li Lei")
    assert owner_name(named) == "Li Lei"  # type: ignore[arg-type]
    assert member_row(named)[5] == "Li Lei"  # type: ignore[arg-type]
    assert owner_name(score("A1", D0, 4)) is None  # type: ignore[arg-type]


def test_only_copies_that_win_over_the_stored_one_count() -> None:
    stored = [SettledDay(D0, 4, "healthy", revision=2)]
    same = SettledDay(D0, 4, "healthy", revision=2)
    lower = SettledDay(D0, 10, "healthy", revision=1)
    higher = SettledDay(D0, 2, "pests", revision=3)
    later = SettledDay(D0 + timedelta(days=1), 6, "healthy")
    assert newer_days(stored, [same, lower]) == []
    assert newer_days(stored, [lower, higher, later]) == [higher, later]


def test_the_latest_day_decides_where_a_plant_belongs() -> None:
    older = score("A1", D0, 4, team="T-old", indicator="fcr")
    newer = score("A1", D0 + timedelta(days=1), 4, team="T-new", indicator="fcr")
    places = latest_places([newer, older])  # type: ignore[list-item]
    assert places[PLANT] == (D0 + timedelta(days=1), Place("C1", "C1-D1", "T-new"))


def test_the_plant_row_and_timeline_rows_of_a_history() -> None:
    history = grow(
        PLANT,
        [SettledDay(D0 + timedelta(days=i), 10, "healthy") for i in range(12)],
        lambda _: DEFAULT_CONFIG,
    )
    row = plant_row(history, PLACE)
    assert row[:7] == ("agent", "A1", "fcr", "C1", "C1-D1", "C1-D1-T1", "apple")
    assert row[7:] == (1, 20.0, "healthy", 2, 1, 0, D0 + timedelta(days=11))
    late = entries_since(history, D0 + timedelta(days=9))
    assert {e.business_date for e in late} == {D0 + timedelta(days=9), D0 + timedelta(days=10)}
    ripe = next(e for e in late if isinstance(e, FruitRipenedEntry))
    assert timeline_row(PLANT, ripe) == (
        ripe.entry_id,
        "agent",
        "A1",
        "fcr",
        "plant.fruit_ripened",
        D0 + timedelta(days=9),
        {"fruit": "apple", "ripe_fruit": 1, "cycle": 1},
    )


def test_each_entry_is_one_event_of_the_contract_with_the_entry_id() -> None:
    history = grow(
        PLANT,
        [SettledDay(D0 + timedelta(days=i), 10, "healthy") for i in range(10)],
        lambda _: DEFAULT_CONFIG,
    )
    for entry in history.timeline:
        event = entry_event(entry, PLANT, center_id="C1", occurred_at=NOW)
        assert event.event_id == entry.entry_id and event.type == entry.kind
        assert parse_derived(event.to_json()) == event
        if isinstance(entry, StageReachedEntry):
            assert isinstance(event, StageReached) and event.stage == entry.stage
            assert entry_detail(entry)["growth"] == entry.growth
        if isinstance(entry, FruitRipenedEntry):
            assert isinstance(event, FruitRipened) and event.cycle == 1


def test_a_harvest_is_one_fruit_harvested_named_by_its_lot() -> None:
    history = grow(
        PLANT,
        [SettledDay(D0 + timedelta(days=i), 10, "healthy") for i in range(20)],
        lambda _: DEFAULT_CONFIG,
    )
    (lot,) = harvest_plan(PLANT, history.ripenings, [], today=D0 + timedelta(days=25))
    event = harvest_event(lot, center_id="C1", harvested_by="A1", occurred_at=NOW)
    assert isinstance(event, FruitHarvested)
    assert (event.event_id, event.harvest_id, event.count) == (lot.harvest_id, lot.harvest_id, 2)
    assert event.harvested_by == "A1" and event.trigger == "owner"
    assert harvest_detail(lot, "A1")["through"] == 2
    assert parse_derived(event.to_json()) == event


def test_the_version_in_force_on_a_day() -> None:
    slow = config_document(DEFAULT_CONFIG) | {"fruit_at": 150}
    fast = config_document(DEFAULT_CONFIG) | {"fruit_at": 80}
    book = ConfigBook.of(
        [
            StoredVersion(2, "C1", D0, fast, "ops"),
            StoredVersion(1, "C1", date.min, slow, "ops"),
        ]
    )
    assert book.on("C1", D0 - timedelta(days=1)).fruit_at == 150
    assert book.on("C1", D0).fruit_at == 80
    assert book.on("C2", D0) is DEFAULT_CONFIG
    assert ConfigBook().for_center("C1")(D0) is DEFAULT_CONFIG
