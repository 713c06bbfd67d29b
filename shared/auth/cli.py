"""Mint a bearer token for local use: `garden-token --sub A1024 --role agent --unit C1-D1-T01`."""

from __future__ import annotations

import argparse
import os
import sys

from shared.auth.tokens import Role, mint_token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="garden-token", description=__doc__)
    parser.add_argument("--sub", required=True, help="subject: an agent id or a user name")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--unit", help="org unit the role covers (team, department or center id)")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    parser.add_argument("--issuer", default=os.environ.get("JWT_ISSUER", "service-garden"))
    args = parser.parse_args(argv)
    secret = os.environ.get("JWT_SECRET")
    if not secret:
        print(
            "garden-token: set JWT_SECRET (the HS256 secret the services verify with)",
            file=sys.stderr,
        )
        return 2
    print(
        mint_token(
            secret=secret,
            subject=args.sub,
            role=args.role,
            unit=args.unit,
            issuer=args.issuer,
            ttl_seconds=args.ttl,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
