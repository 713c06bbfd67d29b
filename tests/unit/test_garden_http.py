"""The garden API's HTTP details: entity tags, timeline cursors, idempotency keys, settings."""

from __future__ import annotations

import pytest

from services.garden.api.http import decode_cursor, encode_cursor, etag_of, none_match
from services.garden.config import GardenSettings
from services.garden.idempotency import REUSED, checked_key, fingerprint, reused_key
from shared.errors import ApiError


def test_an_etag_is_the_same_for_the_same_bytes_and_matches_if_none_match() -> None:
    tag = etag_of(b'{"a": 1}')
    assert tag == etag_of(b'{"a": 1}') != etag_of(b'{"a": 2}')
    assert tag.startswith('"') and tag.endswith('"')
    assert none_match(tag, tag)
    assert none_match(f'"other", W/{tag}', tag)
    assert none_match("*", tag)
    assert not none_match(None, tag) and not none_match('"other"', tag)


def test_a_cursor_round_trips_and_refuses_anything_else() -> None:
    for seq in (1, 42, 10**12):
        cursor = encode_cursor(seq)
        assert "=" not in cursor and decode_cursor(cursor) == seq
    for bad in ("", "nonsense", encode_cursor(1)[:-1] + "!", "dDE6LTE"):  # "t1:-1"
        with pytest.raises(ApiError) as refused:
            decode_cursor(bad)
        assert refused.value.status == 422 and refused.value.code == "invalid_cursor"


def test_idempotency_keys_and_request_fingerprints() -> None:
    assert checked_key(None) is None
    assert checked_key("3f2c-uuid") == "3f2c-uuid"
    for bad in ("", "has space", "x" * 129, "naïve"):
        with pytest.raises(ApiError):
            checked_key(bad)
    path = "/v1/agents/A1/plants/fcr/harvest"
    assert fingerprint("POST", path) == fingerprint("post", path)
    assert fingerprint("POST", path) != fingerprint("POST", path.replace("fcr", "aht"))
    assert fingerprint("POST", "/a", b"bc") != fingerprint("POST", "/ab", b"c")
    assert reused_key().code == REUSED and reused_key().status == 422


def test_settings_read_lists_and_zones_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    monkeypatch.setenv("CENTER_TIMEZONES", "C2=America/New_York")
    settings = GardenSettings()
    assert settings.http_port == 8004 and settings.consumer_group == "garden"
    assert settings.cors_origins == ["https://a.example", "https://b.example"]
    assert str(settings.zone_of("C2")) == "America/New_York"
    assert str(settings.zone_of("C1")) == "Asia/Shanghai"
    monkeypatch.setenv("CENTER_TIMEZONES", "C2=Mars/Olympus")
    with pytest.raises(ValueError):
        GardenSettings()
