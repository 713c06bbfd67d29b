"""The alerting process killed (-9) between detection and sending, and while the gateway
holds an SMS it was handed: after restarts every SMS reaches its recipient exactly once."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from shared.db import make_engine
from tests.infra import ROOT
from tests.integration.alerting_support import (
    Sink,
    alerting_env,
    category,
    complaints,
    env_for_process,
    free_port,
    start_sink,
    stop,
    surge_rules,
    token,
    wait_for,
)
from tests.integration.conftest import CRM_KEY

pytestmark = pytest.mark.integration


async def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start an alerting process whose output goes on after the earlier ones' in `log`."""
    with log.open("ab") as out:
        process = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "services.alerting"],
            cwd=ROOT,
            env=env_for_process(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{env['HTTP_PORT']}"

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{url}/v1/rules", headers=token())).status_code == 200
        except httpx.HTTPError:
            return False

    await wait_for(ready, within=60, every=0.2)
    return process


def _kill(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(10)


async def _sms(database: str, cat: str) -> list[dict[str, Any]]:
    engine = make_engine(database, pool_size=1)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT s.* FROM alert_sms s JOIN alert_incidents i ON i.id = s.incident_id "
                    "WHERE i.category = :c ORDER BY s.id"
                ),
                {"c": cat},
            )
            return [dict(r._mapping) for r in rows]
    finally:
        await engine.dispose()


async def _waited(
    probe: Any, *, within: float, database: str, cat: str, sink: Sink, log: Path
) -> Any:
    """`wait_for(probe)`; on a timeout, fail with the SMS rows, the gateway's messages and the
    end of the alerting processes' logs."""
    try:
        return await wait_for(probe, within=within)
    except AssertionError as timeout:
        state = [
            (s["level"], s["status"], s["attempts"], s["last_error"], s["lease_until"])
            for s in await _sms(database, cat)
        ]
        logs = (await asyncio.to_thread(log.read_text, errors="replace"))[-6000:]
        raise AssertionError(
            f"{timeout}\nsms: {state}\nsink: {await sink.messages()}\nalerting logs:\n{logs}"
        ) from None


async def test_kill_9_between_detection_and_sending_sends_each_sms_once(
    kafka: str, database: str, ingest: httpx.AsyncClient, tmp_path: Path
) -> None:
    sink: Sink = await asyncio.to_thread(start_sink)
    port = free_port()
    env = alerting_env(kafka, database, sink, port, f"alerting-crash-{uuid.uuid4().hex[:6]}")
    cat = category()
    rules = surge_rules(cat)
    phones = {p["phone"] for lv in rules["rules"][0]["ladder"] for p in lv["recipients"]}
    log = tmp_path / "alerting.log"
    alerting = await _start(env, log)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as api:
            assert (await api.put("/v1/rules", json=rules, headers=token())).status_code == 200

        # 1. The gateway is down: detection queues L1 + L2 SMS, sending fails; kill -9.
        await sink.mode("down")
        response = await ingest.post(
            "/v1/events/complaint.filed", json=complaints(cat, 12), headers={"X-API-Key": CRM_KEY}
        )
        assert response.status_code == 202
        await wait_for(
            lambda: _when(_sms(database, cat), lambda s: len(s) == 2 and s[0]["attempts"] >= 1)
        )
        _kill(alerting)
        await sink.mode("up")
        alerting = await _start(env, log)
        await _waited(
            lambda: _when(sink.messages(), lambda m: len(m) == 2),
            within=45,
            database=database,
            cat=cat,
            sink=sink,
            log=log,
        )

        # 2. The gateway takes the L3 SMS but holds its answer; the sender dies meanwhile.
        await sink.mode("hold", hold_seconds=30, receipt_delay=60)  # no receipt before the kill
        response = await ingest.post(
            "/v1/events/complaint.filed", json=complaints(cat, 4), headers={"X-API-Key": CRM_KEY}
        )
        assert response.status_code == 202
        await wait_for(lambda: _when(sink.messages(), lambda m: len(m) == 3), within=45)
        _kill(alerting)
        await sink.mode("up")
        alerting = await _start(env, log)  # the lease runs out; the SMS goes again, same key

        async def settled() -> list[dict[str, Any]] | None:
            sms = await _sms(database, cat)
            done = len(sms) == 3 and all(s["status"] == "delivered" for s in sms)
            return sms if done else None

        sms = await _waited(settled, within=45, database=database, cat=cat, sink=sink, log=log)
        received = await sink.messages()
        assert len(received) == 3, "every SMS reached the gateway once"
        assert Counter(m["to"] for m in received) == Counter(s["phone"] for s in sms)
        assert {m["to"] for m in received} <= phones
        assert {m["id"] for m in received} == {f"sms-{s['id']}" for s in sms}
        resent = [m for m in received if m["deliveries"] > 1]
        assert len(resent) == 1 and "L3" in resent[0]["text"], "the held SMS was offered again"
        assert [s["level"] for s in sms] == [1, 2, 3]
    finally:
        stop(alerting)
        stop(sink.process)


async def _when(values: Any, condition: Any) -> Any:
    found = await values
    return found if condition(found) else None
