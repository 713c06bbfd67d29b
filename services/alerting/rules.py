"""The surge rules document (`GET/PUT /v1/rules`): schema, validation, defaults.

The document is stored whole and versioned; the newest version is in force.
Validation gives one reason per problem (422), and a valid document always
converts to domain `SurgeRule`s.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.alerting.domain.ladder import EscalationLadder, EscalationLevel, Recipient
from services.alerting.domain.surge import ALL_REGIONS, SurgeRule

Phone = Annotated[
    str, Field(pattern=r"^\+[1-9]\d{6,14}$", description="E.164, e.g. +8613800000001")
]
NO_NUL = r"^[^\x00]*$"
"""PostgreSQL text (and jsonb) cannot hold a NUL character."""
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=NO_NUL)]
Title = Annotated[str, Field(max_length=128, pattern=NO_NUL)]


class RecipientSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    phone: Phone
    title: Title = ""
    user: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=128,
            pattern=NO_NUL,
            description="the person's token subject: a manager on the ladder may read, "
            "acknowledge and resolve the rule's incidents",
        ),
    ] = None


class LevelSpec(BaseModel):
    """One rung: reached at `min_count` in the window, or after `after_minutes` open."""

    model_config = ConfigDict(extra="forbid")

    level: Annotated[int, Field(ge=1, le=9)]
    title: Title = ""
    recipients: Annotated[list[RecipientSpec], Field(min_length=1, max_length=50)]
    min_count: Annotated[int | None, Field(ge=1)] = None
    after_minutes: Annotated[float | None, Field(ge=0, le=7 * 24 * 60)] = None


class RuleSpec(BaseModel):
    """A surge rule for one category (and one region, or `*` for all of them)."""

    model_config = ConfigDict(extra="forbid")

    category: Name
    region: Name = ALL_REGIONS
    per_region: bool = False
    department: Name
    window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 30
    min_count: Annotated[int, Field(ge=1)] = 10
    surge_factor: Annotated[float, Field(ge=1, le=1000)] = 3.0
    baseline_floor: Annotated[float, Field(ge=0)] = 2.0
    baseline_seed: Annotated[float, Field(ge=0)] = 4.0
    cooldown_minutes: Annotated[float, Field(ge=0, le=7 * 24 * 60)] = 15.0
    repeat_minutes: Annotated[float, Field(ge=0, le=7 * 24 * 60)] = 30.0
    language: Literal["zh", "en"] = "zh"
    ladder: Annotated[list[LevelSpec], Field(min_length=1, max_length=9)]

    @field_validator("ladder")
    @classmethod
    def _ordered(cls, ladder: list[LevelSpec]) -> list[LevelSpec]:
        if [lv.level for lv in ladder] != list(range(1, len(ladder) + 1)):
            raise ValueError("levels must be numbered 1, 2, 3, … in order")
        for name in ("min_count", "after_minutes"):
            values = [getattr(lv, name) for lv in ladder[1:] if getattr(lv, name) is not None]
            if values != sorted(values):
                raise ValueError(f"{name} must not decrease from one level to the next")
        for lv in ladder[1:]:
            if lv.min_count is None and lv.after_minutes is None:
                raise ValueError(f"level {lv.level} needs min_count or after_minutes")
        return ladder

    @model_validator(mode="after")
    def _region(self) -> RuleSpec:
        if self.per_region and self.region != ALL_REGIONS:
            raise ValueError("per_region applies to a rule for every region (region '*')")
        return self

    def to_domain(self) -> SurgeRule:
        return SurgeRule(
            **self.model_dump(exclude={"ladder"}),
            ladder=EscalationLadder(
                tuple(
                    EscalationLevel(
                        **lv.model_dump(exclude={"recipients"}),
                        recipients=tuple(Recipient(**r.model_dump()) for r in lv.recipients),
                    )
                    for lv in self.ladder
                )
            ),
        )


class RuleSetSpec(BaseModel):
    """Every surge rule; a category has either one `*` rule or rules per named region."""

    model_config = ConfigDict(extra="forbid")

    rules: Annotated[list[RuleSpec], Field(max_length=500)]

    @model_validator(mode="after")
    def _unique(self) -> RuleSetSpec:
        seen: set[tuple[str, str]] = set()
        for rule in self.rules:
            key = (rule.category, rule.region)
            if key in seen:
                raise ValueError(f"two rules for category {key[0]!r} and region {key[1]!r}")
            seen.add(key)
        return self

    def to_domain(self) -> list[SurgeRule]:
        return [r.to_domain() for r in self.rules]


# Demo organisation: the responsible department per category (一点投诉、全网响应) and
# the management chain above it. Numbers are the 138-0000-00xx demo range.
_DEPARTMENTS: dict[str, tuple[str, str, str]] = {
    # category: (department, its head, head's phone suffix)
    "network": ("网络运维部 Network Operations", "王建国 Wang Jianguo", "01"),
    "billing": ("计费支撑部 Billing Support", "李晓梅 Li Xiaomei", "02"),
    "product": ("产品运营部 Product Operations", "张伟 Zhang Wei", "03"),
    "service": ("客户服务部 Customer Service", "陈静 Chen Jing", "04"),
    "other": ("客户服务部 Customer Service", "陈静 Chen Jing", "04"),
}
_DIRECTOR = {"name": "刘洋 Liu Yang", "phone": "+8613800000011", "title": "客服中心总监 director"}
_VICE_PRESIDENT = {"name": "赵磊 Zhao Lei", "phone": "+8613800000021", "title": "分管副总 VP"}
_GENERAL_MANAGER = {"name": "孙红 Sun Hong", "phone": "+8613800000031", "title": "总经理 GM"}


def default_rules() -> RuleSetSpec:
    """The rules seeded on first start.

    Network complaints are watched per region (an outage is local: a city's
    surge must not hide in the provincial total); the other categories over
    every region (a billing fault hits everyone).
    """
    rules: list[dict[str, Any]] = []
    for category, (department, head, suffix) in _DEPARTMENTS.items():
        rules.append(
            {
                "category": category,
                "region": ALL_REGIONS,
                "per_region": category == "network",
                "department": department,
                "ladder": [
                    {
                        "level": 1,
                        "title": "部门负责人 department head",
                        "recipients": [
                            {"name": head, "phone": f"+86138000000{suffix}", "title": department}
                        ],
                    },
                    {
                        "level": 2,
                        "title": "总监 director",
                        "recipients": [_DIRECTOR],
                        "min_count": 30,
                        "after_minutes": 30,
                    },
                    {
                        "level": 3,
                        "title": "分管副总 vice-president",
                        "recipients": [_VICE_PRESIDENT],
                        "min_count": 60,
                        "after_minutes": 60,
                    },
                    {
                        "level": 4,
                        "title": "总经理 general manager",
                        "recipients": [_GENERAL_MANAGER],
                        "min_count": 100,
                        "after_minutes": 120,
                    },
                ],
            }
        )
    return RuleSetSpec.model_validate({"rules": rules})
