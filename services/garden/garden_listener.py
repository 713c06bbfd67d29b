"""The change listener: one dedicated database connection that LISTENs on `garden_changes`
(migration `0011_garden_changes`) and forgets the agents' gardens the notifications name.

While it is not connected (starting, connection lost, database restarted) the cache serves
and stores nothing; each (re)connection forgets everything before the cache is enabled
again, since anything may have changed unseen. A dead connection is noticed by the
driver's termination callback, or by a cheap `SELECT 1` every `ping_seconds` that must
answer within `ping_timeout`; it reconnects with backoff (doubling up to `max_delay`).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import asyncpg
import orjson
from sqlalchemy.engine import make_url

from services.garden.garden_cache import GardenCache
from services.garden.metrics import GardenMetrics
from shared.background import BackgroundLoop
from shared.logging import get_logger

log = get_logger(__name__)

CHANNEL = "garden_changes"
EVERYTHING = "*"
_MARK = "~"
"""A payload starting with it is a listener's own mark (`caught_up`), not a change."""


def driver_dsn(database_url: str) -> str:
    """Return the driver's DSN of a SQLAlchemy URL (`postgresql+asyncpg://…`)."""
    url = make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


class ChangeListener(BackgroundLoop):
    """A component that keeps `cache` in step with the database's change notifications."""

    name = "garden-change-listener"

    def __init__(
        self,
        database_url: str,
        cache: GardenCache,
        metrics: GardenMetrics,
        *,
        ping_seconds: float = 5.0,
        ping_timeout: float = 2.0,
        first_delay: float = 0.1,
        max_delay: float = 5.0,
    ) -> None:
        self._dsn = driver_dsn(database_url)
        self._cache = cache
        self._metrics = metrics
        self._ping_seconds = ping_seconds
        self._ping_timeout = ping_timeout
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._connection: asyncpg.Connection | None = None
        self._busy = asyncio.Lock()
        self._marks: dict[str, asyncio.Future[None]] = {}
        self.connections = 0
        """How many times it connected (a reconnection shows as a second one)."""

    @property
    def connected(self) -> bool:
        """Whether the notifications are heard now."""
        return self._connection is not None

    @property
    def backend_pid(self) -> int | None:
        """The process id of the listening connection's backend (None: not connected)."""
        return self._connection.get_server_pid() if self._connection is not None else None

    async def stop(self) -> None:
        """Stop listening; the cache serves nothing from then on."""
        await super().stop()
        self._cache.disable()

    async def caught_up(self, within: float = 5.0) -> None:
        """Return once every notification of the transactions committed before this call was
        heard (PostgreSQL delivers them in commit order: a mark sent now comes after them);
        at once when not connected, since the cache then serves nothing."""
        connection = self._connection
        if connection is None:
            return
        mark = f"{_MARK}{uuid.uuid4().hex}"
        heard = asyncio.get_running_loop().create_future()
        self._marks[mark] = heard
        try:
            async with self._busy:
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, mark)
            await asyncio.wait_for(heard, within)
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            if self.connected:
                raise
        finally:
            self._marks.pop(mark, None)

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        if payload == EVERYTHING:
            self._cache.forget_all()
            self._metrics.cache_invalidations.labels("all").inc()
        elif payload.startswith(_MARK):
            heard = self._marks.get(payload)
            if heard is not None and not heard.done():
                heard.set_result(None)
            return
        else:
            try:
                agents = orjson.loads(payload)
            except orjson.JSONDecodeError:  # not ours: forget everything rather than guess
                log.warning("unreadable change notification", payload=payload[:200])
                self._cache.forget_all()
                self._metrics.cache_invalidations.labels("all").inc()
                return
            count = self._cache.forget(str(a) for a in agents)
            self._metrics.cache_invalidations.labels("agent").inc(count)
        self._metrics.cache_entries.set(len(self._cache))

    async def _run(self) -> None:
        delay = self._first_delay
        while True:
            try:
                await self._listen()
                delay = self._first_delay  # it was connected: the next attempt comes soon
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # unreachable, or lost: try again after the delay
                log.warning(
                    "garden change listener down",
                    error=f"{type(exc).__name__}: {exc}"[:300],
                    retry_in=round(delay, 2),
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)

    async def _listen(self) -> None:
        """Connect, listen and enable the cache; return (or raise) once the connection is
        lost, with the cache off again."""
        connection = await asyncpg.connect(self._dsn, timeout=self._ping_timeout + 3.0)
        lost = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _: lost.set())
            await connection.add_listener(CHANNEL, self._heard)
            self._connection = connection
            self.connections += 1
            self._cache.enable()  # from nothing: changes before the LISTEN went unseen
            self._metrics.cache_listener_connected.set(1)
            log.info("garden change listener connected", pid=connection.get_server_pid())
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(lost.wait(), self._ping_seconds)
                if lost.is_set() or connection.is_closed():
                    break
                async with self._busy:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), self._ping_timeout)
            log.warning("garden change listener lost its connection")
        finally:
            self._connection = None
            self._cache.disable()
            self._metrics.cache_listener_connected.set(0)
            self._metrics.cache_entries.set(0)
            for heard in self._marks.values():
                if not heard.done():
                    heard.set_result(None)  # nothing is served now: nothing is stale
            if not connection.is_closed():
                connection.terminate()
