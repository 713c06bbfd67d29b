"""Settings fail fast; API keys and bearer tokens admit exactly who they should."""

from __future__ import annotations

import time

import pytest
from pydantic import ValidationError

from services.ingest.config import IngestSettings
from shared.auth.api_keys import ApiKeyring
from shared.auth.tokens import Role, TokenVerifier, mint_token
from shared.contracts.events import EVENT_MODELS
from shared.errors import ApiError
from shared.settings import ServiceSettings, get_settings

SECRET = "unit-test-secret-that-is-long-enough"


def test_settings_read_environment_and_normalise(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", " k1:9092, k2:9092 ")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db:5432/garden")
    settings = ServiceSettings()
    assert settings.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert settings.database_url == "postgresql+asyncpg://u@db:5432/garden"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("KAFKA_BOOTSTRAP_SERVERS", "no-port"),
        ("KAFKA_BOOTSTRAP_SERVERS", ""),
        ("DATABASE_URL", "mysql://x/y"),
        ("HTTP_PORT", "70000"),
        ("LOG_LEVEL", "LOUD"),
        ("JWT_SECRET", "too-short"),
    ],
)
def test_bad_settings_fail_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as error:
        ServiceSettings()
    assert name.lower() in str(error.value)


def test_settings_are_built_once_on_demand(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    monkeypatch.setenv("MAX_BATCH_EVENTS", "42")
    first = get_settings(IngestSettings)
    monkeypatch.setenv("MAX_BATCH_EVENTS", "43")
    assert get_settings(IngestSettings) is first
    assert first.max_batch_events == 42
    get_settings.cache_clear()


def test_keyring_allows_listed_types_only() -> None:
    ring = ApiKeyring("switch-secret:call.completed,agent.state;crm-secret-x:*", EVENT_MODELS)
    switch = ring.find("switch-secret")
    assert switch is not None
    assert switch.may_send("call.completed")
    assert not switch.may_send("survey.answered")
    crm = ring.find("crm-secret-x")
    assert crm is not None
    assert crm.may_send("metric.reported")
    assert ring.find("wrong-secret") is None
    assert ring.find(None) is None
    assert ring.find("") is None


@pytest.mark.parametrize(
    "spec",
    ["", "nocolon", "short:*", "long-enough-key:", "long-enough-key:call.dropped"],
)
def test_bad_keyring_specs_are_refused(spec: str) -> None:
    with pytest.raises(ValueError):
        ApiKeyring(spec, EVENT_MODELS)


def _verifier() -> TokenVerifier:
    return TokenVerifier(key=SECRET, algorithms=("HS256",), issuer="service-garden")


def test_token_round_trip() -> None:
    token = mint_token(secret=SECRET, subject="A1024", role=Role.AGENT, unit="C1-D1-T01")
    principal = _verifier().verify(token)
    assert (principal.subject, principal.role, principal.unit) == ("A1024", Role.AGENT, "C1-D1-T01")
    assert not principal.is_admin


@pytest.mark.parametrize(
    "token",
    [
        mint_token(secret="another-secret-entirely-different", subject="A1", role="agent"),
        mint_token(secret=SECRET, subject="A1", role="agent", issuer="someone-else"),
        mint_token(
            secret=SECRET, subject="A1", role="agent", now=time.time() - 7200, ttl_seconds=60
        ),
        "not-a-token",
        mint_token(secret=SECRET, subject="A1", role="agent")[:-3] + "abc",
    ],
)
def test_bad_tokens_are_unauthenticated(token: str) -> None:
    with pytest.raises(ApiError) as error:
        _verifier().verify(token)
    assert error.value.status == 401


def test_unknown_role_is_refused() -> None:
    import jwt

    token = jwt.encode(
        {"sub": "x", "role": "god", "iss": "service-garden", "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    )
    with pytest.raises(ApiError, match="unknown role"):
        _verifier().verify(token)


def test_none_algorithm_is_refused() -> None:
    import jwt

    token = jwt.encode(
        {"sub": "x", "role": "admin", "iss": "service-garden", "exp": int(time.time()) + 60},
        None,
        algorithm="none",
    )
    with pytest.raises(ApiError):
        _verifier().verify(token)


def test_a_verified_token_is_remembered_until_it_expires() -> None:
    verifier = TokenVerifier(key=SECRET, algorithms=("HS256",), issuer="service-garden",
                             leeway_seconds=0)  # fmt: skip
    issued = time.time()
    token = mint_token(secret=SECRET, subject="A7", role="agent", now=issued, ttl_seconds=1)
    first = verifier.verify(token)
    assert verifier.verify(token) is first  # the second check is the remembered one
    time.sleep(max(0.0, int(issued) + 1.05 - time.time()))
    with pytest.raises(ApiError) as error:  # past `exp`: checked again, and refused
        verifier.verify(token)
    assert error.value.status == 401 and "expired" in error.value.message


def test_the_verified_tokens_remembered_are_bounded_and_bad_ones_never() -> None:
    verifier = TokenVerifier(key=SECRET, algorithms=("HS256",), issuer="service-garden",
                             cache_size=2)  # fmt: skip
    tokens = [mint_token(secret=SECRET, subject=f"A{n}", role="agent") for n in range(3)]
    for token in tokens:
        verifier.verify(token)
    assert list(verifier._verified) == tokens[1:]
    forged = tokens[0][:-3] + "abc"
    for _ in range(2):
        with pytest.raises(ApiError):
            verifier.verify(forged)
    assert forged not in verifier._verified
