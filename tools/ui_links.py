"""Print links to the garden's screens for the demo center's sample agent and their team
leader: `python -m tools.ui_links .local/demo-org.json`.

The sign-in rides in the link's fragment (`#token=…`), as the host platform would hand it
over: the page keeps it for the tab and takes it off the address bar. Tokens are signed
with `JWT_SECRET`, the secret the local services verify with.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from shared.auth.tokens import mint_token

DAY = 86_400


def sample(org: dict[str, object]) -> tuple[str, str]:
    """Return the first agent of the first team of the org and that team's id."""
    center = org["centers"][0]  # type: ignore[index]
    team = center["departments"][0]["teams"][0]
    return team["agents"][0]["id"], team["id"]


def links(org: dict[str, object], *, garden_url: str, secret: str, ttl: int = DAY) -> list[str]:
    """Return the lines to print: the agent's page and the leader's page, signed in."""
    agent, team = sample(org)
    agent_token = mint_token(secret=secret, subject=agent, role="agent", unit=team, ttl_seconds=ttl)
    leader_token = mint_token(
        secret=secret, subject=f"lead-{team}", role="team_leader", unit=team, ttl_seconds=ttl
    )
    base = garden_url.rstrip("/")
    return [
        "  screens (open in a browser; the sign-in rides in the link, valid for a day):",
        f"    agent {agent}:  {base}/ui/agent.html#token={agent_token}",
        f"    leader of {team}:  {base}/ui/leader.html#token={leader_token}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ui_links", description=__doc__)
    parser.add_argument("org", type=Path, help="the demo org (JSON, as the simulator writes it)")
    parser.add_argument("--garden-url", default="http://127.0.0.1:8004")
    args = parser.parse_args(argv)
    secret = os.environ.get("JWT_SECRET", "")
    if not secret:
        print("ui_links: set JWT_SECRET (the secret the services verify with)", file=sys.stderr)
        return 2
    print(
        "\n".join(
            links(json.loads(args.org.read_text()), garden_url=args.garden_url, secret=secret)
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
