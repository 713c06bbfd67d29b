"""Validating an org tree and planning the changes that load it (pure: values in, values out).

Also the values the scoring pipeline reads about the organisation: where an
agent sat on a day, a center and its zone, a unit's place in the tree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.scoring.models import ID_LENGTH
from services.scoring.org.schemas import CenterIn, NodeIn, OrgTree
from shared.vocabulary import DEFAULT_TIMEZONE, Problem, UnitKind, problem

_ID = re.compile(rf"^[^\s/]{{1,{ID_LENGTH}}}$")


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
        problems.append(problem("centers", "the org needs at least one center"))
    units: dict[str, str] = {}  # unit id -> where it was first seen
    agents: dict[str, tuple[str, str]] = {}  # agent id -> (where, team id)
    for path, node, kind, team_id in _walk(tree):
        problems += _node_problems(path, node)
        if kind == "agent":
            problems += _agent_seen(path, node.id, team_id, agents)
        elif node.id in units:
            reason = f"duplicate id {node.id!r} (also at {units[node.id]}); unit ids are unique"
            problems.append(problem(f"{path}.id", reason))
        else:
            units[node.id] = path
        if isinstance(node, CenterIn) and zone_or_none(node.timezone) is None:
            reason = f"unknown time zone {node.timezone!r} (use an IANA name like Asia/Shanghai)"
            problems.append(problem(f"{path}.timezone", reason))
    return problems


def _walk(tree: OrgTree) -> Iterable[tuple[str, NodeIn, str, str]]:
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


def _node_problems(path: str, node: NodeIn) -> list[Problem]:
    problems = []
    if not _ID.match(node.id):
        reason = f"ids are 1–{ID_LENGTH} characters without spaces or '/', got {node.id!r}"
        problems.append(problem(f"{path}.id", reason))
    if not node.name.strip():
        problems.append(problem(f"{path}.name", "a name must not be empty"))
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
    return [problem(f"{path}.id", reason)]


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
                problems.append(problem(f"{kind}.{unit_id}", reason))
            for other in KINDS[:3]:
                if other != kind and unit_id in current[other]:
                    reason = f"{unit_id!r} is already the id of a {other[:-1]}; ids are permanent"
                    problems.append(problem(f"{kind}.{unit_id}", reason))
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
    return problem("effective_from", reason)


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


def natural_key(value: str) -> tuple[Any, ...]:
    """Sort key that puts C1-D2 before C1-D10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", value))
