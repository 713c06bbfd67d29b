"""The SMS outbox (`alert_sms`): SMS queued by detection, claimed, sent and settled
by the dispatcher, and updated by delivery receipts. Nothing here commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.sql import Executor, execute, insert_rows, mappings, scalar


@dataclass(frozen=True, slots=True)
class QueuedSms:
    """An SMS to queue about an incident."""

    incident_id: int
    level: int
    kind: str
    phone: str
    recipient: str
    body: str
    detected_at: datetime | None


@dataclass(frozen=True, slots=True)
class DueSms:
    """An SMS claimed for sending."""

    id: int
    incident_id: int
    level: int
    kind: str
    phone: str
    body: str
    attempts: int
    detected_at: datetime | None


_QUEUED = {
    "incident_id": "bigint",
    "level": "smallint",
    "kind": "text",
    "phone": "text",
    "recipient": "text",
    "body": "text",
    "status": "text",
    "next_attempt_at": "timestamptz",
    "detected_at": "timestamptz",
}


async def queue_sms(db: Executor, messages: Sequence[QueuedSms], now: datetime) -> int:
    """Queue SMS; one already queued for the same incident, level, kind and phone is skipped."""
    if not messages:
        return 0
    result = await insert_rows(
        db,
        "alert_sms",
        _QUEUED,
        [
            (
                m.incident_id,
                m.level,
                m.kind,
                m.phone,
                m.recipient,
                m.body,
                "queued",
                now,
                m.detected_at,
            )
            for m in messages
        ],
        on_conflict="ON CONSTRAINT ux_alert_sms_once DO NOTHING",
        returning="id",
    )
    return len(result.all())


async def alerted_recipients(db: Executor, incident_id: int) -> list[tuple[str, str]]:
    """Return (phone, name) of everyone sent an alert or a repeat about the incident."""
    rows = await execute(
        db,
        "SELECT phone, min(recipient) AS recipient FROM alert_sms WHERE incident_id = :i "
        "AND kind <> 'resolved' GROUP BY phone ORDER BY min(id)",
        {"i": incident_id},
    )
    return [(r.phone, r.recipient) for r in rows]


async def incident_sms(db: Executor, incident_id: int) -> list[dict[str, Any]]:
    """Return every SMS about an incident, in the order queued."""
    return await mappings(
        db,
        "SELECT id, level, kind, phone, recipient, body, status, attempts, provider, "
        "provider_message_id, last_error, created_at, sent_at, delivered_at, failed_at, "
        "next_attempt_at FROM alert_sms WHERE incident_id = :i ORDER BY id",
        {"i": incident_id},
    )


async def sms_status_counts(db: Executor) -> dict[str, int]:
    """Return how many SMS are in each status."""
    rows = await execute(db, "SELECT status, count(*) AS n FROM alert_sms GROUP BY 1")
    return {r.status: r.n for r in rows}


async def due_sms(db: Executor, now: datetime, limit: int) -> list[DueSms]:
    """Lock the SMS due now: queued ones, and sends whose lease ran out (the sender died)."""
    rows = await mappings(
        db,
        "SELECT id, incident_id, level, kind, phone, body, attempts, detected_at "
        "FROM alert_sms WHERE next_attempt_at <= :now AND (status = 'queued' "
        "OR (status = 'sending' AND lease_until < :now)) "
        "ORDER BY next_attempt_at, id LIMIT :n FOR UPDATE SKIP LOCKED",
        {"now": now, "n": limit},
    )
    return [DueSms(**row) for row in rows]


async def recent_sends(
    db: Executor, phones: Sequence[str], since: datetime
) -> dict[str, list[datetime]]:
    """Return when each phone was sent SMS since `since` (sends in flight count as now)."""
    rows = await execute(
        db,
        "SELECT phone, COALESCE(sent_at, now()) AS at FROM alert_sms "
        "WHERE phone = ANY(:p) AND (sent_at >= :since OR status = 'sending')",
        {"p": list(set(phones)), "since": since},
    )
    sends: dict[str, list[datetime]] = {}
    for r in rows:
        sends.setdefault(r.phone, []).append(r.at)
    return sends


async def lease_sms(db: Executor, ids: Sequence[int], until: datetime) -> None:
    """Mark SMS as being sent until `until` (another sender takes them over after)."""
    await execute(
        db,
        "UPDATE alert_sms SET status = 'sending', attempts = attempts + 1, "
        "lease_until = :u WHERE id = ANY(:i)",
        {"i": list(ids), "u": until},
    )


async def postpone_sms(db: Executor, sms_id: int, until: datetime, why: str) -> None:
    """Queue an SMS again for `until`, saying why."""
    await execute(
        db,
        "UPDATE alert_sms SET status = 'queued', next_attempt_at = :u, lease_until = NULL, "
        "last_error = :w WHERE id = :i",
        {"i": sms_id, "u": until, "w": why},
    )


async def sms_handed(
    db: Executor,
    sms_id: int,
    *,
    provider: str,
    provider_message_id: str | None,
    delivered: bool,
    at: datetime,
) -> None:
    """Record an SMS the gateway took (a receipt that came first is kept)."""
    await execute(
        db,
        "UPDATE alert_sms SET status = CASE WHEN status = 'sending' THEN :s ELSE status END, "
        "provider = :p, provider_message_id = COALESCE(provider_message_id, :m), "
        "sent_at = COALESCE(sent_at, :at), lease_until = NULL, last_error = NULL, "
        "delivered_at = CASE WHEN :d THEN COALESCE(delivered_at, :at) ELSE delivered_at END "
        "WHERE id = :i",
        {
            "i": sms_id,
            "s": "delivered" if delivered else "sent",
            "p": provider,
            "m": provider_message_id,
            "d": delivered,
            "at": at,
        },
    )


async def sms_failed(db: Executor, sms_id: int, *, provider: str, error: str, at: datetime) -> None:
    """Record an SMS that failed for good."""
    await execute(
        db,
        "UPDATE alert_sms SET status = 'failed', provider = :p, last_error = :e, "
        "failed_at = :at, lease_until = NULL WHERE id = :i",
        {"i": sms_id, "p": provider, "e": error[:1000], "at": at},
    )


async def sms_receipt(
    db: Executor,
    *,
    key: str | None,
    provider_message_id: str | None,
    delivered: bool,
    error: str | None,
    at: datetime,
) -> int | None:
    """Apply a delivery receipt; return the SMS id it matched (None if none did)."""
    sms_id: int | None = None
    if key and key.startswith("sms-") and key[4:].isdigit():
        sms_id = int(key[4:])
    matched = await scalar(
        db,
        "UPDATE alert_sms SET status = :s, "
        "delivered_at = CASE WHEN :d THEN :at ELSE delivered_at END, "
        "failed_at = CASE WHEN :d THEN failed_at ELSE :at END, "
        "last_error = COALESCE(:e, last_error) "
        "WHERE (id = :i OR (CAST(:i AS bigint) IS NULL AND provider_message_id = :m)) "
        "AND status IN ('sending', 'sent') RETURNING id",
        {
            "s": "delivered" if delivered else "failed",
            "d": delivered,
            "at": at,
            "e": error,
            "i": sms_id,
            "m": provider_message_id,
        },
    )
    return int(matched) if matched is not None else None
