"""The business content a pipeline run leaves behind, free of wall-clock stamps and
generated ids, so two runs of one seed compare; and the run's own invariants.

What depends on timing by design is compared through what does not:
- harvests: the automatic harvest collects whatever is ripe when its round runs, so
  how fruit is split into lots (harvest ids, lot sizes, harvest timeline entries,
  ledger entries per lot) depends on timing. Compared: per plant, which fruit
  numbers were harvested (each exactly once); per wallet and fruit, the credited
  sum; within a run, every lot of an agent or team credited once with its count.
- timeline: a ripening entry's `ripe_fruit` (fruit still waiting) depends on the
  harvests made before it; compared without it.
- SMS: incidents get generated ids and clock stamps. An incident is named by its
  series (category, region) and its ordinal in that series; an SMS by its incident,
  level, kind and phone. Compared: that set, and within a run, that the gateway
  stored each SMS exactly once and every one is sent.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

Rows = list[tuple[Any, ...]]

QUERIES = {
    "scores": "SELECT owner_kind, owner_id, business_date, indicator, value, sample, points, "
    "state FROM scoring_results WHERE settled",
    "plants": "SELECT owner_kind, owner_id, indicator, fruit, stage, growth, state, cycle, "
    "fruit_ripened, fruit_harvested, last_rated FROM garden_plants",
    "plant_days": "SELECT owner_kind, owner_id, indicator, business_date, points, state, "
    "revision, fruit FROM garden_plant_days",
    # a ripening's `ripe_fruit` counts fruit left by harvests made so far: timing
    "timeline": "SELECT owner_kind, owner_id, indicator, kind, business_date, "
    "(detail - 'ripe_fruit')::text FROM garden_timeline WHERE kind <> 'fruit.harvested'",
    "harvested_fruit": "SELECT owner_kind, owner_id, indicator, fruit, n "
    "FROM garden_harvests, generate_series(first_fruit, through_fruit) AS n",
    "wallets": "SELECT owner_kind, owner_id, fruit, balance FROM rewards_balances",
    "credited": "SELECT owner_kind, owner_id, fruit, kind, sum(amount) FROM rewards_ledger "
    "GROUP BY 1, 2, 3, 4",
    "sms": "SELECT i.category, i.region, dense_rank() OVER (PARTITION BY i.rule_id, i.region "
    "ORDER BY i.opened_at, i.id), s.level, s.kind, s.phone "
    "FROM alert_sms s JOIN alert_incidents i ON i.id = s.incident_id",
}


def _plain(value: Any) -> Any:
    # float sums may differ in their last bits with the order of addition
    return round(value, 6) if isinstance(value, float) else value


async def snapshot(engine: AsyncEngine) -> dict[str, Rows]:
    """Every part of the business content, each sorted."""
    found: dict[str, Rows] = {}
    async with engine.connect() as conn:
        for name, sql in QUERIES.items():
            rows = (await conn.execute(text(sql))).all()
            found[name] = sorted((tuple(_plain(v) for v in row) for row in rows), key=repr)
    return found


def differences(reference: dict[str, Rows], faulted: dict[str, Rows], limit: int = 8) -> str:
    """The first rows each run has that the other has not, part by part ('' if equal)."""
    lines = []
    for name in reference:
        ours, theirs = Counter(reference[name]), Counter(faulted[name])
        if ours == theirs:
            continue
        lost, extra = ours - theirs, theirs - ours
        lines.append(
            f"{name}: {len(reference[name])} rows in the reference, {len(faulted[name])} "
            f"under faults; {sum(lost.values())} missing, {sum(extra.values())} extra"
        )
        lines += [f"  - {row}" for row in list(lost.elements())[:limit]]
        lines += [f"  + {row}" for row in list(extra.elements())[:limit]]
    return "\n".join(lines)


async def invariants(engine: AsyncEngine, sms_stored: Counter[str]) -> list[str]:
    """What must hold within any run; each problem found, as a line."""
    problems: list[str] = []
    async with engine.connect() as conn:

        async def rows(sql: str) -> Rows:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]

        problems += [
            f"fruit harvested twice: {r}"
            for r in await rows(
                "SELECT owner_kind, owner_id, indicator, n, count(*) FROM garden_harvests, "
                "generate_series(first_fruit, through_fruit) AS n GROUP BY 1, 2, 3, 4 "
                "HAVING count(*) > 1 LIMIT 5"
            )
        ]
        problems += [
            f"harvest lot not credited exactly once with its count: {r}"
            for r in await rows(
                "SELECT h.harvest_id, h.count, count(l.id), sum(l.amount) FROM garden_harvests h "
                "LEFT JOIN rewards_ledger l ON l.reference = 'harvest:' || h.harvest_id "
                "AND l.owner_kind = h.owner_kind AND l.owner_id = h.owner_id "
                "WHERE h.owner_kind IN ('agent', 'team') GROUP BY 1, 2 "
                "HAVING count(l.id) <> 1 OR sum(l.amount) <> h.count LIMIT 5"
            )
        ]
        problems += [
            f"credit without a harvest: {r}"
            for r in await rows(
                "SELECT l.reference FROM rewards_ledger l WHERE l.reference LIKE 'harvest:%' "
                "AND NOT EXISTS (SELECT 1 FROM garden_harvests h "
                "WHERE 'harvest:' || h.harvest_id = l.reference) LIMIT 5"
            )
        ]
        problems += [
            f"balance differs from its ledger's sum: {r}"
            for r in await rows(
                "SELECT b.owner_kind, b.owner_id, b.fruit, b.balance, sum(l.amount) "
                "FROM rewards_balances b JOIN rewards_ledger l USING (owner_kind, owner_id, fruit) "
                "GROUP BY 1, 2, 3, 4 HAVING b.balance <> sum(l.amount) OR b.balance < 0 LIMIT 5"
            )
        ]
        sms = await rows("SELECT id, status FROM alert_sms")
    problems += [f"SMS {i} not sent: {status}" for i, status in sms if status not in SENT]
    keys = {f"sms-{i}" for i, _ in sms}
    if set(sms_stored) != keys:
        problems.append(
            f"the gateway stored {sorted(set(sms_stored) - keys)[:5]} unknown and lacks "
            f"{sorted(keys - set(sms_stored))[:5]}"
        )
    return problems


SENT = ("sent", "delivered")
