"""Who may read and harvest which garden.

- an agent: their own garden only (read and harvest);
- a team leader or manager: every owner in their unit's subtree (from the member
  view: where each owner sat on its latest settled day); they harvest the unit
  plants of that subtree (a team leader: the team's plant);
- an admin: everything.
An owner outside the caller's reach answers 403 with the same body whether it
exists or not, so the answer tells nothing about other units.
"""

from __future__ import annotations

from services.garden.repo import reads
from services.garden.repo.reads import Member
from shared.auth.tokens import Principal, Role
from shared.errors import ApiError
from shared.sql import Executor
from shared.vocabulary import OwnerKind


def out_of_reach() -> ApiError:
    """The one answer for an owner the caller may not see (existing or not)."""
    return ApiError(403, "this owner is outside what you may see", code="forbidden")


async def _in_subtree(
    session: Executor, principal: Principal, kind: OwnerKind, owner_id: str
) -> Member:
    target = await reads.member(session, kind, owner_id)
    if target is None or principal.unit is None or principal.unit not in target.units:
        raise out_of_reach()
    return target


def may_ask(principal: Principal, kind: OwnerKind, owner_id: str) -> None:
    """Refuse (403) what the caller may not read whatever the member view says: an agent
    asking for any garden but their own."""
    if principal.is_admin or principal.role is not Role.AGENT:
        return
    if kind != "agent" or owner_id != principal.subject:
        raise out_of_reach()


def admitted(principal: Principal, target: Member | None) -> Member | None:
    """Return the owner's place once `may_ask` passed: a leader reads their subtree only."""
    if principal.is_admin or principal.role is Role.AGENT:
        return target
    if target is None or principal.unit is None or principal.unit not in target.units:
        raise out_of_reach()
    return target


async def readable(
    session: Executor, principal: Principal, kind: OwnerKind, owner_id: str
) -> Member | None:
    """Return the owner's place if the caller may read their garden; 403 otherwise."""
    may_ask(principal, kind, owner_id)
    return admitted(principal, await reads.member(session, kind, owner_id))


async def harvestable(
    session: Executor, principal: Principal, kind: OwnerKind, owner_id: str
) -> None:
    """Allow the harvest: an agent's plant by the agent, a unit's plant by its leaders."""
    if principal.is_admin:
        return
    if kind == "agent":
        if principal.role is Role.AGENT and owner_id == principal.subject:
            return
        raise out_of_reach()
    if principal.role is Role.AGENT:
        raise out_of_reach()
    await _in_subtree(session, principal, kind, owner_id)


async def board_view(
    session: Executor, principal: Principal, scope_id: str, scope_kind: OwnerKind
) -> bool:
    """Return whether the caller sees every row of the scope's board (else an agent's view);
    403 for a scope the caller belongs to neither inside nor above."""
    if principal.is_admin:
        return True
    if principal.role is not Role.AGENT and principal.unit is not None:
        target = await reads.member(session, scope_kind, scope_id)
        if target is not None and principal.unit in target.units:
            return True
        own = await reads.unit_member(session, principal.unit)
        if own is not None and scope_id in own.units:
            return False
        raise out_of_reach()
    me = await reads.member(session, "agent", principal.subject)
    if principal.role is Role.AGENT and me is not None and scope_id in me.units:
        return False
    raise out_of_reach()
