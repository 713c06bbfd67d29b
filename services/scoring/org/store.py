"""The organisation in the database: the reads the pipeline and the API need, and the
writes that load a tree (never commit: the caller's transaction decides)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.org.plan import (
    KINDS,
    Center,
    Membership,
    MembershipChanges,
    OpenMembership,
    OrgPlan,
    OrgSnapshot,
    UnitPath,
    UnitState,
    natural_key,
    plan_org,
    tree_problems,
)
from services.scoring.org.schemas import OrgTree
from shared import sql
from shared.vocabulary import OwnerKind, Problem, UnitKind

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
    rows = await sql.execute(
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
    rows = await sql.execute(
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
    rows = await sql.execute(
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
    row = (await sql.execute(session, query, {"id": unit_id})).first()
    return UnitPath(*row) if row is not None else None


async def unit_exists(session: AsyncSession, kind: UnitKind, unit_id: str) -> bool:
    """Tell whether a unit of this kind is known (active or not)."""
    return await unit_path(session, kind, unit_id) is not None


async def find_unit(session: AsyncSession, unit_id: str) -> UnitPath | None:
    """Return the unit with this id, whatever its kind (unit ids are unique across kinds)."""
    query = " UNION ALL ".join(f"({q})" for q in _PATH_QUERIES.values())
    row = (await sql.execute(session, query, {"id": unit_id})).first()
    return UnitPath(*row) if row is not None else None


async def agent_unit_path(session: AsyncSession, agent_id: str, day: date) -> UnitPath | None:
    """Return the team, department and center the agent belonged to on `day`."""
    row = (
        await sql.execute(
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


async def agent_placements(
    session: AsyncSession, agent_id: str, first: date, last: date
) -> list[tuple[date, date | None, UnitPath]]:
    """Return where the agent sat during [first, last]: (valid_from, valid_to or None for
    open, team path) of each membership overlapping it, oldest first."""
    rows = await sql.execute(
        session,
        (
            "SELECT m.valid_from, m.valid_to, d.center_id, t.department_id, m.team_id "
            + _MEMBER_JOIN
            + "WHERE m.agent_id = :agent AND m.valid_from <= :last "
            "AND (m.valid_to IS NULL OR m.valid_to > :first) ORDER BY m.valid_from"
        ),
        {"agent": agent_id, "first": first, "last": last},
    )
    return [(start, end, UnitPath(c, d, t)) for start, end, c, d, t in rows]


async def owner_zone(session: AsyncSession, kind: OwnerKind, owner_id: str) -> ZoneInfo | None:
    """Return the time zone of the owner's center (an agent's latest), or None when unknown."""
    if kind == "agent":
        return (await agent_zones(session, [owner_id])).get(owner_id)
    path = await unit_path(session, kind, owner_id)
    if path is None:
        return None
    zone = await sql.scalar(
        session, "SELECT timezone FROM scoring_centers WHERE id = :id", {"id": path.center_id}
    )
    return ZoneInfo(zone)


async def read_tree(session: AsyncSession, *, on: date | None = None) -> dict[str, Any]:
    """Return the org tree: the current one, or who sat where on the day `on`.

    The current tree holds the active units (empty teams too) and each agent's
    latest membership. The tree of a past day holds the teams that had members
    that day, under their parents, with today's names.
    """
    if on is not None:
        return await _tree_on(session, on)
    centers_ = await sql.execute(
        session, "SELECT id, name, timezone FROM scoring_centers WHERE active"
    )
    departments = await sql.execute(
        session, "SELECT id, center_id, name FROM scoring_departments WHERE active"
    )
    teams = await sql.execute(
        session, "SELECT id, department_id, name FROM scoring_teams WHERE active"
    )
    agents = await sql.execute(
        session,
        (
            "SELECT a.id, m.team_id, a.name FROM scoring_memberships m "
            "JOIN scoring_agents a ON a.id = m.agent_id WHERE m.valid_to IS NULL"
        ),
    )
    return _assemble(list(centers_), list(departments), list(teams), list(agents))


async def _tree_on(session: AsyncSession, day: date) -> dict[str, Any]:
    rows = list(
        await sql.execute(
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
    for i, name, zone, active in await sql.execute(
        session, "SELECT id, name, timezone, active FROM scoring_centers"
    ):
        snapshot.centers[i] = UnitState(None, name, active, zone)
    for i, parent, name, active in await sql.execute(
        session, "SELECT id, center_id, name, active FROM scoring_departments"
    ):
        snapshot.departments[i] = UnitState(parent, name, active)
    for i, parent, name, active in await sql.execute(
        session, "SELECT id, department_id, name, active FROM scoring_teams"
    ):
        snapshot.teams[i] = UnitState(parent, name, active)
    for i, name, active in await sql.execute(
        session, "SELECT id, name, active FROM scoring_agents"
    ):
        snapshot.agents[i] = UnitState(None, name, active)
    for i, agent, team, since in await sql.execute(
        session,
        (
            "SELECT id, agent_id, team_id, valid_from FROM scoring_memberships "
            "WHERE valid_to IS NULL"
        ),
    ):
        snapshot.open_memberships[agent] = OpenMembership(i, team, since)
    for agent, left in await sql.execute(
        session,
        (
            "SELECT agent_id, max(valid_to) FROM scoring_memberships "
            "WHERE valid_to IS NOT NULL GROUP BY agent_id"
        ),
    ):
        snapshot.last_left[agent] = left
    return snapshot


class OrgRejected(Exception):
    """The tree cannot be loaded; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the org tree was refused ({len(problems)} problems)")
        self.problems = problems


_ORG_LOCK = "scoring.org"
_UNIT_TABLES: dict[str, tuple[str, dict[str, str]]] = {  # kind -> (table, columns and types)
    "centers": ("scoring_centers", {"id": "text", "name": "text", "timezone": "text"}),
    "departments": ("scoring_departments", {"id": "text", "name": "text", "center_id": "text"}),
    "teams": ("scoring_teams", {"id": "text", "name": "text", "department_id": "text"}),
    "agents": ("scoring_agents", {"id": "text", "name": "text"}),
}
_REACTIVATE = "name = excluded.name, active = true, updated_at = now()"
_ON_CONFLICT = {
    "centers": f"(id) DO UPDATE SET timezone = excluded.timezone, {_REACTIVATE}",
    "departments": f"(id) DO UPDATE SET {_REACTIVATE}",
    "teams": f"(id) DO UPDATE SET {_REACTIVATE}",
    "agents": f"(id) DO UPDATE SET {_REACTIVATE}",
}


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
    await sql.lock(session, _ORG_LOCK)
    plan = plan_org(await load_snapshot(session), tree, effective_from=effective_from, now=now)
    if plan.problems:
        raise OrgRejected(plan.problems)
    await _write_units(session, plan)
    await _write_memberships(session, plan.memberships)
    return plan


async def _write_units(session: AsyncSession, plan: OrgPlan) -> None:
    for kind in KINDS:  # parents before children (foreign keys)
        changes = plan.units[kind]
        table, columns = _UNIT_TABLES[kind]
        if changes.upsert:
            rows = [_unit_row(kind, unit_id, unit) for unit_id, unit in changes.upsert]
            await sql.insert_rows(session, table, columns, rows, on_conflict=_ON_CONFLICT[kind])
        if changes.deactivate:
            await sql.execute(
                session,
                f"UPDATE {table} SET active = false, updated_at = now() "
                "WHERE id = ANY(CAST(:ids AS text[]))",
                {"ids": changes.deactivate},
            )


def _unit_row(kind: str, unit_id: str, unit: UnitState) -> tuple[str, ...]:
    """Return the stored columns of a unit: id, name and its center's zone or its parent."""
    if kind == "agents":
        return (unit_id, unit.name)
    return (unit_id, unit.name, unit.timezone or unit.parent_id or "")


async def _write_memberships(session: AsyncSession, m: MembershipChanges) -> None:
    if m.dropped:
        await sql.execute(
            session,
            "DELETE FROM scoring_memberships WHERE id = ANY(CAST(:ids AS bigint[]))",
            {"ids": m.dropped},
        )
    if m.retargeted:  # same-day corrections
        await _update_memberships(session, "team_id", "text", m.retargeted)
    if m.closed:
        await _update_memberships(session, "valid_to", "date", m.closed)
    if m.opened:
        columns = {"agent_id": "text", "team_id": "text", "valid_from": "date"}
        await sql.insert_rows(session, "scoring_memberships", columns, m.opened)


async def _update_memberships(
    session: AsyncSession, column: str, type_: str, changes: Iterable[tuple[int, Any]]
) -> None:
    """Set `column` of memberships by id from (id, value) pairs."""
    values = sql.unnest({"ids": "bigint", "values": type_})
    await sql.execute(
        session,
        f"UPDATE scoring_memberships m SET {column} = u.value FROM {values} AS u(id, value) "
        "WHERE m.id = u.id",
        sql.arrays(("ids", "values"), changes),
    )
