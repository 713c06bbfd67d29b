"""Improvement campaigns on `cc.garden.v1` (garden): started, a day recorded, ended.

Keyed by the campaign's unit id (a team, department or center), so one unit's
campaign events stay in order. Ids are stable across replays: `campaign.started`
once per campaign; `campaign.day_recorded` once per content of a day (a late
member's day gives the day a new content, and a new event that supersedes the
earlier one of that date); `campaign.ended` once per result (a late day of the
period after the end gives a corrected result, which supersedes the earlier one).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from shared.contracts.derived import BusinessDate, DerivedEvent, Name
from shared.contracts.topics import GARDEN

ClassName = Literal["A", "B", "C", "unrated"]
Count = Annotated[StrictInt, Field(ge=0)]


class _Part(BaseModel):
    model_config = ConfigDict(
        extra="allow", frozen=True, strict=True, serialize_by_alias=True, validate_by_name=True
    )


class Classes(_Part):
    """How many members are in each class (A healthy, B pests, C withered, unrated)."""

    A: Count
    B: Count
    C: Count
    unrated: Count


class Goal(_Part):
    """The unit's value to reach, the share of members in A to reach (0–1), or both."""

    unit_value: StrictFloat | None
    healthy_share: Annotated[StrictFloat, Field(ge=0, le=1)] | None
    better: Literal["higher", "lower"]


class MemberMove(_Part):
    """A member changed class on the day."""

    agent_id: Name
    from_class: ClassName = Field(alias="from")
    to_class: ClassName = Field(alias="to")


class ClassOutcome(_Part):
    """What became of the members who started in one class."""

    improved: Count
    stayed: Count
    fell: Count
    members: Count
    ended: Classes


class Outcomes(_Part):
    A: ClassOutcome
    B: ClassOutcome
    C: ClassOutcome
    unrated: ClassOutcome


class CampaignEvent(DerivedEvent):
    """Something happened to an improvement campaign."""

    topic = GARDEN

    source: Literal["garden"] = "garden"
    campaign_id: Name
    unit_kind: Literal["team", "department", "center"]
    unit_id: Name
    center_id: Name
    indicator: Name

    @property
    def partition_key(self) -> str:
        return self.unit_id


class CampaignStarted(CampaignEvent):
    """A leader started a campaign: its period, goal and the members' classes at the start."""

    type: Literal["campaign.started"] = "campaign.started"
    name: Annotated[StrictStr, Field(min_length=1, max_length=200)]
    starts_on: BusinessDate
    ends_on: BusinessDate
    goal: Goal
    classes: Classes
    unit_value: StrictFloat | None
    """The unit's value on its latest settled day before the start."""
    created_by: Name


class CampaignDayRecorded(CampaignEvent):
    """A settled day of the period was recorded (or its record changed): the classes after
    it, the unit's value that day and the members who moved."""

    type: Literal["campaign.day_recorded"] = "campaign.day_recorded"
    business_date: BusinessDate
    classes: Classes
    unit_value: StrictFloat | None
    moves: list[MemberMove]
    recorded: Count
    """Members with a settled day on this date."""


class CampaignEnded(CampaignEvent):
    """The last day of the period was settled: per start class how many improved, stayed and
    fell; the unit's value before and after; whether the goal was met."""

    type: Literal["campaign.ended"] = "campaign.ended"
    starts_on: BusinessDate
    ends_on: BusinessDate
    result: Outcomes
    unit_value_before: StrictFloat | None
    unit_value_after: StrictFloat | None
    healthy_share: Annotated[StrictFloat, Field(ge=0, le=1)] | None
    goal_met: StrictBool


CAMPAIGN_EVENTS: tuple[type[CampaignEvent], ...] = (
    CampaignStarted,
    CampaignDayRecorded,
    CampaignEnded,
)
