"""Prometheus plumbing: a registry per application and the `/metrics` endpoint."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Self, TypeVar

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

# Latency buckets (seconds) fit for request and produce times of a few ms to seconds.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def new_registry() -> CollectorRegistry:
    """Return a registry with the process, platform and GC collectors.

    One registry per application (not the global one) keeps several apps in one
    test process from colliding over metric names.
    """
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    return registry


def metrics_router(registry: CollectorRegistry) -> APIRouter:
    """Return a router serving `GET /metrics` from `registry` (no credentials needed)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router


# --- a service's metrics, declared as the fields of one dataclass ---------------------------------


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: type[Counter] | type[Gauge] | type[Histogram]
    name: str
    documentation: str
    labels: tuple[str, ...]
    buckets: Sequence[float] | None = None

    def build(self, registry: CollectorRegistry) -> Counter | Gauge | Histogram:
        if self.kind is Histogram:
            buckets = self.buckets if self.buckets is not None else Histogram.DEFAULT_BUCKETS
            return Histogram(
                self.name, self.documentation, self.labels, registry=registry, buckets=buckets
            )
        return self.kind(self.name, self.documentation, self.labels, registry=registry)


def counter(name: str, documentation: str, *labels: str) -> Any:
    """Declare a counter as a field of a metrics dataclass (see `create_metrics`)."""
    return field(metadata={"metric": _Spec(Counter, name, documentation, labels)})


def gauge(name: str, documentation: str, *labels: str) -> Any:
    """Declare a gauge as a field of a metrics dataclass."""
    return field(metadata={"metric": _Spec(Gauge, name, documentation, labels)})


def histogram(
    name: str, documentation: str, *labels: str, buckets: Sequence[float] | None = None
) -> Any:
    """Declare a histogram (Prometheus' default buckets unless given) as a field."""
    return field(metadata={"metric": _Spec(Histogram, name, documentation, labels, buckets)})


M = TypeVar("M")


def create_metrics(cls: type[M], registry: CollectorRegistry) -> M:
    """Build every metric a metrics dataclass declares, registered on `registry`."""
    return cls(**{f.name: f.metadata["metric"].build(registry) for f in fields(cls)})  # type: ignore[arg-type]


class MetricSet:
    """Base of a service's metrics dataclass: `create` builds every declared metric."""

    __slots__ = ()

    @classmethod
    def create(cls, registry: CollectorRegistry) -> Self:
        return create_metrics(cls, registry)
