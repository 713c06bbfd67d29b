"""The organisation (domain.md §1): center → department → team → agent, over time.

Units are upserted and, once removed from the tree, kept as inactive (history
references them). Where an agent sits is a membership valid on the days
[valid_from, valid_to), so an agent who moves team counts for the new team
from the move date. Sections: the tree payload and its validation (pure), the
plan that turns a tree into changes (pure), repository reads and writes (never
commit), and the admin API.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.deps import SessionDep, run_sql
from services.scoring.models import ID_LENGTH
from shared.auth.tokens import AdminPrincipal
from shared.errors import ApiError

DEFAULT_TIMEZONE = "Asia/Shanghai"
UnitKind = Literal["team", "department", "center"]
Problem = dict[str, str]
"""A validation failure: `{"field": "centers[0].id", "reason": "..."}` (the error `details`)."""

_ID = re.compile(rf"^[^\s/]{{1,{ID_LENGTH}}}$")

# --- the tree payload (architecture.md) ----------------------------------------------------------


class _Node(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    name: str


class AgentIn(_Node):
    """An agent in the tree."""


class TeamIn(_Node):
    """A team and its agents."""

    agents: list[AgentIn] = Field(default_factory=list)


class DepartmentIn(_Node):
    """A department and its teams."""

    teams: list[TeamIn] = Field(default_factory=list)


class CenterIn(_Node):
    """A center, its time zone and its departments."""

    timezone: str = DEFAULT_TIMEZONE
    departments: list[DepartmentIn] = Field(default_factory=list)


class OrgTree(BaseModel):
    """The whole organisation, as `PUT /v1/org` takes it."""

    model_config = ConfigDict(extra="ignore")

    centers: list[CenterIn]


class OrgPut(OrgTree):
    """The tree plus the day the changes take effect (default: today in each center's zone)."""

    effective_from: date | None = None


# --- validation (pure) ---------------------------------------------------------------------------


def zone_or_none(name: str) -> ZoneInfo | None:
    """Return the IANA time zone called `name`, or None when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def tree_problems(tree: OrgTree) -> list[Problem]:
    """Return every reason the tree cannot be loaded (empty when it can)."""
    problems: list[Problem] = []
    if not tree.centers:
        problems.append({"field": "centers", "reason": "the org needs at least one center"})
    units: dict[str, str] = {}  # unit id -> where it was first seen
    agents: dict[str, tuple[str, str]] = {}  # agent id -> (where, team id)
    for path, node, kind, team_id in _walk(tree):
        problems += _node_problems(path, node)
        if kind == "agent":
            problems += _agent_seen(path, node.id, team_id, agents)
        elif node.id in units:
            reason = f"duplicate id {node.id!r} (also at {units[node.id]}); unit ids are unique"
            problems.append({"field": f"{path}.id", "reason": reason})
        else:
            units[node.id] = path
        if isinstance(node, CenterIn) and zone_or_none(node.timezone) is None:
            reason = f"unknown time zone {node.timezone!r} (use an IANA name like Asia/Shanghai)"
            problems.append({"field": f"{path}.timezone", "reason": reason})
    return problems


def _walk(tree: OrgTree) -> Iterable[tuple[str, _Node, str, str]]:
    """Yield (path, node, kind, team id of an agent or "") for every node, in tree order."""
    for c, center in enumerate(tree.centers):
        yield f"centers[{c}]", center, "center", ""
        for d, department in enumerate(center.departments):
            d_path = f"centers[{c}].departments[{d}]"
            yield d_path, department, "department", ""
            for t, team in enumerate(department.teams):
                yield f"{d_path}.teams[{t}]", team, "team", ""
                for a, agent in enumerate(team.agents):
                    yield f"{d_path}.teams[{t}].agents[{a}]", agent, "agent", team.id


def _node_problems(path: str, node: _Node) -> list[Problem]:
    problems = []
    if not _ID.match(node.id):
        reason = f"ids are 1–{ID_LENGTH} characters without spaces or '/', got {node.id!r}"
        problems.append({"field": f"{path}.id", "reason": reason})
    if not node.name.strip():
        problems.append({"field": f"{path}.name", "reason": "a name must not be empty"})
    return problems


def _agent_seen(
    path: str, agent_id: str, team_id: str, seen: dict[str, tuple[str, str]]
) -> list[Problem]:
    if agent_id not in seen:
        seen[agent_id] = (path, team_id)
        return []
    where, other_team = seen[agent_id]
    if other_team == team_id:
        reason = f"agent {agent_id!r} is listed twice in team {team_id!r} (also at {where})"
    else:
        reason = f"agent {agent_id!r} is in two teams: {other_team!r} and {team_id!r}"
    return [{"field": f"{path}.id", "reason": reason}]


# --- what the database holds, and the plan to change it (pure) -----------------------------------


@dataclass(frozen=True, slots=True)
class UnitState:
    """A stored unit or agent: its parent (None for centers and agents), name and activity."""

    parent_id: str | None
    name: str
    active: bool = True
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class OpenMembership:
    """An agent's current membership."""

    id: int
    team_id: str
    valid_from: date


@dataclass(slots=True)
class OrgSnapshot:
    """The stored organisation, enough to plan a change."""

    centers: dict[str, UnitState] = field(default_factory=dict)
    departments: dict[str, UnitState] = field(default_factory=dict)
    teams: dict[str, UnitState] = field(default_factory=dict)
    agents: dict[str, UnitState] = field(default_factory=dict)
    open_memberships: dict[str, OpenMembership] = field(default_factory=dict)
    last_left: dict[str, date] = field(default_factory=dict)
    """Agent id -> the latest end of a closed membership."""

    def center_of_team(self, team_id: str) -> str:
        department = self.teams[team_id].parent_id
        assert department is not None
        center = self.departments[department].parent_id
        assert center is not None
        return center


@dataclass(slots=True)
class UnitChanges:
    """Rows of one kind to insert or update (`upsert`) and ids to mark inactive."""

    upsert: list[tuple[str, UnitState]] = field(default_factory=list)
    added: int = 0
    deactivate: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, int]:
        updated = len(self.upsert) - self.added
        return {"added": self.added, "updated": updated, "deactivated": len(self.deactivate)}


@dataclass(slots=True)
class MembershipChanges:
    """Memberships to open, close (valid_to), retarget (same-day correction) or drop."""

    opened: list[tuple[str, str, date]] = field(default_factory=list)
    closed: list[tuple[int, date]] = field(default_factory=list)
    retargeted: list[tuple[int, str]] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    moved: int = 0

    def __bool__(self) -> bool:
        return bool(self.opened or self.closed or self.retargeted or self.dropped)


KINDS = ("centers", "departments", "teams", "agents")


@dataclass(slots=True)
class OrgPlan:
    """What loading a tree changes; `problems` non-empty means it must not be applied."""

    effective: dict[str, date]
    units: dict[str, UnitChanges]
    memberships: MembershipChanges
    problems: list[Problem]

    @property
    def changed(self) -> bool:
        return bool(self.memberships) or any(u.upsert or u.deactivate for u in self.units.values())

    def summary(self) -> dict[str, Any]:
        """Describe the plan for the API answer and the loader's output."""
        m = self.memberships
        agents = {**self.units["agents"].summary(), "moved": m.moved}
        return {
            "changed": self.changed,
            "effective_from": {c: d.isoformat() for c, d in sorted(self.effective.items())},
            **{kind: self.units[kind].summary() for kind in KINDS[:3]},
            "agents": agents,
            "memberships": {
                "opened": len(m.opened),
                "closed": len(m.closed) + len(m.dropped),
                "corrected": len(m.retargeted),
            },
        }


def desired_units(tree: OrgTree) -> dict[str, dict[str, UnitState]]:
    """Return the units and agents the tree asks for, by kind and id."""
    units: dict[str, dict[str, UnitState]] = {kind: {} for kind in KINDS}
    for center in tree.centers:
        units["centers"][center.id] = UnitState(None, center.name, timezone=center.timezone)
        for department in center.departments:
            units["departments"][department.id] = UnitState(center.id, department.name)
            for team in department.teams:
                units["teams"][team.id] = UnitState(department.id, team.name)
                for agent in team.agents:
                    units["agents"][agent.id] = UnitState(None, agent.name)
    return units


def plan_org(
    snapshot: OrgSnapshot, tree: OrgTree, *, effective_from: date | None, now: datetime
) -> OrgPlan:
    """Turn a validated tree into the changes that make the stored org equal to it."""
    desired = desired_units(tree)
    current = {
        "centers": snapshot.centers,
        "departments": snapshot.departments,
        "teams": snapshot.teams,
        "agents": snapshot.agents,
    }
    problems = _identity_problems(current, desired)
    effective = _effective_days(snapshot, desired["centers"], effective_from, now)
    units = {kind: _diff_units(current[kind], desired[kind]) for kind in KINDS}
    placements = {
        agent.id: (team.id, center.id)
        for center in tree.centers
        for department in center.departments
        for team in department.teams
        for agent in team.agents
    }
    memberships, membership_problems = _plan_memberships(snapshot, placements, effective)
    return OrgPlan(effective, units, memberships, problems + membership_problems)


def _identity_problems(
    current: Mapping[str, Mapping[str, UnitState]], desired: Mapping[str, Mapping[str, UnitState]]
) -> list[Problem]:
    """Ids are permanent: a unit keeps its kind and its parent."""
    problems: list[Problem] = []
    for kind in KINDS[:3]:
        for unit_id, unit in desired[kind].items():
            stored = current[kind].get(unit_id)
            if stored is not None and stored.parent_id != unit.parent_id:
                reason = (
                    f"{kind[:-1]} {unit_id!r} belongs to {stored.parent_id!r}, not "
                    f"{unit.parent_id!r}; units keep their parent (give a moved unit a new id)"
                )
                problems.append({"field": f"{kind}.{unit_id}", "reason": reason})
            for other in KINDS[:3]:
                if other != kind and unit_id in current[other]:
                    reason = f"{unit_id!r} is already the id of a {other[:-1]}; ids are permanent"
                    problems.append({"field": f"{kind}.{unit_id}", "reason": reason})
    return problems


def _effective_days(
    snapshot: OrgSnapshot,
    centers: Mapping[str, UnitState],
    effective_from: date | None,
    now: datetime,
) -> dict[str, date]:
    """The day changes take effect, per center (stored centers too: agents may leave them)."""
    days: dict[str, date] = {}
    for center_id, state in {**snapshot.centers, **centers}.items():
        zone = zone_or_none(state.timezone or DEFAULT_TIMEZONE) or ZoneInfo(DEFAULT_TIMEZONE)
        days[center_id] = effective_from or now.astimezone(zone).date()
    return days


def _diff_units(current: Mapping[str, UnitState], desired: Mapping[str, UnitState]) -> UnitChanges:
    changes = UnitChanges()
    for unit_id, unit in desired.items():
        stored = current.get(unit_id)
        if stored is None:
            changes.added += 1
        if stored != unit:
            changes.upsert.append((unit_id, unit))
    changes.deactivate = [i for i, s in current.items() if s.active and i not in desired]
    return changes


def _plan_memberships(
    snapshot: OrgSnapshot,
    placements: Mapping[str, tuple[str, str]],
    effective: Mapping[str, date],
) -> tuple[MembershipChanges, list[Problem]]:
    """Close the memberships of agents who moved or left and open the new ones."""
    changes = MembershipChanges()
    problems: list[Problem] = []
    for agent_id, (team_id, center_id) in placements.items():
        day = effective[center_id]
        current = snapshot.open_memberships.get(agent_id)
        if current is not None and current.team_id == team_id:
            continue
        left = snapshot.last_left.get(agent_id)
        if current is None and left is not None and day < left:
            problems.append(_too_early(agent_id, day, f"left their last team on {left}"))
            continue
        if current is not None:
            if day < current.valid_from:
                since = f"joined team {current.team_id!r} on {current.valid_from}"
                problems.append(_too_early(agent_id, day, since))
                continue
            changes.moved += 1
            if day == current.valid_from:  # a same-day correction: no day was spent there
                changes.retargeted.append((current.id, team_id))
                continue
            changes.closed.append((current.id, day))
        changes.opened.append((agent_id, team_id, day))
    for agent_id, current in snapshot.open_memberships.items():
        if agent_id in placements:
            continue
        day = effective[snapshot.center_of_team(current.team_id)]
        if day < current.valid_from:
            since = f"joined team {current.team_id!r} on {current.valid_from}"
            problems.append(_too_early(agent_id, day, since))
        elif day == current.valid_from:
            changes.dropped.append(current.id)
        else:
            changes.closed.append((current.id, day))
    return changes, problems


def _too_early(agent_id: str, day: date, since: str) -> Problem:
    reason = f"agent {agent_id!r} {since}; a change cannot take effect earlier ({day})"
    return {"field": "effective_from", "reason": reason}


# --- values the scoring pipeline reads -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Membership:
    """Where an agent sat on a day."""

    agent_id: str
    team_id: str
    department_id: str
    center_id: str


@dataclass(frozen=True, slots=True)
class Center:
    """An active center and its time zone."""

    id: str
    name: str
    timezone: ZoneInfo


@dataclass(frozen=True, slots=True)
class UnitPath:
    """A unit's place in the tree: a center, a department of it, or a team of that."""

    center_id: str
    department_id: str | None = None
    team_id: str | None = None

    @property
    def kind(self) -> UnitKind:
        if self.team_id is not None:
            return "team"
        return "department" if self.department_id is not None else "center"

    @property
    def unit_id(self) -> str:
        return self.team_id or self.department_id or self.center_id

    def contains(self, other: UnitPath) -> bool:
        """Tell whether `other` is this unit or lies below it (a leader's subtree)."""
        if self.center_id != other.center_id:
            return False
        if self.department_id is not None and self.department_id != other.department_id:
            return False
        return self.team_id is None or self.team_id == other.team_id


# --- repository reads (never commit) -------------------------------------------------------------

_MEMBER_JOIN = (
    "FROM scoring_memberships m JOIN scoring_teams t ON t.id = m.team_id "
    "JOIN scoring_departments d ON d.id = t.department_id "
    "JOIN scoring_centers c ON c.id = d.center_id "
)
_VALID_ON = "m.valid_from <= :day AND (m.valid_to IS NULL OR m.valid_to > :day)"


async def agent_zones(session: AsyncSession, agent_ids: Collection[str]) -> dict[str, ZoneInfo]:
    """Return each agent's center time zone (their latest membership; unknown agents absent)."""
    if not agent_ids:
        return {}
    rows = await run_sql(
        session,
        (
            "SELECT DISTINCT ON (m.agent_id) m.agent_id, c.timezone "
            + _MEMBER_JOIN
            + "WHERE m.agent_id = ANY(CAST(:ids AS text[])) ORDER BY m.agent_id, m.valid_from DESC"
        ),
        {"ids": list(agent_ids)},
    )
    return {agent_id: ZoneInfo(zone) for agent_id, zone in rows}


async def memberships_on(session: AsyncSession, day: date) -> list[Membership]:
    """Return where every member agent sat on `day`."""
    rows = await run_sql(
        session,
        (
            "SELECT m.agent_id, m.team_id, t.department_id, d.center_id "
            + _MEMBER_JOIN
            + f"WHERE {_VALID_ON} ORDER BY m.agent_id"
        ),
        {"day": day},
    )
    return [Membership(*row) for row in rows]


async def centers(session: AsyncSession) -> list[Center]:
    """Return the active centers."""
    rows = await run_sql(
        session, "SELECT id, name, timezone FROM scoring_centers WHERE active ORDER BY id"
    )
    return [Center(i, name, ZoneInfo(zone)) for i, name, zone in rows]


_PATH_QUERIES: dict[str, str] = {
    "center": "SELECT id, NULL, NULL FROM scoring_centers WHERE id = :id",
    "department": "SELECT center_id, id, NULL FROM scoring_departments WHERE id = :id",
    "team": (
        "SELECT d.center_id, d.id, t.id FROM scoring_teams t "
        "JOIN scoring_departments d ON d.id = t.department_id WHERE t.id = :id"
    ),
}


async def unit_path(session: AsyncSession, kind: UnitKind, unit_id: str) -> UnitPath | None:
    """Return where a unit sits (inactive units too: history keeps them), or None if unknown."""
    query = _PATH_QUERIES.get(kind)
    if query is None:
        raise ValueError(f"unknown unit kind {kind!r}")
    row = (await run_sql(session, query, {"id": unit_id})).first()
    return UnitPath(*row) if row is not None else None


async def unit_exists(session: AsyncSession, kind: UnitKind, unit_id: str) -> bool:
    """Tell whether a unit of this kind is known (active or not)."""
    return await unit_path(session, kind, unit_id) is not None


async def find_unit(session: AsyncSession, unit_id: str) -> UnitPath | None:
    """Return the unit with this id, whatever its kind (unit ids are unique across kinds)."""
    query = " UNION ALL ".join(f"({q})" for q in _PATH_QUERIES.values())
    row = (await run_sql(session, query, {"id": unit_id})).first()
    return UnitPath(*row) if row is not None else None


async def agent_unit_path(session: AsyncSession, agent_id: str, day: date) -> UnitPath | None:
    """Return the team, department and center the agent belonged to on `day`."""
    row = (
        await run_sql(
            session,
            (
                "SELECT d.center_id, t.department_id, m.team_id "
                + _MEMBER_JOIN
                + f"WHERE m.agent_id = :agent AND {_VALID_ON}"
            ),
            {"agent": agent_id, "day": day},
        )
    ).first()
    return UnitPath(*row) if row is not None else None


async def read_tree(session: AsyncSession, *, on: date | None = None) -> dict[str, Any]:
    """Return the org tree: the current one, or who sat where on the day `on`.

    The current tree holds the active units (empty teams too) and each agent's
    latest membership. The tree of a past day holds the teams that had members
    that day, under their parents, with today's names.
    """
    if on is not None:
        return await _tree_on(session, on)
    centers_ = await run_sql(session, "SELECT id, name, timezone FROM scoring_centers WHERE active")
    departments = await run_sql(
        session, "SELECT id, center_id, name FROM scoring_departments WHERE active"
    )
    teams = await run_sql(session, "SELECT id, department_id, name FROM scoring_teams WHERE active")
    agents = await run_sql(
        session,
        (
            "SELECT a.id, m.team_id, a.name FROM scoring_memberships m "
            "JOIN scoring_agents a ON a.id = m.agent_id WHERE m.valid_to IS NULL"
        ),
    )
    return _assemble(list(centers_), list(departments), list(teams), list(agents))


async def _tree_on(session: AsyncSession, day: date) -> dict[str, Any]:
    rows = list(
        await run_sql(
            session,
            (
                "SELECT c.id, c.name, c.timezone, d.id, d.name, t.id, t.name, a.id, a.name "
                + _MEMBER_JOIN
                + f"JOIN scoring_agents a ON a.id = m.agent_id WHERE {_VALID_ON}"
            ),
            {"day": day},
        )
    )
    centers_ = {(r[0], r[1], r[2]) for r in rows}
    departments = {(r[3], r[0], r[4]) for r in rows}
    teams = {(r[5], r[3], r[6]) for r in rows}
    agents = [(r[7], r[5], r[8]) for r in rows]
    return _assemble(list(centers_), list(departments), list(teams), agents)


def natural_key(value: str) -> tuple[Any, ...]:
    """Sort key that puts C1-D2 before C1-D10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", value))


def _assemble(
    centers_: Iterable[Any], departments: Iterable[Any], teams: Iterable[Any], agents: Iterable[Any]
) -> dict[str, Any]:
    """Nest (id, parent, name) rows into the contract's tree, sorted naturally by id."""
    by_team: dict[str, list[dict[str, Any]]] = {}
    for agent_id, team_id, name in sorted(agents, key=lambda r: natural_key(r[0])):
        by_team.setdefault(team_id, []).append({"id": agent_id, "name": name})
    by_department: dict[str, list[dict[str, Any]]] = {}
    for team_id, department_id, name in sorted(teams, key=lambda r: natural_key(r[0])):
        team = {"id": team_id, "name": name, "agents": by_team.get(team_id, [])}
        by_department.setdefault(department_id, []).append(team)
    by_center: dict[str, list[dict[str, Any]]] = {}
    for department_id, center_id, name in sorted(departments, key=lambda r: natural_key(r[0])):
        teams_ = by_department.get(department_id, [])
        by_center.setdefault(center_id, []).append(
            {"id": department_id, "name": name, "teams": teams_}
        )
    return {
        "centers": [
            {"id": i, "name": name, "timezone": zone, "departments": by_center.get(i, [])}
            for i, name, zone in sorted(centers_, key=lambda r: natural_key(r[0]))
        ]
    }


async def load_snapshot(session: AsyncSession) -> OrgSnapshot:
    """Read the stored organisation for planning a change."""
    snapshot = OrgSnapshot()
    for i, name, zone, active in await run_sql(
        session, "SELECT id, name, timezone, active FROM scoring_centers"
    ):
        snapshot.centers[i] = UnitState(None, name, active, zone)
    for i, parent, name, active in await run_sql(
        session, "SELECT id, center_id, name, active FROM scoring_departments"
    ):
        snapshot.departments[i] = UnitState(parent, name, active)
    for i, parent, name, active in await run_sql(
        session, "SELECT id, department_id, name, active FROM scoring_teams"
    ):
        snapshot.teams[i] = UnitState(parent, name, active)
    for i, name, active in await run_sql(session, "SELECT id, name, active FROM scoring_agents"):
        snapshot.agents[i] = UnitState(None, name, active)
    for i, agent, team, since in await run_sql(
        session,
        (
            "SELECT id, agent_id, team_id, valid_from FROM scoring_memberships "
            "WHERE valid_to IS NULL"
        ),
    ):
        snapshot.open_memberships[agent] = OpenMembership(i, team, since)
    for agent, left in await run_sql(
        session,
        (
            "SELECT agent_id, max(valid_to) FROM scoring_memberships "
            "WHERE valid_to IS NOT NULL GROUP BY agent_id"
        ),
    ):
        snapshot.last_left[agent] = left
    return snapshot


# --- repository writes (never commit) ------------------------------------------------------------


class OrgRejected(Exception):
    """The tree cannot be loaded; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the org tree was refused ({len(problems)} problems)")
        self.problems = problems


_ORG_LOCK = "scoring.org"
_UPSERTS = {
    "centers": (
        "INSERT INTO scoring_centers (id, name, timezone) SELECT * FROM unnest("
        "CAST(:id AS text[]), CAST(:name AS text[]), CAST(:extra AS text[])) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, timezone = excluded.timezone, "
        "active = true, updated_at = now()"
    ),
    "departments": (
        "INSERT INTO scoring_departments (id, name, center_id) SELECT * FROM unnest("
        "CAST(:id AS text[]), CAST(:name AS text[]), CAST(:extra AS text[])) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = true, updated_at = now()"
    ),
    "teams": (
        "INSERT INTO scoring_teams (id, name, department_id) SELECT * FROM unnest("
        "CAST(:id AS text[]), CAST(:name AS text[]), CAST(:extra AS text[])) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = true, updated_at = now()"
    ),
    "agents": (
        "INSERT INTO scoring_agents (id, name) SELECT i, n FROM unnest("
        "CAST(:id AS text[]), CAST(:name AS text[]), CAST(:extra AS text[])) AS u(i, n, x) "
        "ON CONFLICT (id) DO UPDATE SET name = excluded.name, active = true, updated_at = now()"
    ),
}
_TABLES = {k: f"scoring_{k}" for k in KINDS}


async def apply_org(
    session: AsyncSession, tree: OrgTree, *, effective_from: date | None, now: datetime
) -> OrgPlan:
    """Make the stored org equal to `tree`; raise `OrgRejected` when it cannot be loaded.

    Serialised by a transaction-scoped advisory lock; loading the same tree
    again changes nothing.
    """
    problems = tree_problems(tree)
    if problems:
        raise OrgRejected(problems)
    await run_sql(session, "SELECT pg_advisory_xact_lock(hashtext(:k))", {"k": _ORG_LOCK})
    plan = plan_org(await load_snapshot(session), tree, effective_from=effective_from, now=now)
    if plan.problems:
        raise OrgRejected(plan.problems)
    await _write_units(session, plan)
    await _write_memberships(session, plan.memberships)
    return plan


async def _write_units(session: AsyncSession, plan: OrgPlan) -> None:
    for kind in KINDS:  # parents before children (foreign keys)
        changes = plan.units[kind]
        if changes.upsert:
            await run_sql(
                session,
                (_UPSERTS[kind]),
                {
                    "id": [i for i, _ in changes.upsert],
                    "name": [u.name for _, u in changes.upsert],
                    "extra": [u.timezone or u.parent_id or "" for _, u in changes.upsert],
                },
            )
        if changes.deactivate:
            await run_sql(
                session,
                (
                    f"UPDATE {_TABLES[kind]} SET active = false, updated_at = now() "
                    "WHERE id = ANY(CAST(:ids AS text[]))"
                ),
                {"ids": changes.deactivate},
            )


async def _write_memberships(session: AsyncSession, m: MembershipChanges) -> None:
    if m.dropped:
        await run_sql(
            session,
            ("DELETE FROM scoring_memberships WHERE id = ANY(CAST(:ids AS bigint[]))"),
            {"ids": m.dropped},
        )
    if m.retargeted:
        await run_sql(
            session,
            (
                "UPDATE scoring_memberships m SET team_id = u.team FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:teams AS text[])) AS u(id, team) WHERE m.id = u.id"
            ),
            {"ids": [i for i, _ in m.retargeted], "teams": [t for _, t in m.retargeted]},
        )
    if m.closed:
        await run_sql(
            session,
            (
                "UPDATE scoring_memberships m SET valid_to = u.day FROM unnest("
                "CAST(:ids AS bigint[]), CAST(:days AS date[])) AS u(id, day) WHERE m.id = u.id"
            ),
            {"ids": [i for i, _ in m.closed], "days": [d for _, d in m.closed]},
        )
    if m.opened:
        await run_sql(
            session,
            (
                "INSERT INTO scoring_memberships (agent_id, team_id, valid_from) "
                "SELECT * FROM unnest(CAST(:agents AS text[]), CAST(:teams AS text[]), "
                "CAST(:days AS date[]))"
            ),
            {
                "agents": [a for a, _, _ in m.opened],
                "teams": [t for _, t, _ in m.opened],
                "days": [d for _, _, d in m.opened],
            },
        )


# --- admin API -----------------------------------------------------------------------------------

org_router = APIRouter(prefix="/v1", tags=["org"])


@org_router.get("/org")
async def get_org(
    _: AdminPrincipal,
    session: SessionDep,
    on: date | None = Query(default=None, description="the tree as of this day (YYYY-MM-DD)"),
) -> dict[str, Any]:
    """Return the org tree (current, or as of the day `on`)."""
    tree = await read_tree(session, on=on)
    return {**tree, "on": on.isoformat() if on else None}


@org_router.put("/org")
async def put_org(body: OrgPut, _: AdminPrincipal, session: SessionDep) -> dict[str, Any]:
    """Replace the org with the tree; answer what changed."""
    try:
        plan = await apply_org(
            session, body, effective_from=body.effective_from, now=datetime.now().astimezone()
        )
    except OrgRejected as exc:
        raise ApiError(422, "the org tree was refused", details=exc.problems) from None
    return plan.summary()
