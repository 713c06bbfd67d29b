"""Schemathesis against every service's OpenAPI on the real stack: each app runs over real
HTTP on the test broker and a database of its own, is called with valid credentials (an
admin token, an API key for every event type) so requests reach the handlers, and no
generated request may answer 5xx.

A new service joins by adding an entry to `APPS`: how to build its app from the
broker and database URLs."""

from __future__ import annotations

import asyncio
import importlib
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from shared.auth.tokens import mint_token
from tests.infra import ROOT
from tests.integration.alerting_support import free_port, wait_for
from tests.integration.conftest import ALL_KEY, ingest_settings, own_database

pytestmark = pytest.mark.integration

SECRET = "fuzz-test-secret-of-at-least-32-bytes"
EXCLUDED = "^/(metrics|healthz|readyz)$"
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
"""Generated cases per operation: enough to find the classic 5xx, a few minutes in all."""


def _ingest(kafka: str, database: str) -> FastAPI:
    from services.ingest.app import create_app

    return create_app(ingest_settings(kafka, validator_enabled=False))


def _consuming(service: str, settings_class: str, **extra: Any) -> Callable[[str, str], FastAPI]:
    """The app of a service that consumes Kafka and owns a database, with a consumer group
    of its own and `extra` settings (imported when built, as the service would be)."""

    def build(kafka: str, database: str) -> FastAPI:
        app = importlib.import_module(f"services.{service}.app")
        config = importlib.import_module(f"services.{service}.config")
        settings = getattr(config, settings_class)(
            kafka_bootstrap_servers=kafka,
            database_url=database,
            jwt_secret=SECRET,
            consumer_group=f"{service}-fuzz-{uuid.uuid4().hex[:6]}",
            topic_partitions=3,
            **extra,
        )
        created: FastAPI = app.create_app(settings)
        return created

    return build


APPS: dict[str, Callable[[str, str], FastAPI]] = {
    "ingest": _ingest,
    "scoring": _consuming("scoring", "ScoringSettings"),
    "alerting": _consuming(
        "alerting",
        "AlertingSettings",
        sms_provider="log",
        sms_receipt_token="fuzz-receipt-token",
    ),
    "garden": _consuming("garden", "GardenSettings", auto_harvest_enabled=False),
    "rewards": _consuming("rewards", "RewardsSettings"),
}


@asynccontextmanager
async def _served(app: FastAPI) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{port}"

    async def ready() -> bool:
        try:
            async with httpx.AsyncClient(base_url=base, timeout=5) as client:
                return (await client.get("/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        await wait_for(ready, within=60)
        yield base
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.mark.parametrize("name", sorted(APPS))
async def test_no_generated_request_is_a_server_error(
    name: str, kafka: str, database: str, tmp_path: Path
) -> None:
    admin = mint_token(secret=SECRET, subject="fuzz-admin", role="admin")
    async with own_database(database, f"fuzz_{name}") as url:
        app = APPS[name](kafka, url)
        operations = _operations(app)
        async with _served(app) as base:
            report = await _fuzz(base, admin, tmp_path)
    assert f"{operations} selected" in report, f"{name}: not every operation was run\n{report}"


def _operations(app: FastAPI) -> int:
    """How many operations of the app's OpenAPI schemathesis is to call (every one but the
    excluded health and metrics routes): new routes are fuzzed without being listed here."""
    paths = app.openapi()["paths"]
    return sum(
        len([m for m in item if m in {"get", "put", "post", "patch", "delete"}])
        for path, item in paths.items()
        if not re.match(EXCLUDED, path)
    )


async def _fuzz(base: str, admin: str, tmp_path: Path) -> str:
    """Run schemathesis against `base`; return its report (fail on any finding)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "20260301",
        "--no-shrink",
        "--workers",
        "1",  # Python 3.11's ast is not safe across the generator threads
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Bearer {admin}",
        "--header",
        f"X-API-Key: {ALL_KEY}",
        "--exclude-path-regex",
        EXCLUDED,
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            **os.environ,
            "NO_COLOR": "1",
            "SCHEMATHESIS_HOOKS": "tests.integration.fuzz_hooks",
            "SCHEMATHESIS_REPORT_DIR": str(tmp_path),
        },
    )
    output, _ = await process.communicate()
    report = output.decode(errors="replace")
    assert process.returncode == 0, f"schemathesis found failures\n{report[-8000:]}"
    return report
