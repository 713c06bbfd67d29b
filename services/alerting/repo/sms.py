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
    """An SMS claimed for sending. `attempts` counts the leases before this one, so the
    lease this sender holds is `attempts + 1` (`lease`): every outcome is written only
    while the row still carries that lease (a sender whose lease ran out and was taken
    over writes nothing)."""

    id: int
    incident_id: int
    level: int
    kind: str
    phone: str
    body: str
    attempts: int
    detected_at: datetime | None

    @property
    def lease(self) -> int:
        return self.attempts + 1


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


async def renew_leases(db: Executor, leases: Sequence[DueSms], until: datetime) -> set[int]:
    """Extend the leases still held (same attempt, still sending) to `until`; return the
    ids renewed. An SMS missing from the answer was taken over: do not send it."""
    if not leases:
        return set()
    rows = await execute(
        db,
        "UPDATE alert_sms AS s SET lease_until = :u FROM unnest(CAST(:i AS bigint[]), "
        "CAST(:a AS int[])) AS held(id, lease) WHERE s.id = held.id "
        "AND s.attempts = held.lease AND s.status = 'sending' RETURNING s.id",
        {"i": [m.id for m in leases], "a": [m.lease for m in leases], "u": until},
    )
    return {r.id for r in rows}


async def hold_back_sms(db: Executor, sms_id: int, until: datetime, why: str) -> None:
    """Queue a due SMS (locked by `due_sms`, not leased) again for `until`, saying why."""
    await execute(
        db,
        "UPDATE alert_sms SET status = 'queued', next_attempt_at = :u, lease_until = NULL, "
        "last_error = :w WHERE id = :i AND status IN ('queued', 'sending')",
        {"i": sms_id, "u": until, "w": why},
    )


async def postpone_sms(db: Executor, sms_id: int, *, lease: int, until: datetime, why: str) -> bool:
    """Queue a leased SMS again for `until`, saying why; False if the lease was lost."""
    return await _fenced(
        db,
        "status = 'queued', next_attempt_at = :u, lease_until = NULL, last_error = :w",
        sms_id,
        lease,
        {"u": until, "w": why},
    )


async def sms_handed(
    db: Executor,
    sms_id: int,
    *,
    lease: int,
    provider: str,
    provider_message_id: str | None,
    delivered: bool,
    at: datetime,
    note: str | None = None,
) -> bool:
    """Record an SMS the gateway took (a receipt that came first is kept), with a `note`
    (e.g. unconfirmed) as its error; False if the lease was lost."""
    return await _fenced(
        db,
        "status = CASE WHEN status = 'sending' THEN :s ELSE status END, provider = :p, "
        "provider_message_id = COALESCE(provider_message_id, :m), "
        "sent_at = COALESCE(sent_at, :at), lease_until = NULL, "
        "last_error = CASE WHEN status = 'sending' THEN :note ELSE last_error END, "
        "delivered_at = CASE WHEN :d THEN COALESCE(delivered_at, :at) ELSE delivered_at END",
        sms_id,
        lease,
        {
            "s": "delivered" if delivered else "sent",
            "p": provider,
            "m": provider_message_id,
            "d": delivered,
            "at": at,
            "note": note,
        },
        settled_by_receipt=True,
    )


async def sms_failed(
    db: Executor, sms_id: int, *, lease: int, provider: str, error: str, at: datetime
) -> bool:
    """Record an SMS that failed for good; False if the lease was lost."""
    return await _fenced(
        db,
        "status = 'failed', provider = :p, last_error = :e, failed_at = :at, lease_until = NULL",
        sms_id,
        lease,
        {"p": provider, "e": error[:1000], "at": at},
    )


async def _fenced(
    db: Executor,
    assignments: str,
    sms_id: int,
    lease: int,
    params: dict[str, Any],
    *,
    settled_by_receipt: bool = False,
) -> bool:
    """Apply a sender's outcome only while the row still carries its lease and is
    `sending` (or, with `settled_by_receipt`, settled by a receipt during this very
    lease): a later lease (another sender took over) wins, and nothing moves a
    delivered SMS back."""
    statuses = "('sending', 'delivered', 'failed')" if settled_by_receipt else "('sending')"
    changed = await scalar(
        db,
        f"UPDATE alert_sms SET {assignments} WHERE id = :i AND attempts = :lease "
        f"AND status IN {statuses} RETURNING id",
        {**params, "i": sms_id, "lease": lease},
    )
    return changed is not None


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
