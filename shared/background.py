"""Background components: what a service runs beside its routes, started and stopped in one
declared order.

A component has a `name`, `start()` and `stop()`. The pieces:

- `Periodic`: a loop that runs one step every `interval`, at once again while
  the step reports more work, early when woken, and backing off (doubling up
  to `max_backoff`) while it fails; failures are logged and counted in
  `background_failures_total{component}`, and the last good round is
  `background_last_success_timestamp_seconds{component}`.
- `Hook`: a pair of callables (open a client, close it).
- `Retrying`: starts its component again and again until it starts (a
  dependency still coming up).
- `Detached`: starts its component in the background, so the service serves
  `/healthz` while a dependency is down.
- `Components`: starts its members in order and stops the started ones in
  reverse order; a member that fails to stop is logged and the others still
  stop. `lifespan(components)` is the FastAPI lifespan that does both.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge

from shared.logging import get_logger

log = get_logger(__name__)


class Component(Protocol):
    """Something a service starts after it is built and stops before it exits."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class _Metrics:
    failures: Counter
    last_success: Gauge


_METRICS: weakref.WeakKeyDictionary[CollectorRegistry, _Metrics] = weakref.WeakKeyDictionary()


def _metrics(registry: CollectorRegistry) -> _Metrics:
    """The background metrics of `registry`, registered once however many loops share it."""
    if registry not in _METRICS:
        _METRICS[registry] = _Metrics(
            failures=Counter(
                "background_failures_total",
                "Failed rounds of a background component",
                ["component"],
                registry=registry,
            ),
            last_success=Gauge(
                "background_last_success_timestamp_seconds",
                "When a background component last finished a round (Unix time)",
                ["component"],
                registry=registry,
            ),
        )
    return _METRICS[registry]


Step = Callable[[], Awaitable[Any]]


class BackgroundLoop:
    """A component running one coroutine, its `_run`, in the background from `start` until
    `stop` cancels it (work in progress is cancelled: its transaction rolls back)."""

    name: str
    _task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        """Start the loop in the background."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop the loop."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class Periodic(BackgroundLoop):
    """Runs `step` in a loop until stopped.

    After a round the loop waits `interval` seconds, or less if `wake()` is
    called, or not at all when `again(result)` says more work is waiting.
    After a failed round it waits `interval` doubled per consecutive failure,
    up to `max_backoff` (default: 5 s, or `interval` if that is longer).
    """

    def __init__(
        self,
        name: str,
        step: Step,
        *,
        interval: float,
        registry: CollectorRegistry,
        again: Callable[[Any], bool] = lambda _: False,
        max_backoff: float | None = None,
    ) -> None:
        self.name = name
        self._step = step
        self._interval = interval
        self._again = again
        self._max_backoff = max(interval, 5.0) if max_backoff is None else max_backoff
        self._metrics = _metrics(registry)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run the next round now instead of after the interval."""
        self._wake.set()

    async def run_once(self) -> Any:
        """Run one round and return what the step returned (failures propagate)."""
        result = await self._step()
        self._metrics.last_success.labels(self.name).set(time.time())
        return result

    async def _run(self) -> None:
        failures = 0
        while True:
            self._wake.clear()
            try:
                result = await self.run_once()
                failures = 0
                if self._again(result):
                    continue
                delay = self._interval
            except Exception as exc:  # any failure: count it, back off, try again
                failures += 1
                self._metrics.failures.labels(self.name).inc()
                delay = min(self._interval * 2**failures, self._max_backoff)
                log.warning(
                    "background round failed",
                    component=self.name,
                    error=f"{type(exc).__name__}: {exc}"[:300],
                    failures=failures,
                    retry_in=round(delay, 2),
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)


async def _nothing() -> None:
    return None


@dataclass
class Hook:
    """A component made of two callables, for a client or a step that is not a loop."""

    name: str
    on_start: Callable[[], Awaitable[Any]] = _nothing
    on_stop: Callable[[], Awaitable[Any]] = _nothing

    async def start(self) -> None:
        await self.on_start()

    async def stop(self) -> None:
        await self.on_stop()


class Retrying:
    """Starts `component`, retrying (1 s doubling to 15 s) until it starts."""

    def __init__(self, component: Component, *, first_delay: float = 1.0, max_delay: float = 15.0):
        self.name = component.name
        self._component = component
        self._first = first_delay
        self._max = max_delay

    async def start(self) -> None:
        delay = self._first
        while True:
            try:
                await self._component.start()
                return
            except Exception as exc:  # not reachable yet: keep trying
                log.warning(
                    f"{self.name} not ready; retrying", error=str(exc)[:200], in_seconds=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max)

    async def stop(self) -> None:
        await self._component.stop()


class Detached:
    """Starts `component` in the background: `start()` returns at once."""

    def __init__(self, component: Component) -> None:
        self.name = component.name
        self._component = component
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._component.start(), name=f"start-{self.name}")

    async def stop(self) -> None:
        """Abandon a start still in progress, then stop what did start."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task = None
        await self._component.stop()


class Components:
    """Members started in the declared order and stopped in reverse."""

    def __init__(self, name: str, *members: Component) -> None:
        self.name = name
        self._members = members
        self._started: list[Component] = []

    async def start(self) -> None:
        for member in self._members:
            self._started.append(member)  # a member cancelled mid-start is still stopped
            await member.start()
            log.debug("component started", component=member.name)

    async def stop(self) -> None:
        while self._started:
            member = self._started.pop()
            try:
                await member.stop()
            except Exception as exc:  # stop the others all the same
                log.warning("component failed to stop", component=member.name, error=str(exc))


def lifespan(
    components: Component,
) -> Callable[[Any], contextlib.AbstractAsyncContextManager[None]]:
    """A FastAPI lifespan that starts `components` and stops them on shutdown."""

    @asynccontextmanager
    async def run(_app: Any) -> AsyncIterator[None]:
        await components.start()
        try:
            yield
        finally:
            log.info("stopping", component=components.name)
            await components.stop()

    return run
