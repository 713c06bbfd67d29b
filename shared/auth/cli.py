"""Mint a bearer token for local use: `garden-token --sub A1024 --role agent --unit C1-D1-T01`.

Signs with `JWT_SECRET` (HS256), or with a PEM private key (`--private-key key.pem`:
RS256 for an RSA key, ES256/384/512 for an EC key) for services that verify with
the matching `JWT_PUBLIC_KEY`.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from shared.auth.tokens import Role, mint_token, signing_algorithm


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="garden-token", description=__doc__)
    parser.add_argument("--sub", required=True, help="subject: an agent id or a user name")
    parser.add_argument("--role", required=True, choices=[r.value for r in Role])
    parser.add_argument("--unit", help="org unit the role covers (team, department or center id)")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    parser.add_argument("--issuer", default=os.environ.get("JWT_ISSUER", "service-garden"))
    parser.add_argument(
        "--private-key", type=Path, help="PEM private key (RSA or EC) to sign with instead"
    )
    args = parser.parse_args(argv)
    if args.private_key is not None:
        try:
            secret = args.private_key.read_text()
            algorithm = signing_algorithm(secret)
        except (OSError, ValueError, TypeError) as exc:
            print(f"garden-token: cannot sign with {args.private_key}: {exc}", file=sys.stderr)
            return 2
    else:
        secret = os.environ.get("JWT_SECRET", "")
        algorithm = "HS256"
    if not secret:
        print(
            "garden-token: set JWT_SECRET (the HS256 secret the services verify with) "
            "or pass --private-key",
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
            algorithm=algorithm,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
