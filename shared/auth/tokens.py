"""Bearer JWTs for the garden, rewards, alerting and scoring APIs.

Claims: `sub` (an agent id or a user name), `role` (agent, team_leader,
manager, admin), `unit` (the org unit the role applies to) and `exp`.
HS256/384/512 with a shared secret for local use; RS*/PS* (an RSA key) or
ES256/384/512 (an EC key on the matching curve) with the issuer's PEM public key
in production. The algorithms are checked against the key when the verifier is
built, so a service with a mismatched configuration does not start; at request
time every bad token is a 401, whatever is wrong with it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key
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


HMAC_ALGORITHMS = frozenset({"HS256", "HS384", "HS512"})
RSA_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
EC_ALGORITHMS: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1,
    "ES384": ec.SECP384R1,
    "ES512": ec.SECP521R1,
}
SUPPORTED_ALGORITHMS = HMAC_ALGORITHMS | RSA_ALGORITHMS | frozenset(EC_ALGORITHMS)


def verification_key(key: str, algorithms: tuple[str, ...]) -> Any:
    """Return the key to verify with, checked against every algorithm (ValueError if any
    does not fit): a secret for HS*, a PEM public key of the right kind for RS*/PS*/ES*."""
    if not algorithms:
        raise ValueError("JWT_ALGORITHMS is empty")
    unknown = sorted(set(algorithms) - SUPPORTED_ALGORITHMS)
    if unknown:
        raise ValueError(f"JWT_ALGORITHMS names unsupported algorithms {unknown}")
    if set(algorithms) <= HMAC_ALGORITHMS:
        if key.lstrip().startswith("-----BEGIN"):
            raise ValueError(
                f"{'/'.join(algorithms)} need a shared secret (JWT_SECRET), not a PEM key; "
                "set JWT_ALGORITHMS to RS256 or ES256 for JWT_PUBLIC_KEY"
            )
        return key
    if set(algorithms) & HMAC_ALGORITHMS:
        raise ValueError("JWT_ALGORITHMS mixes HMAC with public-key algorithms")
    try:
        public = load_pem_public_key(key.encode())
    except ValueError as exc:
        raise ValueError(f"JWT_PUBLIC_KEY is not a PEM public key: {exc}") from None
    for name in algorithms:
        if name in RSA_ALGORITHMS:
            if not isinstance(public, rsa.RSAPublicKey):
                raise ValueError(f"{name} needs an RSA public key")
            if public.key_size < 2048:
                raise ValueError(f"{name} needs an RSA key of at least 2048 bits")
        elif not (
            isinstance(public, ec.EllipticCurvePublicKey)
            and isinstance(public.curve, EC_ALGORITHMS[name])
        ):
            raise ValueError(f"{name} needs an EC public key on {EC_ALGORITHMS[name].name}")
    return public


@dataclass(frozen=True, slots=True)
class TokenVerifier:
    """Verifies bearer tokens against the configured key and issuer; the key is checked
    against the algorithms on construction (ValueError when they do not fit)."""

    key: str
    algorithms: tuple[str, ...]
    issuer: str
    leeway_seconds: int = 30
    cache_size: int = 4096
    """Verified tokens remembered (0: none): the same token string carries the same claims,
    so a client's next request skips the signature check until the token's `exp`."""
    _prepared: Any = field(init=False, repr=False, compare=False, default=None)
    _verified: OrderedDict[str, tuple[Principal, float]] = field(
        init=False, repr=False, compare=False, default_factory=OrderedDict
    )
    _guard: threading.Lock = field(
        init=False, repr=False, compare=False, default_factory=threading.Lock
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prepared", verification_key(self.key, self.algorithms))

    def verify(self, token: str) -> Principal:
        """Return the caller a token names (401 for any defect), from the cache of verified
        tokens while the token is unexpired."""
        with self._guard:
            known = self._verified.get(token)
            if known is not None:
                if time.time() < known[1]:
                    self._verified.move_to_end(token)
                    return known[0]
                del self._verified[token]
        principal, expires = self._decode(token)
        if self.cache_size > 0:
            with self._guard:
                self._verified[token] = (principal, expires)
                if len(self._verified) > self.cache_size:
                    self._verified.popitem(last=False)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        """Check a token's signature and claims; the caller and the instant it stops being
        accepted (its `exp` plus the leeway)."""
        try:
            claims = jwt.decode(
                token,
                self._prepared,
                algorithms=list(self.algorithms),
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["sub", "role", "exp", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise _unauthenticated("token has expired") from None
        except (jwt.PyJWTError, ValueError, TypeError) as exc:  # any other defect of a token
            raise _unauthenticated(f"invalid token: {exc}") from None
        try:
            role = Role(claims["role"])
        except (ValueError, TypeError):
            raise _unauthenticated(f"unknown role {claims['role']!r}") from None
        unit = claims.get("unit")
        principal = Principal(
            subject=str(claims["sub"]), role=role, unit=str(unit) if unit else None
        )
        return principal, float(claims["exp"]) + self.leeway_seconds


def signing_algorithm(private_key_pem: str) -> str:
    """The algorithm a PEM private key signs with: RS256 (RSA) or ES256/384/512 (EC)."""
    key = load_pem_private_key(private_key_pem.encode(), password=None)
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    if isinstance(key, ec.EllipticCurvePrivateKey):
        for name, curve in EC_ALGORITHMS.items():
            if isinstance(key.curve, curve):
                return name
    raise ValueError("the private key must be RSA or EC (P-256, P-384, P-521)")


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
    """Return a signed token (for local use, tests and tools); `secret` is the HS* secret
    or, for RS*/ES*, the PEM private key."""
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


async def verified_caller(request: Request) -> Principal:
    """FastAPI dependency: the verified caller, checked on the event loop (FastAPI runs a
    sync dependency in a worker thread: a hop per request)."""
    return current_principal(request)


CurrentPrincipal = Annotated[Principal, Depends(verified_caller)]


async def require_admin(principal: CurrentPrincipal) -> Principal:
    """FastAPI dependency: the caller must be an admin (403 otherwise)."""
    if not principal.is_admin:
        raise ApiError(403, "this needs the admin role")
    return principal


AdminPrincipal = Annotated[Principal, Depends(require_admin)]
