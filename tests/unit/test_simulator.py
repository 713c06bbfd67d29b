"""The upstream simulator: org tree, event stream, sinks and pacing."""

from __future__ import annotations

import asyncio
import re
import time as wall_time
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any, ClassVar

import httpx
import orjson
import pytest

from shared.contracts.events import EVENT_MODELS, parse_event
from shared.contracts.topics import TOPIC_FOR_EVENT_TYPE
from simulator.cli import main
from simulator.generator import COMPLAINT_CATEGORIES, REGIONS, Event, Simulation, Surge
from simulator.org import build_org, seats
from simulator.sinks import FileSink, HttpSink, KafkaSink, Pacer, SinkError, partition_key, pump

START = date(2025, 3, 3)
SURGE = Surge.parse("network:foshan:10:00:60:60")

ALLOWED_NEXT_STATE = {
    "logged_out": {"ready"},
    "ready": {"on_call", "not_ready", "logged_out"},
    "on_call": {"wrap_up"},
    "wrap_up": {"ready", "not_ready", "logged_out"},
    "not_ready": {"ready"},
}


def _ndjson(simulation: Simulation) -> bytes:
    return b"".join(orjson.dumps(event) + b"\n" for event in simulation.events())


@pytest.fixture(scope="module")
def small_day() -> list[tuple[int, Event]]:
    """20 agents, one business day."""
    return list(Simulation(build_org(20, seed=11), seed=11, start=START).timed_events())


@pytest.fixture(scope="module")
def two_days() -> list[Event]:
    """60 agents, two business days, a network surge in Foshan on the second at 10:00."""
    simulation = Simulation(build_org(60, seed=5), seed=5, start=START, days=2, surges=[SURGE])
    return list(simulation.events())


def _of(events: list[Event], event_type: str) -> list[Event]:
    return [event for event in events if event["type"] == event_type]


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    org = build_org(12, seed=3)
    first = _ndjson(Simulation(org, seed=3, start=START))
    assert first == _ndjson(Simulation(org, seed=3, start=START))
    assert first != _ndjson(Simulation(org, seed=4, start=START))


def test_every_event_validates_against_the_contract(small_day: list[tuple[int, Event]]) -> None:
    seen: Counter[str] = Counter()
    for _, event in small_day:
        parsed = parse_event(event)
        assert partition_key(event) == parsed.partition_key
        assert event["source"] in {"switch-1", "crm-1", "qa-1"}
        seen[event["type"]] += 1
    assert set(seen) == set(EVENT_MODELS)


def test_events_come_in_occurred_at_order_with_unique_ids(
    small_day: list[tuple[int, Event]],
) -> None:
    instants = [datetime.fromisoformat(event["occurred_at"]) for _, event in small_day]
    assert instants == sorted(instants)
    assert [int(instant.timestamp()) for instant in instants] == [t for t, _ in small_day]
    assert all(event["occurred_at"].endswith("+08:00") for _, event in small_day)
    assert len({event["event_id"] for _, event in small_day}) == len(small_day)


def test_volumes_follow_the_province_ratios(two_days: list[Event]) -> None:
    calls = _of(two_days, "call.completed")
    agent_days = 60 * 2
    assert 0.85 * 150 < len(calls) / agent_days < 1.15 * 150
    assert 0.28 < len(_of(two_days, "survey.answered")) / len(calls) < 0.38
    complaints = [c for c in _of(two_days, "complaint.filed") if c["region"] != "foshan"]
    assert 0.5 * 5 / 3 < len(complaints) / agent_days / (1 - REGIONS["foshan"]) < 1.5 * 5 / 3
    assert any(c["agent_id"] for c in complaints)
    assert _of(two_days, "complaint.updated")
    metrics = _of(two_days, "metric.reported")
    assert len({(m["agent_id"], m["business_date"]) for m in metrics}) == len(metrics)
    assert all(60 <= m["value"] <= 100 and m["indicator"] == "qa_score" for m in metrics)


def test_call_curve_is_quiet_at_night_and_peaks_morning_and_afternoon(
    two_days: list[Event],
) -> None:
    per_hour = Counter(
        datetime.fromisoformat(c["answered_at"]).hour for c in _of(two_days, "call.completed")
    )
    assert per_hour[3] * 8 < per_hour[10]
    assert max(range(7, 13), key=per_hour.__getitem__) in {9, 10, 11}
    assert max(range(13, 19), key=per_hour.__getitem__) in {14, 15, 16}
    assert per_hour[12] < per_hour[10]


def test_repeat_callers_come_back_within_a_day_sometimes_after_midnight(
    two_days: list[Event],
) -> None:
    last_answered: dict[str, datetime] = {}
    repeats = across_midnight = 0
    calls = _of(two_days, "call.completed")
    for call in calls:
        answered = datetime.fromisoformat(call["answered_at"])
        before = last_answered.get(call["caller_id"])
        if before is not None and answered - before < timedelta(hours=24):
            repeats += 1
            across_midnight += before.date() != answered.date()
        last_answered[call["caller_id"]] = answered
    assert 0.12 < repeats / len(calls) < 0.28
    assert across_midnight > 0


def test_agent_states_are_well_ordered_and_cover_the_calls(two_days: list[Event]) -> None:
    states: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for event in _of(two_days, "agent.state"):
        states[event["agent_id"]].append(
            (datetime.fromisoformat(event["occurred_at"]), event["state"])
        )
    for timeline in states.values():
        assert timeline[0][1] == "ready" and timeline[-1][1] == "logged_out"
        for (before, state), (after, following) in pairwise(timeline):
            assert before < after
            assert following in ALLOWED_NEXT_STATE[state], (state, following)
    entered = {(agent, at, state) for agent, line in states.items() for at, state in line}
    for call in _of(two_days, "call.completed"):
        answered = datetime.fromisoformat(call["answered_at"])
        ended = datetime.fromisoformat(call["ended_at"])
        assert (call["agent_id"], answered, "on_call") in entered
        assert (call["agent_id"], ended, "wrap_up") in entered
        assert ended - answered == timedelta(seconds=call["talk_seconds"] + call["hold_seconds"])
        published = datetime.fromisoformat(call["occurred_at"])
        assert published - ended == timedelta(seconds=call["wrap_seconds"])


def test_agents_differ_in_skill(two_days: list[Event]) -> None:
    surveys: dict[str, list[int]] = defaultdict(list)
    for survey in _of(two_days, "survey.answered"):
        surveys[survey["agent_id"]].append(survey["score"])
    satisfaction = [sum(s >= 4 for s in scores) / len(scores) for scores in surveys.values()]
    assert max(satisfaction) - min(satisfaction) > 0.08
    handle: dict[str, list[int]] = defaultdict(list)
    for call in _of(two_days, "call.completed"):
        handle[call["agent_id"]].append(
            call["talk_seconds"] + call["hold_seconds"] + call["wrap_seconds"]
        )
    aht = [sum(seconds) / len(seconds) for seconds in handle.values()]
    assert max(aht) > 1.3 * min(aht)


def test_a_surge_is_a_clear_burst_in_its_category_region_and_hour(two_days: list[Event]) -> None:
    def in_surge(complaint: Event) -> bool:
        return bool(complaint["category"] == "network" and complaint["region"] == "foshan")

    per_hour = Counter(
        datetime.fromisoformat(c["occurred_at"]).replace(minute=0, second=0)
        for c in _of(two_days, "complaint.filed")
        if in_surge(c)
    )
    surge_hour = datetime.fromisoformat("2025-03-04T10:00:00+08:00")
    assert per_hour.most_common(1)[0][0] == surge_hour
    assert per_hour[surge_hour] >= 8
    assert per_hour[surge_hour - timedelta(days=1)] <= 2
    others = [n for hour, n in per_hour.items() if hour != surge_hour]
    assert per_hour[surge_hour] > 4 * max(others, default=0)


def test_surge_spec_parsing() -> None:
    surge = Surge.parse("billing:shenzhen:21:30:90:12.5@2025-03-04")
    assert surge == Surge("billing", "shenzhen", time(21, 30), 90, 12.5, date(2025, 3, 4))
    assert Surge.parse("network:guangzhou:10:00:60:20").day is None
    for bad in ("network:guangzhou:10:00:60", "weather:guangzhou:10:00:60:20", "network:x:1:0:5:2"):
        with pytest.raises(ValueError):
            Surge.parse(bad)
    assert set(COMPLAINT_CATEGORIES) == {"network", "billing", "service", "product", "other"}


def test_org_tree_shape_and_unique_ids() -> None:
    org = build_org(3000, seed=9)
    assert org == build_org(3000, seed=9)
    centers = org["centers"]
    assert len(centers) == 2
    ids: list[str] = []
    for center in centers:
        assert set(center) == {"id", "name", "timezone", "departments"}
        assert re.fullmatch(r"C\d+", center["id"]) and center["timezone"] == "Asia/Shanghai"
        ids.append(center["id"])
        for department in center["departments"]:
            assert department["id"].startswith(center["id"] + "-D")
            assert 10 <= len(department["teams"]) <= 20
            ids.append(department["id"])
            for team in department["teams"]:
                assert re.fullmatch(re.escape(department["id"]) + r"-T\d{2}", team["id"])
                assert 12 <= len(team["agents"]) <= 15
                assert team["name"] and all(a["name"] for a in team["agents"])
                ids.append(team["id"])
    agents = [seat.agent_id for seat in seats(org)]
    assert agents == [f"A{n}" for n in range(1024, 1024 + 3000)]
    assert len(set(ids + agents)) == len(ids) + len(agents)


def test_small_org_still_has_a_valid_tree() -> None:
    org = build_org(5, seed=1, centers=1, timezone="Asia/Urumqi")
    (center,) = org["centers"]
    assert center["timezone"] == "Asia/Urumqi"
    assert [len(t["agents"]) for d in center["departments"] for t in d["teams"]] == [5]


def _run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


def test_http_sink_batches_by_type_retries_and_stops_on_4xx() -> None:
    events = [event for _, event in zip(range(1200), _events_of_a_small_day(), strict=False)]
    received: list[tuple[str, list[Event]]] = []
    troubles: Iterator[Exception | httpx.Response] = iter(
        [httpx.ConnectError("refused"), httpx.Response(503, headers={"Retry-After": "0"})]
    )

    def ingest(request: httpx.Request) -> httpx.Response:
        assert request.headers["X-API-Key"] == "k1"
        trouble = next(troubles, None)
        if isinstance(trouble, Exception):
            raise trouble
        if trouble is not None:
            return trouble
        received.append((request.url.path, orjson.loads(request.content)))
        return httpx.Response(202, json={"accepted": 1})

    async def send() -> Counter[str]:
        sink = HttpSink(
            "http://ingest", "k1", batch_size=100, transport=httpx.MockTransport(ingest)
        )
        async with sink:
            await pump(((0, e) for e in events), sink)
        return sink.delivered

    delivered = _run(send())
    assert sum(delivered.values()) == len(events)
    assert all(len(batch) <= 100 for _, batch in received)
    for path, batch in received:
        assert {f"/v1/events/{event['type']}" for event in batch} == {path}
    assert sorted(e["event_id"] for _, b in received for e in b) == sorted(
        e["event_id"] for e in events
    )

    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, json={"error": {"code": "invalid", "message": "bad item"}})

    async def refused() -> None:
        sink = HttpSink("http://ingest", "k1", batch_size=10, transport=httpx.MockTransport(refuse))
        async with sink:
            await pump(((0, e) for e in events), sink)

    with pytest.raises(SinkError, match=r"422.*bad item"):
        _run(refused())


def test_http_sink_sends_single_objects_with_batch_size_one() -> None:
    bodies: list[Any] = []

    def ingest(request: httpx.Request) -> httpx.Response:
        bodies.append(orjson.loads(request.content))
        return httpx.Response(202)

    async def send() -> None:
        sink = HttpSink("http://ingest/", "k", batch_size=1, transport=httpx.MockTransport(ingest))
        async with sink:
            await pump(((0, e) for e in _events_of_a_small_day()[:5]), sink)

    _run(send())
    assert len(bodies) == 5 and all(isinstance(body, dict) for body in bodies)


def test_http_sink_does_not_hold_a_rare_event_type_back_for_a_full_batch() -> None:
    paths: list[str] = []

    def ingest(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(202)

    events = _events_of_a_small_day()
    complaint = next(e for e in events if e["type"] == "complaint.filed")
    states = [e for e in events if e["type"] == "agent.state"][:20]

    async def send() -> None:
        transport = httpx.MockTransport(ingest)
        async with HttpSink("http://ingest", "k", max_wait=0.05, transport=transport) as sink:
            await sink.put(complaint)
            await asyncio.sleep(0.06)
            for state in states:
                await sink.put(state)
            await asyncio.sleep(0.01)
            assert paths == ["/v1/events/complaint.filed"]

    _run(send())
    assert paths == ["/v1/events/complaint.filed", "/v1/events/agent.state"]


def test_file_sink_writes_ndjson(tmp_path: Path) -> None:
    events = _events_of_a_small_day()[:50]
    out = tmp_path / "day.ndjson"

    async def write() -> None:
        async with FileSink(str(out)) as sink:
            await pump(((0, e) for e in events), sink)

    _run(write())
    assert [orjson.loads(line) for line in out.read_bytes().splitlines()] == events


def test_pacer_rate_and_real_time_clock() -> None:
    limited = Pacer(rate=100)
    due = [limited.due(0) for _ in range(300)]
    assert due[99] - due[0] < 0.05  # a second's worth of burst
    assert 1.9 < due[299] - due[0] < 2.1  # then 100 per second
    live = Pacer(origin=1_000, speed=60)
    assert live.due(1_000 + 600) - live.due(1_000) == pytest.approx(10, abs=0.05)
    assert Pacer.live_origin((100, 200), 150.5) == 150
    assert Pacer.live_origin((100, 200), 250) == 100


def _events_of_a_small_day() -> list[Event]:
    return list(Simulation(build_org(4, seed=2), seed=2, start=START).events())


class _FakeProducer:
    """Stands in for AIOKafkaProducer: records what would be produced."""

    instances: ClassVar[list[_FakeProducer]] = []

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.records: list[tuple[str, bytes, bytes, list[tuple[str, bytes]]]] = []
        self.stopped = False
        _FakeProducer.instances.append(self)

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        self.stopped = True

    async def send(
        self, topic: str, value: bytes, *, key: bytes, headers: list[tuple[str, bytes]]
    ) -> asyncio.Future[None]:
        self.records.append((topic, value, key, headers))
        delivered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        delivered.set_result(None)
        return delivered


def test_kafka_sink_produces_keyed_json_to_the_raw_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("simulator.sinks.AIOKafkaProducer", _FakeProducer)
    events = _events_of_a_small_day()

    async def send() -> Counter[str]:
        async with KafkaSink("kafka:9092", window=50) as sink:
            await pump(((0, e) for e in events), sink)
        return sink.delivered

    delivered = _run(send())
    (producer,) = _FakeProducer.instances
    assert producer.options["enable_idempotence"] is True
    assert producer.options["acks"] == "all" and producer.options["linger_ms"] == 10
    assert producer.stopped and sum(delivered.values()) == len(events)
    for event, (topic, value, key, headers) in zip(events, producer.records, strict=True):
        assert topic == TOPIC_FOR_EVENT_TYPE[event["type"]].name
        assert key.decode() == parse_event(event).partition_key
        assert orjson.loads(value) == event
        assert headers == [
            ("event_type", event["type"].encode()),
            ("event_id", event["event_id"].encode()),
            ("content-type", b"application/json"),
        ]


def test_cli_writes_an_org_and_the_same_day_from_it(tmp_path: Path) -> None:
    org, by_agents, by_org = tmp_path / "org.json", tmp_path / "a.ndjson", tmp_path / "b.ndjson"
    common = ["--seed", "4", "--start-date", "2025-03-03"]
    assert main(["org", "--agents", "6", "--seed", "4", "--out", str(org)]) == 0
    assert main(["generate", "--agents", "6", *common, "--out", str(by_agents)]) == 0
    assert main(["generate", "--org", str(org), *common, "--out", str(by_org)]) == 0
    assert by_agents.read_bytes() == by_org.read_bytes()
    assert len(orjson.loads(org.read_bytes())["centers"]) == 1


def test_real_time_runs_replay_the_recent_past_fast_then_follow_the_wall_clock() -> None:
    now = wall_time.time()
    span = (int(now) - 3 * 86_400, int(now) + 86_400)  # three past days and today
    origin = Pacer.live_origin(span, now, speed=60)
    assert origin == int(now - 59 * 60)  # an hour of the recent past: caught up in a minute
    pacer = Pacer(origin=origin, speed=60)
    start = pacer.due(origin)
    assert pacer.due(origin + 1800) - start == pytest.approx(30, abs=0.5)  # the past at 60x
    assert pacer.due(int(now) + 600) - start == pytest.approx(600, abs=1)  # then the wall clock
    for offset in range(-3600, 7200, 300):  # nothing leaves before it occurred
        assert pacer.due(int(now) + offset) - start >= offset - 1
    assert Pacer.live_origin(span, now) == int(now)  # at speed 1 it starts at now
