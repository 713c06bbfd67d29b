"""The agents' gardens cache: what it serves, what it refuses to store, what it forgets."""

from __future__ import annotations

from datetime import date, timedelta

from prometheus_client import CollectorRegistry

from services.garden.garden_cache import CachedGarden, GardenCache
from services.garden.garden_listener import ChangeListener, driver_dsn
from services.garden.metrics import GardenMetrics
from services.garden.repo.reads import Member

DAY = date(2026, 3, 2)


def entry(
    agent: str, today: date = DAY, center: str | None = "C1", body: bytes = b"{}"
) -> CachedGarden:
    member = Member("agent", agent, center, "D1", "T1", None) if center else None
    return CachedGarden(member, center, today, body, f'"{agent}-{body.hex()}"')


def on(day: date = DAY):  # type: ignore[no-untyped-def]
    return lambda _center: day


def enabled(size: int = 10) -> GardenCache:
    cache = GardenCache(size)
    cache.enable()
    return cache


def test_a_stored_garden_is_served_for_its_day() -> None:
    cache = enabled()
    assert cache.get("A1", on()) is None
    assert cache.store("A1", entry("A1"), cache.epoch)
    found = cache.get("A1", on())
    assert found is not None and found.body == b"{}" and found.member is not None


def test_an_invalidation_between_the_epoch_and_the_store_prevents_the_store() -> None:
    cache = enabled()
    epoch = cache.epoch  # the reader takes the epoch, then runs its statement ...
    cache.forget(["A1"])  # ... while a commit's notification is heard
    assert not cache.store("A1", entry("A1"), epoch)
    assert cache.get("A1", on()) is None
    # another agent's change does not stop it, and a read begun after the change stores
    assert cache.store("A2", entry("A2"), epoch)
    assert cache.store("A1", entry("A1"), cache.epoch)


def test_an_invalidation_forgets_what_is_kept() -> None:
    cache = enabled()
    cache.store("A1", entry("A1"), cache.epoch)
    cache.store("A2", entry("A2"), cache.epoch)
    assert cache.forget(["A1", "A3"]) == 2
    assert cache.get("A1", on()) is None
    assert cache.get("A2", on()) is not None


def test_everything_forgets_every_garden_and_refuses_reads_begun_before() -> None:
    cache = enabled()
    cache.store("A1", entry("A1"), cache.epoch)
    epoch = cache.epoch
    cache.forget_all()
    assert cache.get("A1", on()) is None
    assert not cache.store("A2", entry("A2"), epoch)
    assert cache.store("A2", entry("A2"), cache.epoch)


def test_invalidations_forgotten_past_the_memory_still_refuse_older_reads() -> None:
    cache = enabled()
    epoch = cache.epoch
    cache.forget(["A1"])
    cache.forget(f"X{n}" for n in range(5000))  # A1's invalidation is no longer remembered
    assert not cache.store("A1", entry("A1"), epoch)
    assert cache.store("A1", entry("A1"), cache.epoch)


def test_the_least_recently_used_garden_goes_first() -> None:
    cache = enabled(size=2)
    for agent in ("A1", "A2"):
        cache.store(agent, entry(agent), cache.epoch)
    assert cache.get("A1", on()) is not None  # A2 is now the least recently used
    cache.store("A3", entry("A3"), cache.epoch)
    assert len(cache) == 2
    assert cache.get("A2", on()) is None
    assert cache.get("A1", on()) is not None and cache.get("A3", on()) is not None


def test_size_zero_keeps_nothing() -> None:
    cache = enabled(size=0)
    assert not cache.store("A1", entry("A1"), cache.epoch)
    assert cache.get("A1", on()) is None


def test_nothing_is_served_or_stored_while_the_notifications_are_not_heard() -> None:
    cache = GardenCache(10)  # before the listener connected
    assert not cache.store("A1", entry("A1"), cache.epoch)
    cache.enable()
    epoch = cache.epoch
    cache.store("A1", entry("A1"), epoch)
    cache.disable()  # the connection is lost
    assert cache.get("A1", on()) is None
    assert not cache.store("A2", entry("A2"), cache.epoch)
    cache.enable()  # reconnected: from nothing, and no read begun before it stores
    assert cache.get("A1", on()) is None
    assert not cache.store("A1", entry("A1"), epoch)
    assert cache.store("A1", entry("A1"), cache.epoch)


def test_a_garden_read_for_yesterday_misses_after_the_rollover() -> None:
    cache = enabled()
    cache.store("A1", entry("A1", today=DAY), cache.epoch)
    assert cache.get("A1", on(DAY + timedelta(days=1))) is None
    assert cache.get("A1", on(DAY)) is None  # forgotten, not kept for later


def test_the_day_is_the_entrys_centers() -> None:
    cache = enabled()
    cache.store("A1", entry("A1", center="C2"), cache.epoch)
    cache.store("A0", entry("A0", center=None), cache.epoch)
    asked: list[str | None] = []

    def today_of(center: str | None) -> date:
        asked.append(center)
        return DAY if center == "C2" else DAY - timedelta(days=1)

    assert cache.get("A1", today_of) is not None
    assert cache.get("A0", today_of) is None  # no place: the default zone's day, already over
    assert asked == ["C2", None]


def test_the_listeners_dsn_is_the_drivers() -> None:
    dsn = driver_dsn("postgresql+asyncpg://u:p%40ss@127.0.0.1:5432/garden")
    assert dsn == "postgresql://u:p%40ss@127.0.0.1:5432/garden"


def heard_by(cache: GardenCache) -> ChangeListener:
    return ChangeListener(
        "postgresql+asyncpg://u:p@127.0.0.1/garden",
        cache,
        GardenMetrics.create(CollectorRegistry()),
    )


def test_the_listener_forgets_the_agents_a_notification_names() -> None:
    cache = enabled()
    for agent in ("A1", "A 2", "A3"):
        cache.store(agent, entry(agent), cache.epoch)
    listener = heard_by(cache)
    listener._heard(None, 1, "garden_changes", '["A1","A 2","A9"]')
    assert [a for a in ("A1", "A 2", "A3") if cache.get(a, on())] == ["A3"]
    listener._heard(None, 1, "garden_changes", "*")
    assert len(cache) == 0
    cache.store("A3", entry("A3"), cache.epoch)
    listener._heard(None, 1, "garden_changes", "~a-mark-nobody-waits-for")
    assert cache.get("A3", on()) is not None  # a mark changes nothing
    listener._heard(None, 1, "garden_changes", "not json")
    assert cache.get("A3", on()) is None  # what it cannot read, it takes as everything
