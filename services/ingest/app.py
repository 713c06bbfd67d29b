"""Ingest service wiring: settings, producer, validator, routes, lifespan."""

from __future__ import annotations

import contextlib
from typing import Any

from fastapi import FastAPI

from services.ingest.api import openapi_paths, routes
from services.ingest.config import IngestSettings
from services.ingest.handlers import register_validator
from services.ingest.metrics import IngestMetrics
from shared.auth.api_keys import ApiKeyring
from shared.background import Hook
from shared.contracts.events import EVENT_MODELS
from shared.contracts.topics import RAW_TOPICS
from shared.errors import ERROR_SCHEMA
from shared.foundation import Foundation, ServiceInfo
from shared.logging import get_logger
from shared.service import tune_gc
from shared.settings import get_settings

log = get_logger(__name__)
INGEST = ServiceInfo("ingest", "The HTTP front door for switch/CTI, CRM and department systems.")


def create_app(settings: IngestSettings | None = None) -> FastAPI:
    """Build the ingest application."""
    settings = settings or get_settings(IngestSettings)
    base = Foundation.create(
        settings, database=False, send_timeout=settings.produce_timeout_seconds
    )
    producer = base.producer
    metrics = IngestMetrics.create(base.registry)
    keyring = ApiKeyring(settings.ingest_api_keys, EVENT_MODELS)
    broker = base.broker("ingest", client_id="ingest-validator")
    if settings.validator_enabled:
        register_validator(
            broker,
            group_id=settings.validator_group_id,
            producer=producer,
            metrics=metrics,
            limits=settings.time_limits,
        )

    async def start_producer() -> None:
        tune_gc()  # in every worker process
        with contextlib.suppress(Exception):
            await producer.ensure_started()  # if Kafka is down, requests get 503 until it is back

    components = base.components(
        "ingest",
        Hook("producer", on_start=start_producer),
        *(
            [
                base.watch_lag(settings.validator_group_id, [t.name for t in RAW_TOPICS]),
                base.subscribers(broker, name="raw-topic-validator"),
            ]
            if settings.validator_enabled
            else []
        ),
    )

    app = base.app(INGEST, components)
    app.state.metrics = metrics
    app.state.keyring = keyring
    app.state.producer = producer
    app.router.routes.extend(routes)
    _document(app)
    return app


def _document(app: FastAPI) -> None:
    """Add the event endpoints (plain routes) and the error shape to the OpenAPI document."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("paths", {}).update(openapi_paths())
            components = schema.setdefault("components", {})
            components.setdefault("securitySchemes", {})["UpstreamApiKey"] = {
                "type": "apiKey",
                "in": "header",
                "name": "X-API-Key",
            }
            components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
