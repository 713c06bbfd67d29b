"""The documents the garden API answers with (field names are the contract frontends code
against, `../shared/docs/architecture.md`), each with an example for the OpenAPI page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

StateName = Literal["healthy", "pests", "withered"]


def _example(example: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [example]})


_PLANT = {
    "indicator": "satisfaction",
    "fruit": "watermelon",
    "stage": 3,
    "state": "healthy",
    "growth": 52.0,
    "ripe_fruit": 2,
    "preview_points": 6.0,
    "cycle": 4,
    "fruit_ripened": 3,
    "fruit_harvested": 1,
    "last_rated": "2026-03-09",
}


class PlantOut(BaseModel):
    """One plant: where it stands in its cycle and what waits on it."""

    model_config = _example(_PLANT)

    indicator: str
    fruit: str | None
    """The fruit kind (None before the first rated day)."""
    stage: int
    """0 seed, 1 sprout, 2 leafy, 3 flowering, 4 fruiting."""
    state: StateName
    growth: float
    """Growth in the current cycle."""
    ripe_fruit: int
    preview_points: float | None
    """Today's live preview points (None without a preview today)."""
    cycle: int
    fruit_ripened: int
    fruit_harvested: int
    last_rated: date | None


class DayPoints(BaseModel):
    """A settled day's points and state for one indicator."""

    model_config = _example({"date": "2026-03-09", "points": 8.0, "state": "healthy"})

    date: date
    points: float
    state: Literal["healthy", "pests", "withered", "not_rated"]


class AgentGarden(BaseModel):
    """An agent's garden: plants, star level and the last 30 days of points."""

    model_config = _example(
        {
            "agent_id": "A1024",
            "today": "2026-03-10",
            "fruit_at": 100.0,
            "stage_thresholds": [0, 10, 25, 45, 70],
            "star_level": 4,
            "average_points": 6.4,
            "plants": [_PLANT],
            "days": {"satisfaction": [{"date": "2026-03-09", "points": 8.0, "state": "healthy"}]},
        }
    )

    agent_id: str
    today: date
    """The business day of the agent's center."""
    fruit_at: float
    """The growth in a cycle at which a fruit ripens (the center's configuration today)."""
    stage_thresholds: list[float]
    """The growth in a cycle at which stages 0–4 begin."""
    star_level: int
    average_points: float | None
    """Average daily points of the 30 days before today (None without a rated day)."""
    plants: list[PlantOut]
    days: dict[str, list[DayPoints]]
    """The settled days of the 30 days before today, per indicator."""


class MemberOut(BaseModel):
    """A member of a unit and the state of each of their plants (None: not rated yet)."""

    model_config = _example(
        {"owner_id": "A1024", "name": "Li Lei", "states": {"satisfaction": "pests"}}
    )

    owner_id: str
    name: str
    states: dict[str, StateName | None]


class SplitOut(BaseModel):
    """One indicator's members by class: A healthy, B pests, C withered, and unrated."""

    model_config = _example(
        {"indicator": "satisfaction", "a": ["A1001"], "b": ["A1024"], "c": [], "unrated": []}
    )

    indicator: str
    a: list[str]
    b: list[str]
    c: list[str]
    unrated: list[str]


class UnitGarden(BaseModel):
    """A unit's own plants, its members' states and the A/B/C split per indicator."""

    model_config = _example(
        {
            "kind": "team",
            "unit_id": "C1-D1-T01",
            "today": "2026-03-10",
            "fruit_at": 100.0,
            "stage_thresholds": [0, 10, 25, 45, 70],
            "plants": [_PLANT],
            "members": [
                {"owner_id": "A1024", "name": "Li Lei", "states": {"satisfaction": "pests"}}
            ],
            "split": [
                {"indicator": "satisfaction", "a": [], "b": ["A1024"], "c": [], "unrated": []}
            ],
        }
    )

    kind: Literal["team", "department", "center"]
    unit_id: str
    today: date
    fruit_at: float
    """The growth in a cycle at which a fruit ripens (the unit's center's configuration)."""
    stage_thresholds: list[float]
    plants: list[PlantOut]
    members: list[MemberOut]
    """The agents of the unit's subtree, by name."""
    split: list[SplitOut]


_ENTRY = {
    "entry_id": "agent:A1024:fcr/2026-03-01/stage_reached/0",
    "type": "plant.stage_reached",
    "indicator": "fcr",
    "business_date": "2026-03-01",
    "recorded_at": "2026-03-02T02:40:11Z",
    "detail": {"fruit": "apple", "stage": 1, "growth": 12.0},
}


class TimelineEntryOut(BaseModel):
    """Something that happened to a plant (its `type` is the `cc.garden.v1` event type)."""

    model_config = _example(_ENTRY)

    entry_id: str
    type: str
    indicator: str
    business_date: date
    recorded_at: datetime
    detail: dict[str, Any]


class TimelinePage(BaseModel):
    """A page of a timeline, newest first; `next` fetches the older entries."""

    model_config = _example(
        {
            "owner_kind": "agent",
            "owner_id": "A1024",
            "entries": [_ENTRY],
            "next": "dDE6MTIz",
        }
    )

    owner_kind: str
    owner_id: str
    entries: list[TimelineEntryOut]
    next: str | None
    """The `before` cursor of the next (older) page; None on the last page."""


class LotOut(BaseModel):
    """A lot of one fruit kind collected in a harvest (one `fruit.harvested`)."""

    model_config = _example(
        {
            "harvest_id": "agent:A1024:fcr/harvest/1-2",
            "fruit": "apple",
            "count": 2,
            "first": 1,
            "through": 2,
        }
    )

    harvest_id: str
    fruit: str
    count: int
    first: int
    through: int


class HarvestOut(BaseModel):
    """What a harvest collected and the ripe fruit left on the plant."""

    model_config = _example(
        {
            "owner_kind": "agent",
            "owner_id": "A1024",
            "indicator": "fcr",
            "count": 2,
            "fruit": "apple",
            "harvest_ids": ["agent:A1024:fcr/harvest/1-2"],
            "lots": [
                {
                    "harvest_id": "agent:A1024:fcr/harvest/1-2",
                    "fruit": "apple",
                    "count": 2,
                    "first": 1,
                    "through": 2,
                }
            ],
            "ripe_fruit": 0,
            "business_date": "2026-03-10",
        }
    )

    owner_kind: str
    owner_id: str
    indicator: str
    count: int
    fruit: str
    """The kind of the newest fruit collected."""
    harvest_ids: list[str]
    lots: list[LotOut]
    ripe_fruit: int
    business_date: date


class StandingOut(BaseModel):
    model_config = _example({"rank": 1, "owner": "A1024", "name": "Li Lei", "fruit": 12})

    rank: int
    owner: str
    name: str
    fruit: int


class MineOut(BaseModel):
    model_config = _example({"rank": 4, "fruit": 7})

    rank: int
    fruit: int


class LeaderboardOut(BaseModel):
    """Owners ranked by fruit harvested in a period (ties share a rank)."""

    model_config = _example(
        {
            "scope": "team:C1-D1-T01",
            "period": "week:2026-03-09",
            "start": "2026-03-09",
            "end": "2026-03-15",
            "fruit": None,
            "owners": "agent",
            "entries": [{"rank": 1, "owner": "A1024", "name": "Li Lei", "fruit": 12}],
            "me": {"rank": 1, "fruit": 12},
        }
    )

    scope: str
    period: str
    start: date
    end: date
    """The last business day of the period."""
    fruit: str | None
    owners: Literal["agent", "team"]
    entries: list[StandingOut]
    me: MineOut | None


class GardenConfigOut(BaseModel):
    """A center's garden configuration and the version it comes from."""

    model_config = _example(
        {
            "center_id": "C1",
            "version": 3,
            "effective_from": "2026-03-11",
            "created_by": "ops-admin",
            "config": {
                "multipliers": {"healthy": 1.0, "pests": 0.5, "withered": 0.2},
                "stage_thresholds": [0, 10, 25, 45, 70],
                "fruit_at": 100,
                "fruits": {"fcr": "apple", "satisfaction": "watermelon"},
                "default_fruit": "apple",
                "auto_harvest_days": 7,
                "star_thresholds": [2, 4, 6, 8],
                "leaderboard": {"top": 10, "neighbours": 2},
            },
        }
    )

    center_id: str
    version: int | None
    """None: no version stored, the defaults apply."""
    effective_from: date | None
    """The first day the version applies to (None: every day)."""
    created_by: str | None
    config: dict[str, Any]
