"""What one unit of work changed: the events it staged and the stock it left.

Use cases stage events through `Changes.stage` (which calls `stage_event`), so the
caller can count what was committed in the metrics once the commit succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.metrics import RewardsMetrics
from shared.contracts.derived import DerivedEvent
from shared.contracts.rewards import LedgerEntryRecorded, RedemptionEvent
from shared.outbox import stage_event


@dataclass
class Changes:
    """A unit of work's session and what it staged."""

    session: AsyncSession
    events: list[DerivedEvent] = field(default_factory=list)
    stock: dict[str, int] = field(default_factory=dict)
    """Stock left per stocked prize the unit of work touched."""

    def stage(self, event: DerivedEvent) -> None:
        """Stage `event` in the outbox, in this transaction."""
        stage_event(self.session, event)
        self.events.append(event)

    def observe(self, metrics: RewardsMetrics) -> None:
        """Count what was committed (call after the commit)."""
        observe(metrics, self.events, self.stock)


def observe(
    metrics: RewardsMetrics, events: Iterable[DerivedEvent], stock: Mapping[str, int]
) -> None:
    """Count committed events and the stock they left in the metrics."""
    for event in events:
        if isinstance(event, LedgerEntryRecorded):
            metrics.fruit.labels(event.entry_kind, event.fruit).inc(abs(event.amount))
        elif isinstance(event, RedemptionEvent):
            metrics.redemptions.labels(event.type.removeprefix("redemption.")).inc()
    for prize_id, left in stock.items():
        metrics.stock.labels(prize_id).set(left)
