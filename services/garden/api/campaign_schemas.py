"""What the campaign API takes and answers (the field names frontends code against)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.vocabulary import UnitKind

ClassName = Literal["A", "B", "C", "unrated"]
Status = Literal["scheduled", "running", "ended"]
Text = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f]+$")]
"""Text without control characters."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value.strip()


class UnitIn(_Strict):
    kind: UnitKind
    id: Annotated[Text, Field(min_length=1, max_length=128)]


class GoalIn(_Strict):
    """At least one of the two; both given means both must be met."""

    unit_value: Annotated[float, Field(allow_inf_nan=False, ge=-1e12, le=1e12)] | None = None
    """The unit's own value for the indicator to reach on the last day."""
    healthy_share: Annotated[float, Field(ge=0, le=1)] | None = None
    """The share of members in class A (healthy) to reach at the end, 0–1."""
    better: Literal["higher", "lower"] | None = None
    """Which way the unit's value improves (default: lower for aht and complaint_rate)."""


class CampaignIn(_Strict):
    """A campaign to start."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "name": "关注健康,快乐成长",
                    "indicator": "aht",
                    "unit": {"kind": "team", "id": "C1-D1-T1"},
                    "starts_on": "2026-05-04",
                    "ends_on": "2026-05-29",
                    "goal": {"unit_value": 300, "healthy_share": 0.6},
                }
            ]
        },
    )

    name: Annotated[Text, Field(min_length=1, max_length=200)]
    indicator: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
    unit: UnitIn
    starts_on: date
    ends_on: date
    goal: GoalIn

    _name = field_validator("name")(_not_blank)


class CountermeasureIn(_Strict):
    """A countermeasure of the plan: what is done, by whom, when its effect is checked."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"what": "一对一帮扶: 通话结构复盘", "who": "leader-t1", "check_on": "2026-05-15"}
            ]
        },
    )

    what: Annotated[Text, Field(min_length=1, max_length=500)]
    who: Annotated[Text, Field(min_length=1, max_length=128)]
    check_on: date

    _what = field_validator("what", "who")(_not_blank)


class UnitRef(BaseModel):
    kind: UnitKind
    id: str


class GoalOut(BaseModel):
    unit_value: float | None
    healthy_share: float | None
    better: Literal["higher", "lower"]


class Classes(BaseModel):
    A: int
    B: int
    C: int
    unrated: int


class StartMember(BaseModel):
    agent_id: str
    name: str
    class_: ClassName = Field(alias="class")
    value: float | None
    as_of: date | None
    """The settled day the class comes from (None when unrated)."""


class StartOut(BaseModel):
    classes: Classes
    unit_value: float | None
    members: list[StartMember] | None = None


class DayOut(BaseModel):
    date: date
    classes: Classes
    unit_value: float | None


class MoveOut(BaseModel):
    date: date
    from_: ClassName = Field(alias="from")
    to: ClassName


class MemberProgress(BaseModel):
    agent_id: str
    name: str
    start_class: ClassName
    start_value: float | None
    class_: ClassName = Field(alias="class")
    value: float | None
    moves: list[MoveOut]


class ProgressOut(BaseModel):
    days: list[DayOut]
    members: list[MemberProgress] | None = None


class ClassOutcome(BaseModel):
    improved: int
    stayed: int
    fell: int
    members: int
    ended: Classes
    """Where the members who started in this class ended."""


class Outcomes(BaseModel):
    A: ClassOutcome
    B: ClassOutcome
    C: ClassOutcome
    unrated: ClassOutcome


class ResultOut(BaseModel):
    classes: Outcomes
    unit_value_before: float | None
    unit_value_after: float | None
    healthy_share: float | None
    goal_met: bool


_COUNTERMEASURE = {
    "id": 7,
    "what": "一对一帮扶: 通话结构复盘",
    "who": "leader-t1",
    "check_on": "2026-05-15",
    "done": True,
    "done_at": "2026-05-15T10:20:00+08:00",
}
_CLASSES = {"A": 1, "B": 1, "C": 0, "unrated": 0}
_CAMPAIGN = {
    "id": "cmp-5f0c1e9a2b3d4c5e6f708192",
    "name": "关注健康,快乐成长",
    "indicator": "aht",
    "unit": {"kind": "team", "id": "C1-D1-T1"},
    "center_id": "C1",
    "starts_on": "2026-05-04",
    "ends_on": "2026-05-05",
    "goal": {"unit_value": 300.0, "healthy_share": 0.5, "better": "lower"},
    "status": "ended",
    "created_by": "leader-t1",
    "created_at": "2026-05-01T09:00:00+08:00",
    "start": {
        "classes": {"A": 0, "B": 1, "C": 1, "unrated": 0},
        "unit_value": 338.5,
        "members": [
            {"agent_id": "A1", "name": "王芳", "class": "B", "value": 331.0, "as_of": "2026-05-01"},
            {"agent_id": "A2", "name": "李娜", "class": "C", "value": 402.0, "as_of": "2026-05-01"},
        ],
    },
    "progress": {
        "days": [
            {
                "date": "2026-05-04",
                "classes": {"A": 1, "B": 0, "C": 1, "unrated": 0},
                "unit_value": 318.0,
            },
            {"date": "2026-05-05", "classes": _CLASSES, "unit_value": 296.4},
        ],
        "members": [
            {
                "agent_id": "A1",
                "name": "王芳",
                "start_class": "B",
                "start_value": 331.0,
                "class": "A",
                "value": 280.0,
                "moves": [{"date": "2026-05-04", "from": "B", "to": "A"}],
            },
            {
                "agent_id": "A2",
                "name": "李娜",
                "start_class": "C",
                "start_value": 402.0,
                "class": "B",
                "value": 344.0,
                "moves": [{"date": "2026-05-05", "from": "C", "to": "B"}],
            },
        ],
    },
    "result": {
        "classes": {
            "A": {
                "improved": 0,
                "stayed": 0,
                "fell": 0,
                "members": 0,
                "ended": {"A": 0, "B": 0, "C": 0, "unrated": 0},
            },
            "B": {
                "improved": 1,
                "stayed": 0,
                "fell": 0,
                "members": 1,
                "ended": {"A": 1, "B": 0, "C": 0, "unrated": 0},
            },
            "C": {
                "improved": 1,
                "stayed": 0,
                "fell": 0,
                "members": 1,
                "ended": {"A": 0, "B": 1, "C": 0, "unrated": 0},
            },
            "unrated": {
                "improved": 0,
                "stayed": 0,
                "fell": 0,
                "members": 0,
                "ended": {"A": 0, "B": 0, "C": 0, "unrated": 0},
            },
        },
        "unit_value_before": 338.5,
        "unit_value_after": 296.4,
        "healthy_share": 0.5,
        "goal_met": True,
    },
    "countermeasures": [_COUNTERMEASURE],
}


class CountermeasureOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_COUNTERMEASURE]})

    id: int
    what: str
    who: str
    check_on: date
    done: bool
    done_at: datetime | None


class CampaignOut(BaseModel):
    """A campaign: its start snapshot, progress per day and member, result, countermeasures
    (a summary leaves out `start.members` and `progress.members`)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_CAMPAIGN]})

    id: str
    name: str
    indicator: str
    unit: UnitRef
    center_id: str
    starts_on: date
    ends_on: date
    goal: GoalOut
    status: Status
    created_by: str
    created_at: datetime
    start: StartOut
    progress: ProgressOut
    result: ResultOut | None
    countermeasures: list[CountermeasureOut]


class CampaignPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": [_CAMPAIGN], "next": "dDE6MTI"}]}
    )

    items: list[CampaignOut]
    next: str | None
    """The cursor of the next page (`before`), None on the last one."""
