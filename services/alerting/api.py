"""Alerting API: incidents, acknowledge/resolve, rules, silences, receipts.

Who may do what:
- read incidents, acknowledge, resolve: `manager` or `admin`;
- rules and silences: `admin` (silences can also be listed by managers);
- `POST /v1/sms/receipts`: the SMS gateway, with the receipt token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting import incidents
from services.alerting.detection import Detector
from services.alerting.domain.incidents import IncidentClosed, Status
from services.alerting.domain.surge import ALL_REGIONS, Silence
from services.alerting.incidents import IncidentNotFound, ManualChange
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import rules as rule_store
from services.alerting.repo import sms as sms_store
from services.alerting.rules import RuleSetSpec
from shared.auth.tokens import AdminPrincipal, CurrentPrincipal, Principal, Role
from shared.db import unit_of_work
from shared.errors import ApiError
from shared.vocabulary import problem

router = APIRouter(prefix="/v1", tags=["alerting"])
STATUSES = {s.value for s in Status}


def require_manager(principal: CurrentPrincipal) -> Principal:
    """The caller must be a manager or an admin (403 otherwise)."""
    if principal.role not in (Role.MANAGER, Role.ADMIN):
        raise ApiError(403, "this needs the manager or admin role")
    return principal


ManagerPrincipal = Annotated[Principal, Depends(require_manager)]


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str | None, Field(max_length=1000)] = None


class SilenceIn(BaseModel):
    """A planned outage: SMS for the category (and region) are held back in [starts_at, ends_at)."""

    model_config = ConfigDict(extra="forbid")

    category: Annotated[str, Field(min_length=1, max_length=128)]
    region: Annotated[str, Field(min_length=1, max_length=128)] = ALL_REGIONS
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[str, Field(max_length=1000)] = ""

    @model_validator(mode="after")
    def _range(self) -> SilenceIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class ReceiptIn(BaseModel):
    id: Annotated[str, Field(min_length=1, max_length=128)]
    status: Literal["delivered", "failed"]
    provider_id: str | None = None
    error: Annotated[str | None, Field(max_length=1000)] = None


def _state(request: Request) -> Any:
    return request.app.state


def _incident_out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("updated_at",)}


@router.get("/incidents")
async def list_incidents(
    request: Request,
    _: ManagerPrincipal,
    status: Annotated[
        str | None,
        Query(description="comma-separated: open, escalated, acknowledged, resolved, active"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[int | None, Query(description="page: incidents with a smaller id")] = None,
) -> dict[str, Any]:
    """List incidents, newest first (`status=active` means not resolved)."""
    statuses: list[str] | None = None
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if "active" in wanted:
            wanted = (wanted - {"active"}) | (STATUSES - {"resolved"})
        unknown = wanted - STATUSES
        if unknown:
            raise ApiError(
                422,
                "unknown status",
                details=[problem("status", f"unknown: {sorted(unknown)}")],
            )
        statuses = sorted(wanted)
    async with _state(request).sessions() as session:
        rows = await incident_store.list_incidents(
            session, statuses=statuses, limit=limit, before=before
        )
    return {"incidents": [_incident_out(r) for r in rows]}


@router.get("/incidents/{incident_id}")
async def get_incident(request: Request, incident_id: int, _: ManagerPrincipal) -> dict[str, Any]:
    """An incident with its audit trail and every SMS sent about it."""
    async with _state(request).sessions() as session:
        row = await incident_store.incident_row(session, incident_id)
        if row is None:
            raise ApiError(404, f"incident {incident_id} not found")
        trail = await incident_store.incident_events(session, incident_id)
        sms = await sms_store.incident_sms(session, incident_id)
    return {**_incident_out(row), "audit": trail, "sms": sms}


IncidentChange = Callable[[AsyncSession, Detector, ManualChange], Awaitable[dict[str, Any]]]


async def _change(
    request: Request, change: IncidentChange, incident_id: int, who: Principal, body: Note | None
) -> dict[str, Any]:
    state = _state(request)
    what = ManualChange(
        incident_id, by=who.subject, note=body.note if body else None, wall=datetime.now(UTC)
    )
    try:
        async with unit_of_work(state.sessions) as session:
            row = await change(session, state.detector, what)
    except IncidentNotFound as exc:
        raise ApiError(404, str(exc)) from None
    except IncidentClosed as exc:
        raise ApiError(409, str(exc)) from None
    state.after_commit()
    return _incident_out(row)


@router.post("/incidents/{incident_id}/ack")
async def acknowledge_incident(
    request: Request, incident_id: int, who: ManagerPrincipal, body: Note | None = None
) -> dict[str, Any]:
    """Acknowledge: stops time-based escalation and repeats; volume still escalates.
    Idempotent; 409 when the incident is resolved."""
    return await _change(request, incidents.acknowledge, incident_id, who, body)


@router.post("/incidents/{incident_id}/resolve")
async def resolve_incident(
    request: Request, incident_id: int, who: ManagerPrincipal, body: Note | None = None
) -> dict[str, Any]:
    """Resolve by hand: everyone alerted gets a resolution SMS. Idempotent."""
    return await _change(request, incidents.resolve, incident_id, who, body)


@router.get("/rules")
async def get_rules(request: Request, _: AdminPrincipal) -> dict[str, Any]:
    """The surge rules in force (with their version)."""
    async with _state(request).sessions() as session:
        version = await rule_store.latest_rule_set_id(session)
        if version is None:
            raise ApiError(404, "no rules stored yet")
        return await rule_store.rule_set(session, version)


@router.put("/rules")
async def put_rules(request: Request, who: AdminPrincipal) -> dict[str, Any]:
    """Replace the surge rules (validated whole; 422 lists every problem)."""
    try:
        body = await request.json()
    except ValueError:
        raise ApiError(400, "body is not JSON") from None
    try:
        spec = RuleSetSpec.model_validate(body)
    except ValidationError as exc:
        details = [
            problem(".".join(str(p) for p in e["loc"]) or "(body)", e["msg"])
            for e in exc.errors(include_url=False)
        ]
        raise ApiError(422, "rules are invalid", details=details) from None
    async with unit_of_work(_state(request).sessions) as session:
        version = await rule_store.save_rule_set(session, spec.model_dump(), who.subject)
        document = await rule_store.rule_set(session, version)
    return document


@router.post("/silences", status_code=201)
async def add_silence(request: Request, body: SilenceIn, who: AdminPrincipal) -> dict[str, Any]:
    """Hold back SMS for a category (and region) during a planned outage."""
    async with unit_of_work(_state(request).sessions) as session:
        return await rule_store.add_silence(
            session,
            Silence(body.category, body.region, body.starts_at, body.ends_at),
            reason=body.reason,
            by=who.subject,
        )


@router.get("/silences")
async def list_silences(request: Request, _: ManagerPrincipal) -> dict[str, Any]:
    """Silences that have not ended yet."""
    async with _state(request).sessions() as session:
        rows = await rule_store.silences(session, active_at=datetime.now(UTC))
    return {"silences": rows}


@router.delete("/silences/{silence_id}", status_code=204)
async def delete_silence(request: Request, silence_id: int, _: AdminPrincipal) -> None:
    """End a silence early."""
    async with unit_of_work(_state(request).sessions) as session:
        if not await rule_store.delete_silence(session, silence_id):
            raise ApiError(404, f"silence {silence_id} not found")


@router.post("/sms/receipts", tags=["sms gateway"])
async def sms_receipt(request: Request, body: ReceiptIn) -> dict[str, Any]:
    """Delivery receipt from the HTTP SMS gateway (bearer = the receipt token)."""
    expected = _state(request).settings.sms_receipt_token
    if expected:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "a valid receipt token is required")
    matched = await _state(request).dispatcher.record_receipt(
        body.id, body.provider_id, body.status, body.error
    )
    return {"matched": matched}
