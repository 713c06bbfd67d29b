"""The garden consumer: `fruit.harvested` on cc.garden.v1 → wallet credits → cc.rewards.v1.

Runs inside `TransactionalConsumer`'s transaction (claim by event id, one commit,
offsets after it). Per batch:
  1. keep the harvests of agents and teams (departments and centers have no wallet;
     other garden events change no wallet and are not claimed);
  2. take the owners' wallet locks (sorted) and drop harvests whose reference
     (`harvest:<harvest_id>`) the ledger already holds, or that the batch repeats:
     a harvest credits once even when two events name it;
  3. post the credits on the balances read under the locks, record them in bulk
     and stage one `ledger.entry_recorded` per entry.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import ConsumerRecord
from sqlmodel.ext.asyncio.session import AsyncSession

from services.rewards.domain.ledger import LedgerEntry, credit_for, entry_recorded, post
from services.rewards.metrics import RewardsMetrics
from services.rewards.repo import wallets
from shared.consumer import Delivery
from shared.contracts.catalog import parse_derived
from shared.contracts.events import EventRejected
from shared.contracts.garden import FruitHarvested
from shared.outbox import stage_event


def decode_garden_event(record: ConsumerRecord[bytes, bytes]) -> Delivery | None:
    """Decode a cc.garden.v1 record: a harvest is claimed by its event id; other garden
    events pass unclaimed (they change nothing); None for what no contract reads."""
    try:
        event = parse_derived(record.value or b"")
    except EventRejected:
        return None
    if isinstance(event, FruitHarvested):
        return Delivery(record, f"garden/{event.event_id}"[:160], event)
    return Delivery(record, None, event)


def _membership(harvest: FruitHarvested) -> tuple[str | None, str | None]:
    """The owner's team and department the harvest names (fields garden may add to the
    event; a team's own harvest is its team's)."""
    extra = harvest.model_extra or {}
    team, department = extra.get("team_id"), extra.get("department_id")
    if harvest.owner_kind == "team":
        team = harvest.owner_id
    return (
        team if isinstance(team, str) and team else None,
        department if isinstance(department, str) and department else None,
    )


class HarvestHandler:
    """Credits wallets from batches of garden events."""

    def __init__(self, *, metrics: RewardsMetrics) -> None:
        self._metrics = metrics

    async def apply(self, session: AsyncSession, deliveries: Sequence[Delivery]) -> None:
        credits = []
        for delivery in deliveries:
            event = delivery.payload
            if not isinstance(event, FruitHarvested):
                self._metrics.garden_events.labels("ignored").inc()
                continue
            credit = credit_for(event)
            if credit is None:
                self._metrics.garden_events.labels("no_wallet").inc()
                continue
            credits.append((event, *credit))
        if not credits:
            return
        owners = {owner for _, owner, _ in credits}
        await wallets.lock(session, owners)
        seen = await wallets.recorded_references(
            session, {(owner, request.reference) for _, owner, request in credits}
        )
        held = await wallets.balances_of(session, owners)
        postings = []
        for harvest, owner, request in credits:
            if (owner, request.reference) in seen:
                self._metrics.garden_events.labels("duplicate").inc()
                continue
            seen.add((owner, request.reference))
            entry = post(held.get((owner, request.fruit), 0), request)
            assert isinstance(entry, LedgerEntry)  # a credit always posts
            held[(owner, request.fruit)] = entry.balance
            team, department = _membership(harvest)
            postings.append(
                wallets.Posting(
                    owner,
                    entry,
                    business_date=harvest.business_date,
                    center_id=harvest.center_id,
                    team_id=team,
                    department_id=department,
                )
            )
        for recorded in await wallets.record(session, postings):
            stage_event(session, entry_recorded(recorded))
            self._metrics.fruit.labels("credit", recorded.entry.fruit).inc(recorded.entry.amount)
        self._metrics.garden_events.labels("credited").inc(len(postings))
