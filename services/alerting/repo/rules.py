"""The configuration tables: surge rule sets (versioned documents) and silences.

Used by the rule book, the rules and silences API and detection. Nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from services.alerting.domain.surge import Silence
from shared.sql import Executor, execute, mappings, scalar


async def latest_rule_set_id(db: Executor) -> int | None:
    """Return the version of the newest rule set (None before any)."""
    latest = await scalar(db, "SELECT max(id) FROM alert_rule_sets")
    return int(latest) if latest is not None else None


async def rule_set(db: Executor, rule_set_id: int) -> dict[str, Any]:
    """Return a stored rule set document with its version and author."""
    row = (
        await execute(
            db,
            "SELECT document, updated_by, created_at FROM alert_rule_sets WHERE id = :i",
            {"i": rule_set_id},
        )
    ).one()
    return {
        "version": rule_set_id,
        "updated_by": row.updated_by,
        "updated_at": row.created_at,
        **row.document,
    }


async def save_rule_set(db: Executor, document: dict[str, Any], by: str) -> int:
    """Store a new rule set version; return it."""
    return int(
        await scalar(
            db,
            "INSERT INTO alert_rule_sets (document, updated_by) "
            "VALUES (CAST(:d AS jsonb), :b) RETURNING id",
            {"d": orjson.dumps(document, default=str).decode(), "b": by},
        )
        or 0
    )


async def add_silence(db: Executor, silence: Silence, *, reason: str, by: str) -> dict[str, Any]:
    """Store a silence; return it as stored."""
    rows = await mappings(
        db,
        "INSERT INTO alert_silences (category, region, starts_at, ends_at, reason, "
        "created_by) VALUES (:c, :r, :s, :e, :why, :by) RETURNING *",
        {
            "c": silence.category,
            "r": silence.region,
            "s": silence.starts_at,
            "e": silence.ends_at,
            "why": reason,
            "by": by,
        },
    )
    return rows[0]


async def silences(
    db: Executor, *, category: str | None = None, active_at: datetime | None = None
) -> list[dict[str, Any]]:
    """Return silences, of one category and not ended at `active_at` if given."""
    return await mappings(
        db,
        "SELECT * FROM alert_silences WHERE (CAST(:c AS text) IS NULL OR category = :c) "
        "AND (CAST(:t AS timestamptz) IS NULL OR ends_at > :t) ORDER BY id",
        {"c": category, "t": active_at},
    )


async def delete_silence(db: Executor, silence_id: int) -> bool:
    """Delete a silence; return whether it existed."""
    deleted = await scalar(
        db, "DELETE FROM alert_silences WHERE id = :i RETURNING id", {"i": silence_id}
    )
    return deleted is not None


def silence_of(row: dict[str, Any]) -> Silence:
    """Return the domain silence of a stored one."""
    return Silence(row["category"], row["region"], row["starts_at"], row["ends_at"], row["id"])
