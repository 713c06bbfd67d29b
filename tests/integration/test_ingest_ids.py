"""Ids that could not be stored or deduplicated are refused at ingest with a reason:
ids that would share a truncated dedup key, and NUL characters PostgreSQL refuses."""

from __future__ import annotations

import httpx
import pytest

from tests import events_factory as ev
from tests.integration.conftest import ALL_KEY, CRM_KEY

pytestmark = pytest.mark.integration
DEDUP_KEY_LENGTH = 160  # `{source}/{event_id}` as consumers store it


async def _post(ingest: httpx.AsyncClient, event: dict[str, object]) -> httpx.Response:
    return await ingest.post(
        f"/v1/events/{event['type']}", json=event, headers={"X-API-Key": ALL_KEY}
    )


def _reasons(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    [item] = response.json()["error"]["details"]
    return {r["field"]: r["reason"] for r in item["reasons"]}


async def test_ids_that_would_share_a_dedup_key_are_refused(ingest: httpx.AsyncClient) -> None:
    # Two surveys whose `source/event_id` agree in their first 160 characters were one
    # key for every consumer: the second was taken for a copy of the first and lost.
    prefix = "s" * 200
    first, second = ev.survey(), ev.survey()
    first["event_id"], second["event_id"] = prefix + "-1", prefix + "-2"
    for survey in (first, second):
        assert "at most 127 characters" in _reasons(await _post(ingest, survey))["event_id"]
    long_source = ev.survey()
    long_source["source"] = "crm-" + "x" * 40
    assert "at most 32 characters" in _reasons(await _post(ingest, long_source))["source"]


async def test_the_longest_ids_accepted_make_distinct_keys(ingest: httpx.AsyncClient) -> None:
    ids = []
    for last in "ab":
        survey = ev.survey()
        survey["source"] = "c" * 32
        survey["event_id"] = survey["event_id"][:8] + "e" * 118 + last
        response = await ingest.post(
            "/v1/events/survey.answered", json=survey, headers={"X-API-Key": CRM_KEY}
        )
        assert response.status_code == 202, response.text
        ids.append(f"{survey['source']}/{survey['event_id']}")
    assert all(len(key) == DEDUP_KEY_LENGTH for key in ids)
    assert len({key[:DEDUP_KEY_LENGTH] for key in ids}) == 2


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({**ev.survey(), "event_id": "sv-\x00-1"}, "event_id"),
        ({**ev.survey(), "source": "crm\x00"}, "source"),
        ({**ev.survey(), "survey_id": "\x00"}, "survey_id"),
        ({**ev.call(), "caller_id": "138\x000"}, "caller_id"),
        ({**ev.complaint(), "region": "foshan\x00"}, "region"),
        ({**ev.complaint(), "agent_id": "A\x001"}, "agent_id"),
    ],
)
async def test_nul_characters_are_refused(
    ingest: httpx.AsyncClient, event: dict[str, object], field: str
) -> None:
    assert field in _reasons(await _post(ingest, event))
