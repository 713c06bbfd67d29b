"""Read use cases: an owner's plants with today's previews, stars and recent days; a unit's
members and their A/B/C split."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import orjson

from services.garden.domain.config import GardenConfig
from services.garden.domain.split import MemberPlant, abc_split
from services.garden.domain.stars import star_level
from services.garden.repo import config as config_store
from services.garden.repo import reads
from services.garden.repo.reads import GardenRead
from services.garden.versions import ConfigBook, StoredVersion
from shared.sql import Executor
from shared.vocabulary import UnitKind


async def config_on(session: Executor, center_id: str, day: date) -> GardenConfig:
    """Return the center's configuration in force on `day`."""
    return (await config_store.config_book(session, [center_id])).on(center_id, day)


# --- documents as plain data: the gardens answer many rows, each a pydantic object cost more ---
# than the reads. The keys and their order are those of the schemas' models.


def plant_document(row: Sequence[Any]) -> dict[str, Any]:
    """Return a plant's document (`PlantOut`) from (indicator, fruit, stage, state, growth,
    cycle, fruit_ripened, fruit_harvested, last_rated, preview_points)."""
    indicator, fruit, stage, state, growth, cycle, ripened, harvested, last_rated, preview = row
    return {
        "indicator": indicator,
        "fruit": fruit,
        "stage": stage,
        "state": state,
        "growth": float(growth),
        "ripe_fruit": max(0, ripened - harvested),
        "preview_points": float(preview) if preview is not None else None,
        "cycle": cycle,
        "fruit_ripened": ripened,
        "fruit_harvested": min(harvested, ripened),
        "last_rated": last_rated,
    }


def stored_day(text: str) -> date:
    """Read a date PostgreSQL wrote as JSON: `EVERY_DAY` (`date.min`) is stored by asyncpg as
    `-infinity`, which is what a JSON-built row holds for a version applying to every day."""
    return date.min if text == "-infinity" else date.fromisoformat(text)


def cycle_document(config: GardenConfig) -> dict[str, Any]:
    """Return what a screen needs to draw growth: the stage thresholds and `fruit_at`."""
    return {"fruit_at": float(config.fruit_at), "stage_thresholds": list(config.stage_thresholds)}


_BOOKS: dict[str, ConfigBook] = {}
"""Configuration books by the stored versions' JSON: the same versions, the same book."""


def _book(versions: str | None) -> ConfigBook:
    if versions is None:
        return ConfigBook()
    book = _BOOKS.get(versions)
    if book is None:
        book = ConfigBook.of(
            StoredVersion(v_id, v_center, stored_day(start), document, by)
            for v_id, v_center, start, document, by in orjson.loads(versions)
        )
        if len(_BOOKS) >= 64:
            _BOOKS.clear()
        _BOOKS[versions] = book
    return book


def agent_garden_body(agent_id: str, read: GardenRead) -> bytes:
    """Return an agent's garden (`AgentGarden`) as JSON from what one read found: the plants
    and days as the database wrote them, the star level from the center's configuration."""
    center = read.member.center_id if read.member is not None else ""
    config = _book(read.versions).on(center, read.today)
    head = {
        "agent_id": agent_id,
        "today": read.today,
        **cycle_document(config),
        "star_level": star_level(read.average_points, config),
        "average_points": read.average_points,
    }
    return b"".join(
        (
            orjson.dumps(head)[:-1],
            b',"plants":',
            read.plants_json.encode(),
            b',"days":',
            read.days_json.encode(),
            b"}",
        )
    )


async def unit_garden_document(
    session: Executor, kind: UnitKind, unit_id: str, today: date, center_id: str | None = None
) -> dict[str, Any]:
    """Return a unit's garden (`UnitGarden`): its plants, its agents' states and the split."""
    config = await config_on(session, center_id or "", today)
    plants = [
        plant_document(row)
        for row in await reads.plants_with_previews(session, kind, unit_id, today)
    ]
    members, rows = await reads.members_with_plants(session, kind, unit_id)
    of_members = [MemberPlant(owner, indicator, state) for owner, indicator, state in rows]  # type: ignore[arg-type]
    codes = {p["indicator"] for p in plants} | {p.indicator for p in of_members}
    states: dict[str, dict[str, Any]] = {m: {code: None for code in sorted(codes)} for m in members}
    for p in of_members:
        states[p.member_id][p.indicator] = p.state
    order = sorted(members, key=lambda m: (members[m], m))
    return {
        "kind": kind,
        "unit_id": unit_id,
        "today": today,
        **cycle_document(config),
        "plants": plants,
        "members": [{"owner_id": m, "name": members[m], "states": states[m]} for m in order],
        "split": [
            {
                "indicator": s.indicator,
                "a": list(s.a),
                "b": list(s.b),
                "c": list(s.c),
                "unrated": list(s.unrated),
            }
            for s in abc_split(members, of_members, codes)
        ],
    }
