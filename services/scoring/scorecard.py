"""Scoring one center's business day: every agent, team, department and the center.

Pure: the day's totals, the org as of that day, the configuration and the
owners' recent settled values in; one row per (owner, indicator) out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from services.scoring.domain import (
    DayTotals,
    Indicator,
    Measured,
    Peers,
    Tiers,
    Verdict,
    judge,
    measure,
    veto_applies,
)
from shared.vocabulary import OWNER_KINDS


class Member(Protocol):
    """An agent's place in the org on a day."""

    agent_id: str
    team_id: str
    department_id: str
    center_id: str


class Config(Protocol):
    """The configuration in force for one owner."""

    library: Mapping[str, Indicator]
    tiers: Mapping[str, Tiers]
    veto: tuple[str, ...]
    satisfied_min_score: int


ConfigFor = Callable[[str, str | None, str], Config]
"""(center_id, department_id, owner_kind) -> the configuration in force."""


@dataclass(frozen=True, slots=True)
class ScoreRow:
    """One owner's outcome for one indicator on one day."""

    owner_kind: str
    owner_id: str
    business_date: date
    indicator: str
    center_id: str
    department_id: str | None
    team_id: str | None
    fruit: str
    verdict: Verdict

    def payload(self) -> dict[str, Any]:
        """The fields of a `cc.scores.v1` record about this row."""
        v = self.verdict
        return {
            "owner_kind": self.owner_kind,
            "owner_id": self.owner_id,
            "business_date": self.business_date.isoformat(),
            "indicator": self.indicator,
            "fruit": self.fruit,
            "center_id": self.center_id,
            "department_id": self.department_id,
            "team_id": self.team_id,
            "value": v.value,
            "sample": v.sample,
            "points": v.points,
            "state": v.state.value,
        }


@dataclass
class _Owner:
    kind: str
    id: str
    center_id: str
    department_id: str | None
    team_id: str | None
    totals: DayTotals = field(default_factory=DayTotals)
    histogram: list[int] = field(default_factory=lambda: [0, 0, 0, 0, 0])

    def pool(self, totals: DayTotals, histogram: Sequence[int]) -> None:
        self.totals.add(totals)
        for i, n in enumerate(histogram):
            self.histogram[i] += n


def score_center_day(
    day: date,
    center_id: str,
    members: Sequence[Member],
    totals: Mapping[str, tuple[DayTotals, list[int]]],
    config_for: ConfigFor,
    history: Mapping[tuple[str, str, str], Sequence[float]],
) -> list[ScoreRow]:
    """Score every owner of one center for one day.

    Agents are scored on their own totals (an agent without any activity that
    day is off and gets no rows); teams, departments and the center
    on their members' pooled totals, each with the tiers of its kind. The
    computed center average of an indicator is the mean of the center's rated
    agents; percentile peers are the owners of the same kind in the center.
    """
    owners = _owners(center_id, members, totals)
    rows: list[ScoreRow] = []
    center_avg: dict[str, float | None] = {}
    for kind in OWNER_KINDS:  # agents first: their mean is every kind's center average
        of_kind = [o for o in owners if o.kind == kind]
        measured: defaultdict[str, list[tuple[str, Indicator, Tiers, Measured, Config]]] = (
            defaultdict(list)
        )
        peers: defaultdict[str, list[float]] = defaultdict(list)
        for owner in of_kind:
            config = config_for(center_id, owner.department_id, kind)
            _count_satisfied(owner, config.satisfied_min_score)
            for code, indicator in config.library.items():
                if indicator.department_id not in (None, owner.department_id):
                    continue
                tiers = config.tiers.get(code)
                if tiers is None:
                    continue
                m = measure(indicator, owner.totals)
                measured[owner.id].append((code, indicator, tiers, m, config))
                if m.rated(indicator) and m.value is not None:
                    peers[code].append(m.value)
        if kind == "agent":
            center_avg = {code: Peers(tuple(v)).mean for code, v in peers.items()}
        for owner in of_kind:
            for code, indicator, tiers, m, config in measured[owner.id]:
                verdict = judge(
                    indicator,
                    tiers,
                    m,
                    center_avg=center_avg.get(code),
                    peers=Peers(tuple(peers[code])),
                    history=history.get((kind, owner.id, code), ()),
                    # 一票否决 is about an agent's own service; units are judged on pooled data
                    vetoed=kind == "agent"
                    and veto_applies(code, owner.totals.justified_complaints, config.veto),
                )
                rows.append(
                    ScoreRow(
                        kind,
                        owner.id,
                        day,
                        code,
                        center_id,
                        owner.department_id,
                        owner.team_id,
                        indicator.fruit,
                        verdict,
                    )
                )
    return rows


def _owners(
    center_id: str, members: Sequence[Member], totals: Mapping[str, tuple[DayTotals, list[int]]]
) -> list[_Owner]:
    owners: dict[tuple[str, str], _Owner] = {}
    center = owners.setdefault(
        ("center", center_id), _Owner("center", center_id, center_id, None, None)
    )
    for m in members:
        if m.center_id != center_id or m.agent_id not in totals:
            continue  # a day without any activity is a day off: nothing to rate
        agent_totals, histogram = totals[m.agent_id]
        agent = _Owner("agent", m.agent_id, center_id, m.department_id, m.team_id)
        agent.pool(agent_totals, histogram)
        owners[("agent", m.agent_id)] = agent
        team = owners.setdefault(
            ("team", m.team_id), _Owner("team", m.team_id, center_id, m.department_id, m.team_id)
        )
        department = owners.setdefault(
            ("department", m.department_id),
            _Owner("department", m.department_id, center_id, m.department_id, None),
        )
        for unit in (team, department, center):
            unit.pool(agent_totals, histogram)
    return list(owners.values())


def _count_satisfied(owner: _Owner, min_score: int) -> None:
    """Satisfied surveys are those at or above the configured score (≥4 by default)."""
    owner.totals.satisfied = sum(owner.histogram[min_score - 1 :])
