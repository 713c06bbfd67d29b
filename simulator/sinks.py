"""Where simulated upstream events go, and how fast.

- `HttpSink`: the ingest service, `POST {base}/v1/events/{type}` with a JSON
  array per batch of one event type (or a single object when the batch size is
  1), the upstream's `X-API-Key`, a bounded number of requests in flight,
  retries with backoff on 429/502/503/504 (honouring `Retry-After`) and on
  connection errors; any other error answer stops the run and shows its body.
- `KafkaSink`: straight onto the raw topics, as an upstream system producing
  directly would: idempotent producer, `acks=all`, keyed like the contract's
  `partition_key`, the event as JSON with `event_type`, `event_id` and
  `content-type` headers (as ingest produces them).
- `FileSink`: one JSON object per line (NDJSON).

`Pacer` holds events back to a rate (token bucket) and/or until their
`occurred_at` arrives on a simulated clock (live demo); `pump` drives events
through a pacer into a sink.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic
from types import TracebackType
from typing import IO, Any, Protocol, Self

import httpx
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from shared.contracts.topics import TOPIC_FOR_EVENT_TYPE
from simulator.generator import Event, TimedEvent

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_RETRY_WAIT = 30.0
"""Longest wait before a retry, whatever `Retry-After` asks for."""
PACING_TICK = 0.02
"""Events due within this many seconds go now rather than after a sleep."""


class SinkError(RuntimeError):
    """Events could not be delivered: an error answer, or retries ran out."""


class Sink(Protocol):
    """A destination for events; used as `async with sink:`, which delivers everything on exit."""

    delivered: Counter[str]
    """Events delivered so far, per type."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def put(self, event: Event) -> None:
        """Accept one event (it may be buffered until later)."""

    async def idle(self, seconds: float) -> None:
        """The caller is about to wait `seconds`: send what should not wait that long."""


def partition_key(event: Event) -> str:
    """The Kafka key of an event, as `parse_event(event).partition_key`, read from the dict.

    Agent id for the per-agent topics, category for complaints (updates without
    a category fall back to the complaint id).
    """
    kind = event["type"]
    if kind == "complaint.filed":
        return str(event["category"])
    if kind == "complaint.updated":
        return str(event.get("category") or event["complaint_id"])
    return str(event["agent_id"])


class _Delivering:
    """What the sinks share: `async with` opens, then on exit delivers everything (or, after an
    error, abandons what is in flight) and closes."""

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if error is None:
                await self._drain()
            else:
                await self._abandon()
        finally:
            await self._close()

    async def _drain(self) -> None:
        """Deliver everything accepted so far."""

    async def _abandon(self) -> None:
        """Give up on what is in flight."""

    async def _close(self) -> None:
        """Release the connection or file."""


class HttpSink(_Delivering):
    """Posts batches of events of one type to the ingest service.

    A batch goes when it is full or its first event has waited `max_wait`
    seconds. With more than one request in flight, batches may reach ingest out
    of order, and a retried batch may have been accepted before: consumers
    order per agent by `occurred_at` and deduplicate on `event_id`. Use
    `concurrency=1` for strict order.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        batch_size: int = 500,
        concurrency: int = 4,
        max_wait: float = 0.5,
        max_attempts: int = 10,
        timeout: float = 30.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if batch_size < 1 or concurrency < 1:
            raise ValueError("batch size and concurrency must be at least 1")
        self.delivered: Counter[str] = Counter()
        self._client_options: dict[str, Any] = {
            "base_url": base_url.rstrip("/"),
            "headers": {"X-API-Key": api_key, "Content-Type": "application/json"},
            "timeout": timeout,
            "limits": httpx.Limits(max_connections=concurrency),
            "transport": transport,
        }
        self._client: httpx.AsyncClient | None = None
        self._batch_size = batch_size
        self._max_wait = max_wait
        self._max_attempts = max_attempts
        self._buffers: dict[str, list[Event]] = {}
        self._buffered_since: dict[str, float] = {}
        self._next_age_check = 0.0
        self._slots = asyncio.Semaphore(concurrency)
        self._requests: set[asyncio.Task[None]] = set()
        self._failure: BaseException | None = None
        self._jitter = random.Random()

    async def __aenter__(self) -> Self:
        self._client = httpx.AsyncClient(**self._client_options)
        return self

    async def _drain(self) -> None:
        for event_type in list(self._buffers):
            await self._dispatch(event_type)
        await asyncio.gather(*self._requests, return_exceptions=True)
        self._raise_failure()

    async def _abandon(self) -> None:
        for request in self._requests:
            request.cancel()
        await asyncio.gather(*self._requests, return_exceptions=True)

    async def _close(self) -> None:
        assert self._client is not None
        await self._client.aclose()

    async def put(self, event: Event) -> None:
        self._raise_failure()
        event_type = event["type"]
        buffer = self._buffers.get(event_type)
        if buffer is None:
            buffer = self._buffers[event_type] = []
            self._buffered_since[event_type] = monotonic()
        buffer.append(event)
        if len(buffer) >= self._batch_size:
            await self._dispatch(event_type)
        elif (now := monotonic()) >= self._next_age_check:
            await self._dispatch_buffered_before(now - self._max_wait)

    async def idle(self, seconds: float) -> None:
        await self._dispatch_buffered_before(monotonic() + seconds - self._max_wait)

    async def _dispatch_buffered_before(self, deadline: float) -> None:
        """Send every partial batch whose first event was buffered before `deadline`.

        Keeps rare event types (complaints) from waiting for a full batch.
        """
        self._next_age_check = monotonic() + self._max_wait / 4
        for event_type, since in list(self._buffered_since.items()):
            if since <= deadline:
                await self._dispatch(event_type)

    def _raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    async def _dispatch(self, event_type: str) -> None:
        """Send the buffered events of a type once a request slot is free."""
        batch = self._buffers.pop(event_type)
        del self._buffered_since[event_type]
        await self._slots.acquire()
        if self._failure is not None:
            self._slots.release()
            raise self._failure
        request = asyncio.create_task(self._post(event_type, batch))
        self._requests.add(request)
        request.add_done_callback(self._finished)
        await asyncio.sleep(0)  # let the request start while events are being made

    def _finished(self, request: asyncio.Task[None]) -> None:
        self._requests.discard(request)
        self._slots.release()
        if not request.cancelled() and request.exception() and self._failure is None:
            self._failure = request.exception()

    async def _post(self, event_type: str, batch: list[Event]) -> None:
        assert self._client is not None
        body = orjson.dumps(batch[0] if self._batch_size == 1 else batch)
        path = f"/v1/events/{event_type}"
        for attempt in range(1, self._max_attempts + 1):
            last = attempt == self._max_attempts
            try:
                response = await self._client.post(path, content=body)
            except httpx.TransportError as exc:
                if last:
                    raise SinkError(f"POST {path}: {exc!r} after {attempt} attempts") from exc
                await asyncio.sleep(self._backoff(attempt))
                continue
            if response.is_success:
                self.delivered[event_type] += len(batch)
                return
            if response.status_code not in RETRYABLE_STATUS or last:
                raise SinkError(f"POST {path} answered {response.status_code}: {response.text}")
            asked = _retry_after(response)
            await asyncio.sleep(self._backoff(attempt) if asked is None else asked)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter: up to 0.2 s, 0.4 s, 0.8 s … (capped)."""
        return self._jitter.uniform(0, min(MAX_RETRY_WAIT, 0.2 * 2 ** (attempt - 1)))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asked to wait (`Retry-After` as seconds or an HTTP date)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds()
        except (TypeError, ValueError):
            return None
    return min(MAX_RETRY_WAIT, max(0.0, seconds))


class KafkaSink(_Delivering):
    """Produces events straight onto the raw topics, as an upstream system would."""

    def __init__(
        self, bootstrap_servers: str, *, client_id: str = "garden-sim", window: int = 10_000
    ) -> None:
        self.delivered: Counter[str] = Counter()
        self._options: dict[str, Any] = {
            "bootstrap_servers": bootstrap_servers,
            "client_id": client_id,
            "enable_idempotence": True,
            "acks": "all",
            "linger_ms": 10,
            "max_batch_size": 256 * 1024,
        }
        self._producer: AIOKafkaProducer | None = None
        self._window = window
        self._in_flight: deque[tuple[str, asyncio.Future[Any]]] = deque()
        self._sent = 0

    async def __aenter__(self) -> Self:
        producer = AIOKafkaProducer(**self._options)  # needs the running loop
        try:
            await producer.start()
        except BaseException as exc:
            await producer.stop()
            if isinstance(exc, KafkaError):
                servers = self._options["bootstrap_servers"]
                raise SinkError(f"cannot connect to Kafka at {servers}: {exc!r}") from exc
            raise
        self._producer = producer
        return self

    async def _drain(self) -> None:
        while self._in_flight:
            await self._settle_oldest()

    async def _close(self) -> None:
        assert self._producer is not None
        await self._producer.stop()

    async def put(self, event: Event) -> None:
        assert self._producer is not None
        event_type = event["type"]
        try:
            delivery = await self._producer.send(
                TOPIC_FOR_EVENT_TYPE[event_type].name,
                orjson.dumps(event),
                key=partition_key(event).encode(),
                headers=[  # the same headers ingest puts on the records it produces
                    ("event_type", event_type.encode()),
                    ("event_id", event["event_id"].encode()),
                    ("content-type", b"application/json"),
                ],
            )
        except KafkaError as exc:
            raise SinkError(f"Kafka refused a {event_type} event: {exc!r}") from exc
        self._in_flight.append((event_type, delivery))
        if len(self._in_flight) > self._window:
            await self._settle_oldest()
        self._sent += 1
        if self._sent % 1000 == 0:
            await asyncio.sleep(0)  # let the producer's sender run between bursts

    async def idle(self, seconds: float) -> None:
        """Nothing to do: the producer sends within `linger_ms` on its own."""

    async def _settle_oldest(self) -> None:
        """Wait for the oldest send's acknowledgement (bounds memory, surfaces errors)."""
        event_type, delivery = self._in_flight.popleft()
        try:
            await delivery
        except KafkaError as exc:
            raise SinkError(f"Kafka did not acknowledge a {event_type} event: {exc!r}") from exc
        self.delivered[event_type] += 1


class FileSink(_Delivering):
    """Writes events as NDJSON to a file, or to standard output for `-`."""

    def __init__(self, path: str) -> None:
        self.delivered: Counter[str] = Counter()
        self._out: IO[bytes] = sys.stdout.buffer if path == "-" else open(path, "wb")  # noqa: SIM115

    async def __aenter__(self) -> Self:
        return self

    async def _close(self) -> None:
        if self._out is sys.stdout.buffer:
            self._out.flush()
        else:
            self._out.close()

    async def put(self, event: Event) -> None:
        self._out.write(orjson.dumps(event, option=orjson.OPT_APPEND_NEWLINE))
        self.delivered[event["type"]] += 1

    async def idle(self, seconds: float) -> None:
        """Make what was written visible to readers of the file before waiting."""
        self._out.flush()


CATCH_UP_SECONDS = 60.0
"""How long a real-time run replays the recent past at its speed before it reaches now."""


class Pacer:
    """Decides when each event may leave.

    - `rate`: at most that many events per second on average, with bursts of up
      to a second's worth (token bucket).
    - `origin`/`speed` (real-time mode): an event leaves when a simulated clock,
      started at `origin` (Unix seconds) and running `speed` times faster than
      the wall clock, reaches its `occurred_at`; earlier events leave at once.
      The simulated clock never runs ahead of the wall clock: once it has
      caught up it follows it, so no event is ever sent before it occurred.
    """

    def __init__(
        self, *, rate: float | None = None, origin: int | None = None, speed: float = 1.0
    ) -> None:
        if (rate is not None and rate <= 0) or speed <= 0:
            raise ValueError("rate and speed must be positive")
        self._rate = rate
        self._origin = origin
        self._speed = speed
        self._started = monotonic()
        self._wall_started = time.time()
        self._next_slot = self._started
        """Token bucket as virtual time: when the next event would be due at exactly `rate`."""

    @staticmethod
    def live_origin(span: tuple[int, int], now: float, speed: float = 1.0) -> int:
        """Where a real-time run's clock starts.

        Within the simulated days: far enough before now that the run replays the
        recent past at `speed` for about `CATCH_UP_SECONDS` and then follows the
        wall clock (events before that are a backlog sent at once; at speed 1 the
        run starts at now). Otherwise the first day's start (a replay, or days to
        come, whose events wait for their time).
        """
        start, end = span
        if not start <= now < end:
            return start
        return max(start, int(now - (speed - 1) * CATCH_UP_SECONDS))

    def due(self, occurred: int) -> float:
        """The monotonic time at which the event that occurred at `occurred` may leave."""
        now = monotonic()
        at = now
        if self._origin is not None:
            at = max(at, self._started + (occurred - self._origin) / self._speed)
            at = max(at, self._started + (occurred - self._wall_started))  # never early
        if self._rate is not None:
            at = max(at, self._next_slot - 1.0)  # a second's worth of burst
            self._next_slot = max(self._next_slot, at) + 1 / self._rate
        return at


async def pump(events: Iterable[TimedEvent], sink: Sink, pacer: Pacer | None = None) -> None:
    """Send every event into `sink`, holding each back until `pacer` lets it go."""
    for occurred, event in events:
        if pacer is not None:
            wait = pacer.due(occurred) - monotonic()
            if wait > PACING_TICK:
                await sink.idle(wait)
                await asyncio.sleep(wait)
        await sink.put(event)
