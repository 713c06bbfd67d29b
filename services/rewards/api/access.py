"""Who may read and change what (pure: a principal and a resource in, yes or no out).

- An agent reads and spends only their own wallet (`agent:<sub>`) and reads only
  their own share of a fund.
- A team leader reads and spends their team's wallet (`team:<unit>`), reads
  funds scoped to their unit and the team's share of a fund. Rewards keeps no
  org tree, so a leader does not read the team's agents' wallets.
- A manager reads funds scoped to their unit.
- An admin reads every wallet, redemption and fund and manages the catalog,
  approvals, adjustments and funds; admins do not spend an owner's fruit.
Anything else answers one 403, whether the resource exists or not.
"""

from __future__ import annotations

from typing import Final, get_args

from services.rewards.domain.funds import Fund
from services.rewards.domain.ledger import Owner
from shared.auth.tokens import Principal, Role
from shared.contracts.rewards import WalletOwnerKind
from shared.errors import ApiError

OWNER_KINDS: Final[tuple[WalletOwnerKind, ...]] = get_args(WalletOwnerKind)
FORBIDDEN_MESSAGE: Final = "this is outside what you may see or change"


def forbidden() -> ApiError:
    """The one answer to anything out of scope (existing or not)."""
    return ApiError(403, FORBIDDEN_MESSAGE)


def parse_owner(text: str) -> Owner | None:
    """Read `agent:<id>` or `team:<id>`; None when it is neither."""
    kind, _, owner_id = text.partition(":")
    if kind not in OWNER_KINDS or not owner_id or len(owner_id) > 128:
        return None
    return Owner(kind, owner_id)


def own_wallet(principal: Principal) -> Owner | None:
    """Return the wallet the caller spends from: an agent's own, a leader's team's."""
    if principal.role is Role.AGENT:
        return Owner("agent", principal.subject)
    if principal.role is Role.TEAM_LEADER and principal.unit:
        return Owner("team", principal.unit)
    return None


def may_spend(principal: Principal, owner: Owner) -> bool:
    """Say whether the caller may redeem from (and cancel for) `owner`'s wallet."""
    return own_wallet(principal) == owner


def may_read_wallet(principal: Principal, owner: Owner) -> bool:
    """Say whether the caller may read `owner`'s wallet and redemptions."""
    return principal.is_admin or may_spend(principal, owner)


def may_read_fund(principal: Principal, fund: Fund) -> bool:
    """Say whether the caller may read every share of `fund`."""
    if principal.is_admin:
        return True
    leads = principal.role in (Role.TEAM_LEADER, Role.MANAGER)
    return leads and principal.unit is not None and principal.unit == fund.scope_id


def may_read_share(principal: Principal, member: Owner) -> bool:
    """Say whether the caller may read a member's share without seeing the fund's scope."""
    return principal.is_admin or own_wallet(principal) == member
