"""The incidents API through the real stack: who sees and handles which incidents, masked
phone numbers, one filter for every unresolved incident, receipts that need the token,
ids beyond 64 bits, and readiness that names no internals."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import make_url

from services.alerting.app import create_app
from services.alerting.config import AlertingSettings
from tests.integration.alerting_support import (
    DEPARTMENT,
    JWT_SECRET,
    Sink,
    alerting_app,
    category,
    complaints,
    sink,
    surge_rules,
    token,
    wait_for,
)
from tests.integration.conftest import CRM_KEY

pytestmark = pytest.mark.integration
__all__ = ["sink"]  # the module's SMS sink fixture


@pytest.fixture(scope="module")
async def alerting(kafka: str, database: str, sink: Sink) -> AsyncIterator[httpx.AsyncClient]:
    async with alerting_app(kafka, database, sink) as client:
        yield client


@pytest.fixture(scope="module")
async def escalated(
    alerting: httpx.AsyncClient, ingest_module: httpx.AsyncClient
) -> AsyncIterator[dict]:
    """An incident at L2 (status `escalated`) of a rule of `DEPARTMENT` whose L3 names
    the user `vp-zhao`."""
    cat = category()
    rules = surge_rules(cat)
    rules["rules"][0]["ladder"][2]["recipients"][0]["user"] = "vp-zhao"
    assert (await alerting.put("/v1/rules", json=rules, headers=token())).status_code == 200
    response = await ingest_module.post(
        "/v1/events/complaint.filed", json=complaints(cat, 11), headers={"X-API-Key": CRM_KEY}
    )
    assert response.status_code == 202, response.text

    async def found() -> dict[str, Any] | None:
        listed = (await alerting.get("/v1/incidents", headers=token())).json()["incidents"]
        mine = [i for i in listed if i["category"] == cat and i["status"] == "escalated"]
        return mine[0] if mine else None

    incident = await wait_for(found, within=30)
    await wait_for(lambda: _sms(alerting, incident["id"], 2))
    yield incident
    # Resolve it and let its resolution SMS go out here, so no later test's gateway gets
    # them (a new rule set would resolve it as orphaned).
    done = await alerting.post(f"/v1/incidents/{incident['id']}/resolve", headers=token())
    assert done.status_code == 200, done.text

    async def all_sent() -> bool:
        sms = await _sms(alerting, incident["id"], 4) or []
        return bool(sms) and all(m["status"] in ("sent", "delivered") for m in sms)

    await wait_for(all_sent, within=30)


@pytest.fixture(scope="module")
async def ingest_module(kafka: str) -> AsyncIterator[httpx.AsyncClient]:
    from services.ingest.app import create_app as create_ingest
    from tests.integration.conftest import ingest_settings

    app = create_ingest(ingest_settings(kafka, validator_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ingest") as client:
            yield client


async def _sms(alerting: httpx.AsyncClient, incident_id: int, n: int) -> list[dict] | None:
    detail = (await alerting.get(f"/v1/incidents/{incident_id}", headers=token())).json()
    return detail["sms"] if len(detail["sms"]) >= n else None


async def _listed(alerting: httpx.AsyncClient, headers: dict[str, str], query: str = "") -> set:
    response = await alerting.get(f"/v1/incidents{query}", headers=headers)
    assert response.status_code == 200, response.text
    return {i["id"] for i in response.json()["incidents"]}


async def test_unresolved_lists_escalated_incidents(
    alerting: httpx.AsyncClient, escalated: dict
) -> None:
    assert escalated["id"] not in await _listed(alerting, token(), "?status=open")
    assert escalated["id"] in await _listed(alerting, token(), "?status=unresolved")
    assert escalated["id"] in await _listed(alerting, token(), "?status=active")
    assert escalated["id"] not in await _listed(alerting, token(), "?status=resolved")


async def test_managers_see_and_handle_only_their_departments_and_ladders(
    alerting: httpx.AsyncClient, escalated: dict
) -> None:
    incident = escalated["id"]
    outsider = token("manager", "li", unit="计费支撑部")
    head = token("manager", "wang", unit=DEPARTMENT)
    on_ladder = token("manager", "vp-zhao", unit="management")
    assert incident not in await _listed(alerting, outsider)
    assert incident in await _listed(alerting, head)
    assert incident in await _listed(alerting, on_ladder)
    assert incident not in await _listed(alerting, token("manager"))  # no unit, no ladder

    unknown = 2**62
    for path in (f"/v1/incidents/{incident}", f"/v1/incidents/{unknown}"):
        answer = await alerting.get(path, headers=outsider)
        assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"
    for action in ("ack", "resolve"):
        answer = await alerting.post(f"/v1/incidents/{incident}/{action}", headers=outsider)
        assert answer.status_code == 404, answer.text
    still = (await alerting.get(f"/v1/incidents/{incident}", headers=token())).json()
    assert still["status"] == "escalated" and still["acknowledged_by"] is None

    acked = await alerting.post(f"/v1/incidents/{incident}/ack", headers=on_ladder)
    assert acked.status_code == 200 and acked.json()["acknowledged_by"] == "vp-zhao"


async def test_phone_numbers_are_masked_for_everyone_but_admins(
    alerting: httpx.AsyncClient, escalated: dict
) -> None:
    path = f"/v1/incidents/{escalated['id']}"
    shown = (await alerting.get(path, headers=token())).json()["sms"]
    masked = (await alerting.get(path, headers=token("manager", unit=DEPARTMENT))).json()["sms"]
    assert all(s["phone"].startswith("+86139") and "*" not in s["phone"] for s in shown)
    assert [m["phone"] for m in masked] == [
        s["phone"][:-8] + "****" + s["phone"][-4:] for s in shown
    ]
    assert not any(s["phone"] in str(masked) for s in shown)


@pytest.mark.parametrize("big", [2**63, 2**64, 2**70, 10**30])
async def test_ids_beyond_64_bits_are_refused_not_errors(
    alerting: httpx.AsyncClient, big: int
) -> None:
    for method, path in [
        ("POST", f"/v1/incidents/{big}/ack"),
        ("POST", f"/v1/incidents/{big}/resolve"),
        ("GET", f"/v1/incidents/{big}"),
        ("GET", f"/v1/incidents?before={big}"),
        ("DELETE", f"/v1/silences/{big}"),
    ]:
        answer = await alerting.request(method, path, headers=token())
        assert answer.status_code in (404, 422), (path, answer.status_code, answer.text)
        assert "error" in answer.json()


async def test_nul_characters_are_refused_not_errors(alerting: httpx.AsyncClient) -> None:
    receipt = {"id": "sms-1", "status": "delivered", "provider_id": "x\x00y"}
    answer = await alerting.post(
        "/v1/sms/receipts", json=receipt, headers={"Authorization": "Bearer receipt-token-123"}
    )
    assert answer.status_code == 422, answer.text
    answer = await alerting.post("/v1/incidents/1/ack", json={"note": "a\x00b"}, headers=token())
    assert answer.status_code == 422, answer.text


async def test_receipts_need_the_token(alerting: httpx.AsyncClient) -> None:
    receipt = {"id": "sms-1", "status": "delivered"}
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        answer = await alerting.post("/v1/sms/receipts", json=receipt, headers=headers)
        assert answer.status_code == 401


def _settings(kafka: str, database: str, **values: Any) -> AlertingSettings:
    return AlertingSettings(
        kafka_bootstrap_servers=kafka, database_url=database, jwt_secret=JWT_SECRET, **values
    )


def test_the_http_provider_does_not_start_without_a_receipt_token(
    kafka: str, database: str
) -> None:
    with pytest.raises(ValidationError, match="SMS_RECEIPT_TOKEN"):
        _settings(kafka, database, sms_provider="http", sms_http_url="http://127.0.0.1:1/m")


async def test_without_a_receipt_token_no_receipt_is_accepted(kafka: str, database: str) -> None:
    app = create_app(_settings(kafka, database, sms_provider="log"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://alerting") as client:
        for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer x"}):
            answer = await client.post(
                "/v1/sms/receipts", json={"id": "sms-1", "status": "failed"}, headers=headers
            )
            assert answer.status_code == 401, answer.text


async def test_readiness_says_up_or_down_only(kafka: str, database: str) -> None:
    missing = f"no_such_db_{uuid.uuid4().hex[:8]}"
    url = make_url(database).set(database=missing).render_as_string(hide_password=False)
    app = create_app(_settings(kafka, url, sms_provider="log"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://alerting") as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    body = answer.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "down"
    assert set(body["checks"].values()) <= {"up", "down"}
    assert missing not in answer.text


async def test_not_ready_until_the_migrations_have_run(kafka: str, database: str) -> None:
    """A reachable database is not enough: until the schema is migrated (and the rules
    seeded) a request could meet a missing table, so the service says it is not ready."""
    app = create_app(_settings(kafka, database, sms_provider="log"))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://alerting") as client:
        before = await client.get("/readyz")
        assert before.status_code == 503
        assert before.json()["checks"] == {"kafka": "up", "database": "up", "schema": "down"}
        async with app.router.lifespan_context(app):
            answer = await wait_for(_ready_answer(client), within=60)
        assert answer["checks"] == {"kafka": "up", "database": "up", "schema": "up"}


def _ready_answer(client: httpx.AsyncClient) -> Any:
    async def probe() -> dict[str, Any] | None:
        answer = await client.get("/readyz")
        return answer.json() if answer.status_code == 200 else None

    return probe
