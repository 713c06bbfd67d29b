"""Alerting API: incidents, acknowledge/resolve, rules, silences, receipts.

Who may do what:
- read incidents, acknowledge, resolve: `admin` (every incident), or a `manager` for
  the incidents of the department their token's `unit` names (the rule's responsible
  department) and of the rules whose ladder names them (`user`); other incidents are
  404 to them, as unknown ones are. Phone numbers are masked for everyone but admins;
- rules and silences: `admin` (silences can also be listed by managers);
- `POST /v1/sms/receipts`: the SMS gateway, with the receipt token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlmodel.ext.asyncio.session import AsyncSession

from services.alerting import incidents
from services.alerting.detection import Detector
from services.alerting.domain.incidents import IncidentClosed, Status
from services.alerting.domain.surge import ALL_REGIONS, Silence
from services.alerting.incidents import (
    ADMIN_SCOPE,
    IncidentNotFound,
    IncidentScope,
    ManualChange,
    manager_scope,
    mask_phone,
)
from services.alerting.repo import incidents as incident_store
from services.alerting.repo import rules as rule_store
from services.alerting.repo import sms as sms_store
from services.alerting.rules import NO_NUL, RuleSetSpec
from shared.auth.tokens import AdminPrincipal, CurrentPrincipal, Principal, Role
from shared.db import unit_of_work
from shared.errors import ApiError
from shared.vocabulary import problem

router = APIRouter(prefix="/v1", tags=["alerting"])
STATUSES = {s.value for s in Status}
UNRESOLVED = "unresolved"
"""The status filter for every incident not resolved yet (open, escalated, acknowledged);
`active` is the same."""
MAX_ID = 2**63 - 1
"""Ids are PostgreSQL bigints: a larger one names nothing (404), never an error."""
IncidentId = Annotated[int, Path(ge=1, le=MAX_ID)]
SilenceId = Annotated[int, Path(ge=1, le=MAX_ID)]


def require_manager(principal: CurrentPrincipal) -> Principal:
    """The caller must be a manager or an admin (403 otherwise)."""
    if principal.role not in (Role.MANAGER, Role.ADMIN):
        raise ApiError(403, "this needs the manager or admin role")
    return principal


ManagerPrincipal = Annotated[Principal, Depends(require_manager)]


async def incident_scope(request: Request, principal: ManagerPrincipal) -> IncidentScope:
    """The incidents the caller may read and handle (admins: all, with phone numbers)."""
    if principal.is_admin:
        return ADMIN_SCOPE
    state = _state(request)
    async with state.sessions() as session:
        rules = await state.detector.rules.refresh(session)
    return manager_scope(principal.subject, principal.unit, rules)


Scope = Annotated[IncidentScope, Depends(incident_scope)]


Text = Annotated[str, Field(pattern=NO_NUL)]
"""Free text PostgreSQL can store (no NUL character)."""


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[Text | None, Field(max_length=1000)] = None


class SilenceIn(BaseModel):
    """A planned outage: SMS for the category (and region) are held back in [starts_at, ends_at)."""

    model_config = ConfigDict(extra="forbid")

    category: Annotated[Text, Field(min_length=1, max_length=128)]
    region: Annotated[Text, Field(min_length=1, max_length=128)] = ALL_REGIONS
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    reason: Annotated[Text, Field(max_length=1000)] = ""

    @model_validator(mode="after")
    def _range(self) -> SilenceIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class ReceiptIn(BaseModel):
    id: Annotated[Text, Field(min_length=1, max_length=128)]
    status: Literal["delivered", "failed"]
    provider_id: Annotated[Text | None, Field(max_length=256)] = None
    error: Annotated[Text | None, Field(max_length=1000)] = None


def _state(request: Request) -> Any:
    return request.app.state


def _incident_out(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in ("updated_at",)}


@router.get("/incidents")
async def list_incidents(
    request: Request,
    scope: Scope,
    status: Annotated[
        str | None,
        Query(
            description="comma-separated: unresolved (every incident not resolved: open, "
            "escalated, acknowledged; `active` is the same), or the lifecycle statuses open "
            "(L1, not acknowledged), escalated, acknowledged, resolved",
            max_length=200,
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="page: incidents with a smaller id")
    ] = None,
) -> dict[str, Any]:
    """List incidents, newest first. `status=unresolved` lists everything that still needs
    attention; `status=open` is only the lifecycle status open (not escalated)."""
    statuses: list[str] | None = None
    if status:
        wanted = {s.strip() for s in status.split(",") if s.strip()}
        if wanted & {UNRESOLVED, "active"}:
            wanted = (wanted - {UNRESOLVED, "active"}) | (STATUSES - {"resolved"})
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
            session,
            statuses=statuses,
            limit=limit,
            before=before,
            departments=None if scope.everything else sorted(scope.departments),
            rule_ids=sorted(scope.rule_ids),
        )
    return {"incidents": [_incident_out(r) for r in rows]}


@router.get("/incidents/{incident_id}")
async def get_incident(request: Request, incident_id: IncidentId, scope: Scope) -> dict[str, Any]:
    """An incident with its audit trail and every SMS sent about it (phone numbers masked
    for everyone but admins)."""
    async with _state(request).sessions() as session:
        row = await incident_store.incident_row(session, incident_id)
        if row is None or not scope.covers(row):
            raise ApiError(404, f"incident {incident_id} not found")
        trail = await incident_store.incident_events(session, incident_id)
        sms = await sms_store.incident_sms(session, incident_id)
    if not scope.phones:
        sms = [{**m, "phone": mask_phone(m["phone"])} for m in sms]
    return {**_incident_out(row), "audit": trail, "sms": sms}


IncidentChange = Callable[[AsyncSession, Detector, ManualChange], Awaitable[dict[str, Any]]]


def _incident_change(action: str, change: IncidentChange, *, name: str, doc: str) -> None:
    """Route `POST /v1/incidents/{incident_id}/{action}` to `change`: a manager in scope (or
    an admin) with an optional note; 404 out of scope or unknown, 409 when `change` refuses."""

    async def endpoint(
        request: Request,
        incident_id: IncidentId,
        who: ManagerPrincipal,
        scope: Scope,
        body: Note | None = None,
    ) -> dict[str, Any]:
        state = _state(request)
        what = ManualChange(
            incident_id,
            by=who.subject,
            note=body.note if body else None,
            wall=datetime.now(UTC),
            scope=scope,
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

    endpoint.__doc__ = doc
    router.post(f"/incidents/{{incident_id}}/{action}", name=name)(endpoint)


_incident_change(
    "ack",
    incidents.acknowledge,
    name="acknowledge_incident",
    doc="""Acknowledge: stops time-based escalation and repeats; volume still escalates.
    Idempotent; 409 when the incident is resolved.""",
)
_incident_change(
    "resolve",
    incidents.resolve,
    name="resolve_incident",
    doc="Resolve by hand: everyone alerted gets a resolution SMS. Idempotent.",
)


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
async def delete_silence(request: Request, silence_id: SilenceId, _: AdminPrincipal) -> None:
    """End a silence early."""
    async with unit_of_work(_state(request).sessions) as session:
        if not await rule_store.delete_silence(session, silence_id):
            raise ApiError(404, f"silence {silence_id} not found")


@router.post("/sms/receipts", tags=["sms gateway"])
async def sms_receipt(request: Request, body: ReceiptIn) -> dict[str, Any]:
    """Delivery receipt from the HTTP SMS gateway (bearer = the receipt token). Without a
    configured `SMS_RECEIPT_TOKEN` (only possible with the smpp or log provider) no
    receipt is accepted."""
    expected = _state(request).settings.sms_receipt_token or ""
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise ApiError(401, "a valid receipt token is required")
    matched = await _state(request).dispatcher.record_receipt(
        body.id, body.provider_id, body.status, body.error
    )
    return {"matched": matched}
