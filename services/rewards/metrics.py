"""Rewards metrics: fruit credited and spent by kind, redemptions by status, stock left per
prize, fund payouts, and what the garden consumer did with its events."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import Counter, Gauge

from shared.metrics import MetricSet, counter, gauge


@dataclass(frozen=True, slots=True)
class RewardsMetrics(MetricSet):
    fruit: Counter = counter(
        "rewards_fruit_total",
        "Fruit moved by ledger entries, by entry kind (credit, debit, refund, adjustment) and "
        "fruit kind (absolute amounts)",
        "kind",
        "fruit",
    )
    redemptions: Counter = counter(
        "rewards_redemptions_total",
        "Redemption statuses reached (requested, approved, fulfilled, rejected, cancelled)",
        "status",
    )
    refusals: Counter = counter(
        "rewards_refusals_total", "Changes the rules refused, by reason code", "code"
    )
    stock: Gauge = gauge(
        "rewards_prize_stock", "Stock left per stocked prize, as of its last change", "prize"
    )
    fund_payouts: Counter = counter(
        "rewards_fund_payouts_fen_total", "Fen allocated to shares by closed funds", "scope_kind"
    )
    funds_closed: Counter = counter("rewards_funds_closed_total", "Funds closed", "scope_kind")
    garden_events: Counter = counter(
        "rewards_garden_events_total",
        "Garden events consumed, by effect (credited, duplicate, no_wallet, ignored)",
        "effect",
    )
