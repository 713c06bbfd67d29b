"""A seeded generator of a call center organisation tree (domain.md §1).

Four levels: center → department → team → agent. Ids follow the upstream
systems' conventions: center `C1`, department `C1-D1`, team `C1-D1-T01`, agent
work numbers `A1024`, `A1025`, … (numbered across the whole organisation).
The tree has the shape `PUT /v1/org` takes:
`{"centers": [{"id", "name", "timezone", "departments": [{"id", "name",
"teams": [{"id", "name", "agents": [{"id", "name"}]}]}]}]}`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random
from typing import Any

from shared.vocabulary import DEFAULT_TIMEZONE

FIRST_WORK_NUMBER = 1024
AGENTS_PER_CENTER = 2000
"""Default center size: a province-scale 3,000 agents make two centers."""
TEAM_SIZE = (12, 15)
TEAMS_PER_DEPARTMENT = (10, 20)

CENTER_NAMES = ("广州", "深圳", "佛山", "东莞", "珠海", "汕头", "惠州", "中山")
DEPARTMENT_KINDS = ("综合服务", "账务查询", "数据业务", "家庭宽带", "VIP服务", "投诉处理")
NUMERALS = "一二三四五六七八九十"
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹"
    "彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石"
)
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红婷雪琳晨欣怡佳颖浩宇鑫"

Org = dict[str, Any]
"""An org tree in the contract's dict shape."""


@dataclass(frozen=True, slots=True)
class Seat:
    """Where an agent sits in the tree: their center, department and team."""

    agent_id: str
    center_id: str
    timezone: str
    department_index: int
    """Position of the department within its center (decides its call queue)."""
    team_id: str


def build_org(
    agents: int,
    *,
    seed: int,
    centers: int | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> Org:
    """Return a realistic org tree of `agents` agents, the same for the same arguments.

    Agents are split evenly over `centers` (default: one per 2,000 agents), into
    teams of about 12–15 and departments of about 10–20 teams.
    """
    if agents < 1:
        raise ValueError("an org needs at least one agent")
    rng = Random(f"org:{seed}")
    count = centers or math.ceil(agents / AGENTS_PER_CENTER)
    numbers = iter(range(FIRST_WORK_NUMBER, FIRST_WORK_NUMBER + agents))
    return {
        "centers": [
            _center(index + 1, size, timezone, numbers, rng)
            for index, size in enumerate(_even_split(agents, count))
        ]
    }


def seats(org: Org) -> list[Seat]:
    """Return every agent of the tree with their place in it, in tree order."""
    return [
        Seat(agent["id"], center["id"], center["timezone"], d_index, team["id"])
        for center in org["centers"]
        for d_index, department in enumerate(center["departments"])
        for team in department["teams"]
        for agent in team["agents"]
    ]


def _center(number: int, agents: int, timezone: str, numbers: Iterator[int], rng: Random) -> Org:
    center_id = f"C{number}"
    city = CENTER_NAMES[(number - 1) % len(CENTER_NAMES)]
    team_sizes = _split(agents, TEAM_SIZE, rng)
    departments = []
    first_team = 0
    for d_number, team_count in enumerate(_split(len(team_sizes), TEAMS_PER_DEPARTMENT, rng), 1):
        department_id = f"{center_id}-D{d_number}"
        name = _department_name(d_number)
        teams = [
            {
                "id": f"{department_id}-T{t_number:02d}",
                "name": f"{name}{_numeral(t_number)}组",
                "agents": [
                    {"id": f"A{next(numbers)}", "name": _person_name(rng)} for _ in range(size)
                ],
            }
            for t_number, size in enumerate(team_sizes[first_team : first_team + team_count], 1)
        ]
        first_team += team_count
        departments.append({"id": department_id, "name": name, "teams": teams})
    return {
        "id": center_id,
        "name": f"{city}客服中心",
        "timezone": timezone,
        "departments": departments,
    }


def _even_split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def _split(total: int, bounds: tuple[int, int], rng: Random) -> list[int]:
    """Split `total` into parts of sizes within `bounds` where possible, varied at random."""
    low, high = bounds
    parts = max(1, math.ceil(total / high), round(total * 2 / (low + high)))
    sizes = _even_split(total, parts)
    for _ in range(parts):
        give, take = rng.randrange(parts), rng.randrange(parts)
        if give != take and sizes[give] > low and sizes[take] < high:
            sizes[give] -= 1
            sizes[take] += 1
    return sizes


def _department_name(number: int) -> str:
    kind = DEPARTMENT_KINDS[(number - 1) % len(DEPARTMENT_KINDS)]
    return f"{kind}{_numeral((number - 1) // len(DEPARTMENT_KINDS) + 1)}部"


def _numeral(number: int) -> str:
    """Chinese numeral for 1–99 (一, 十二, 二十三 …); digits from 100 on."""
    if number >= 100:
        return str(number)
    tens, ones = divmod(number, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens - 1] + "十")
    return head + (NUMERALS[ones - 1] if ones else "")


def _person_name(rng: Random) -> str:
    given = "".join(rng.choice(GIVEN_NAMES) for _ in range(rng.choice((1, 2, 2))))
    return rng.choice(SURNAMES) + given
