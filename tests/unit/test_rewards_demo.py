"""The demo redemption's moves from each status to fulfilled."""

from __future__ import annotations

import pytest

from tools.rewards_demo import remaining_moves


@pytest.mark.parametrize(
    ("status", "needs_approval", "moves"),
    [
        ("requested", True, ("approve", "fulfil")),
        ("requested", False, ("fulfil",)),
        ("approved", True, ("fulfil",)),
        ("fulfilled", True, ()),
        ("rejected", True, ()),
        ("cancelled", False, ()),
    ],
)
def test_the_moves_left_to_fulfilled(
    status: str, needs_approval: bool, moves: tuple[str, ...]
) -> None:
    assert remaining_moves(status, needs_approval=needs_approval) == moves
