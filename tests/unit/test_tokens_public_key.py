"""RS256 and ES256 tokens verify with the issuer's public key; a key that does not fit
the algorithms stops the service at start; every bad token is a 401."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.auth.cli import main as token_cli
from shared.auth.tokens import CurrentPrincipal, Role, TokenVerifier, mint_token
from shared.errors import ApiError, install_error_handlers
from shared.service import token_verifier
from shared.settings import ServiceSettings

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _pems(private: PrivateKey) -> tuple[str, str]:
    secret = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return secret, public


RSA_PRIVATE, RSA_PUBLIC = _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC_PRIVATE, EC_PUBLIC = _pems(ec.generate_private_key(ec.SECP256R1()))
OTHER_RSA_PRIVATE, _ = _pems(rsa.generate_private_key(public_exponent=65537, key_size=2048))
EC384_PRIVATE, EC384_PUBLIC = _pems(ec.generate_private_key(ec.SECP384R1()))


def _settings(public: str, *algorithms: str) -> ServiceSettings:
    return ServiceSettings(jwt_public_key=public, jwt_algorithms=algorithms)


@pytest.mark.parametrize(
    ("private", "public", "algorithm"),
    [(RSA_PRIVATE, RSA_PUBLIC, "RS256"), (EC_PRIVATE, EC_PUBLIC, "ES256")],
)
def test_public_key_tokens_round_trip(private: str, public: str, algorithm: str) -> None:
    verifier = token_verifier(_settings(public, algorithm))
    assert verifier is not None
    token = mint_token(secret=private, subject="li", role=Role.MANAGER, algorithm=algorithm)
    principal = verifier.verify(token)
    assert (principal.subject, principal.role) == ("li", Role.MANAGER)


@pytest.mark.parametrize(
    ("public", "algorithms"),
    [
        (RSA_PUBLIC, ("HS256",)),  # the default algorithms with a public key
        (EC_PUBLIC, ("HS256",)),
        (RSA_PUBLIC, ("ES256",)),
        (EC_PUBLIC, ("RS256",)),
        (EC384_PUBLIC, ("ES256",)),  # ES256 is P-256 only
        (RSA_PUBLIC, ("RS256", "HS256")),
        (RSA_PUBLIC, ("none",)),
        (RSA_PUBLIC, ()),
        ("not a key", ("RS256",)),
    ],
)
def test_algorithms_that_do_not_fit_the_key_fail_at_start(
    public: str, algorithms: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError):
        token_verifier(_settings(public, *algorithms))


def test_a_secret_with_public_key_algorithms_fails_at_start() -> None:
    with pytest.raises(ValueError):
        TokenVerifier(key="x" * 40, algorithms=("RS256",), issuer="service-garden")


def _claims() -> dict[str, object]:
    return {"sub": "x", "role": "admin", "iss": "service-garden", "exp": int(time.time()) + 60}


BAD_TOKENS = [
    pytest.param(jwt.encode(_claims(), RSA_PUBLIC.encode()[:40], "HS256"), id="hmac-alg"),
    pytest.param(jwt.encode(_claims(), OTHER_RSA_PRIVATE, "RS256"), id="another-key"),
    pytest.param(jwt.encode(_claims(), EC_PRIVATE, "ES256"), id="ec-for-rsa"),
    pytest.param(jwt.encode(_claims(), None, "none"), id="none"),
    pytest.param("a.b.c", id="garbage"),
    pytest.param(jwt.encode(_claims(), RSA_PRIVATE, "RS256")[:-4] + "AAAA", id="tampered"),
]


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_every_bad_token_is_a_401(token: str) -> None:
    verifier = token_verifier(_settings(RSA_PUBLIC, "RS256", "PS256"))
    assert verifier is not None
    with pytest.raises(ApiError) as error:
        verifier.verify(token)
    assert error.value.status == 401


def test_bad_tokens_answer_401_through_the_api() -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.state.token_verifier = token_verifier(_settings(RSA_PUBLIC, "RS256"))

    @app.get("/me")
    async def me(who: CurrentPrincipal) -> dict[str, str]:
        return {"sub": who.subject}

    client = TestClient(app, raise_server_exceptions=False)
    good = mint_token(secret=RSA_PRIVATE, subject="li", role="manager", algorithm="RS256")
    assert client.get("/me", headers={"Authorization": f"Bearer {good}"}).json() == {"sub": "li"}
    for param in BAD_TOKENS:
        (token,) = param.values
        answer = client.get("/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 401, (param.id, answer.text)
        assert answer.json()["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("private", "public", "algorithm"),
    [
        (RSA_PRIVATE, RSA_PUBLIC, "RS256"),
        (EC_PRIVATE, EC_PUBLIC, "ES256"),
        (EC384_PRIVATE, EC384_PUBLIC, "ES384"),
    ],
)
def test_the_token_cli_signs_with_a_private_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    private: str,
    public: str,
    algorithm: str,
) -> None:
    key = tmp_path / "issuer.pem"
    key.write_text(private)
    assert token_cli(["--sub", "ops", "--role", "admin", "--private-key", str(key)]) == 0
    token = capsys.readouterr().out.strip()
    assert jwt.get_unverified_header(token)["alg"] == algorithm
    verifier = token_verifier(_settings(public, algorithm))
    assert verifier is not None and verifier.verify(token).role is Role.ADMIN


def test_the_token_cli_refuses_a_key_it_cannot_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "issuer.pem"
    key.write_text(RSA_PUBLIC)  # a public key cannot sign
    assert token_cli(["--sub", "ops", "--role", "admin", "--private-key", str(key)]) == 2
    assert "cannot sign" in capsys.readouterr().err
