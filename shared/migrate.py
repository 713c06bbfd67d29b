"""Schema migrations (Alembic), applied on start under an advisory lock.

Several services may start at once against one database; the lock makes the
first one migrate and the others wait and find the schema current.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from shared.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
# Any constant shared by every service; identifies "the migration lock".
_MIGRATION_LOCK_ID = 0x6761726465  # "garde"

# Modules whose import registers tables on SQLModel.metadata.
MODEL_MODULES = ("shared.models",)


def import_all_models() -> None:
    """Import every module that declares tables, so autogenerate sees them all."""
    for name in MODEL_MODULES:
        importlib.import_module(name)
    for models in sorted((ROOT / "services").glob("*/models.py")):
        importlib.import_module(f"services.{models.parent.name}.models")


def alembic_config(database_url: str) -> Config:
    """Return the project's Alembic configuration bound to `database_url`."""
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


async def migrate(database_url: str) -> None:
    """Upgrade the schema to the newest revision."""
    engine = make_engine(database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
            try:
                await conn.run_sync(_upgrade, database_url)
                await conn.commit()
            finally:
                await conn.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, database_url: str) -> None:
    config = alembic_config(database_url)
    config.attributes["connection"] = connection
    command.upgrade(config, "heads")
