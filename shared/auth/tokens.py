"""Bearer JWTs for the garden, rewards, alerting and scoring APIs.

Claims: `sub` (an agent id or a user name), `role` (agent, team_leader,
manager, admin), `unit` (the org unit the role applies to) and `exp`.
HS256 with a shared secret for local use; RS256/ES256 with the issuer's
public key in production.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request

from shared.errors import ApiError


class Role(StrEnum):
    AGENT = "agent"
    TEAM_LEADER = "team_leader"
    MANAGER = "manager"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: subject, role and the org unit the role covers."""

    subject: str
    role: Role
    unit: str | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Verifies bearer tokens against the configured key and issuer."""

    key: str
    algorithms: tuple[str, ...]
    issuer: str
    leeway_seconds: int = 30

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self.key,
                algorithms=list(self.algorithms),
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["sub", "role", "exp", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise _unauthenticated(f"invalid token: {exc}") from None
        try:
            role = Role(claims["role"])
        except ValueError:
            raise _unauthenticated(f"unknown role {claims['role']!r}") from None
        unit = claims.get("unit")
        return Principal(subject=str(claims["sub"]), role=role, unit=str(unit) if unit else None)


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": "Bearer"})


def mint_token(
    *,
    secret: str,
    subject: str,
    role: Role | str,
    unit: str | None = None,
    issuer: str = "service-garden",
    ttl_seconds: int = 3600,
    algorithm: str = "HS256",
    now: float | None = None,
) -> str:
    """Return a signed token (for local use, tests and tools)."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "role": Role(role).value,
        "iss": issuer,
        "iat": issued,
        "exp": issued + ttl_seconds,
    }
    if unit:
        claims["unit"] = unit
    return jwt.encode(claims, secret, algorithm=algorithm)


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: the verified caller (401 without a valid bearer token)."""
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None:
        raise ApiError(503, "authentication is not configured")
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated("a bearer token is required")
    return verifier.verify(token.strip())


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_admin(principal: CurrentPrincipal) -> Principal:
    """FastAPI dependency: the caller must be an admin (403 otherwise)."""
    if not principal.is_admin:
        raise ApiError(403, "this needs the admin role")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
