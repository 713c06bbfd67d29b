"""Garden: change notifications of the rows an agent's garden is read from.

Every committed statement that writes agents' rows of `garden_members`, `garden_plants`,
`garden_plant_days` or `garden_previews` sends the distinct agent ids it touched on the
channel `garden_changes` (a JSON array, several notifications when they do not fit one
payload); one that writes `garden_config_versions`, or truncates any of them, sends `*`
(everything may have changed). PostgreSQL delivers notifications on commit only, in commit
order, and drops them on rollback: the garden's cache forgets exactly what was committed.

Revision ID: 0011_garden_changes
Revises: 0009_campaigns
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011_garden_changes"
down_revision: str | None = "0009_campaigns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "garden_changes"
AGENT_TABLES = ("garden_members", "garden_plants", "garden_plant_days", "garden_previews")
EVERYTHING_TABLES = ("garden_config_versions",)
PAYLOAD_BYTES = 7000
"""Below PostgreSQL's 8000-byte payload limit, with room for one more id (at most 128
characters, 4 bytes each, escaped)."""

# One function for the three row events: a statement-level trigger with transition tables
# serves one event only, and a transition table is resolved when a statement names it, so
# each branch names only the table its event has. Ids are sent in chunks of whole JSON arrays.
AGENTS_FUNCTION = f"""
CREATE FUNCTION garden_notify_agents() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  ids text[];
  chunk text := '';
  item text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(DISTINCT owner_id) INTO ids FROM new_rows WHERE owner_kind = 'agent';
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT array_agg(DISTINCT owner_id) INTO ids FROM (
      SELECT owner_id FROM new_rows WHERE owner_kind = 'agent'
      UNION ALL SELECT owner_id FROM old_rows WHERE owner_kind = 'agent') AS touched;
  ELSE
    SELECT array_agg(DISTINCT owner_id) INTO ids FROM old_rows WHERE owner_kind = 'agent';
  END IF;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  FOREACH item IN ARRAY ids LOOP
    item := to_json(item)::text;
    IF octet_length(chunk) + octet_length(item) > {PAYLOAD_BYTES} THEN
      PERFORM pg_notify('{CHANNEL}', '[' || chunk || ']');
      chunk := '';
    END IF;
    chunk := CASE WHEN chunk = '' THEN item ELSE chunk || ',' || item END;
  END LOOP;
  PERFORM pg_notify('{CHANNEL}', '[' || chunk || ']');
  RETURN NULL;
END
$$
"""

EVERYTHING_FUNCTION = f"""
CREATE FUNCTION garden_notify_everything() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', '*');
  RETURN NULL;
END
$$
"""


def _agent_triggers(table: str) -> list[str]:
    function = "garden_notify_agents"
    return [
        f"CREATE TRIGGER {table}_notify_insert AFTER INSERT ON {table} "
        f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_notify_update AFTER UPDATE ON {table} "
        "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_notify_delete AFTER DELETE ON {table} "
        f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        f"CREATE TRIGGER {table}_notify_truncate AFTER TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION garden_notify_everything()",
    ]


def upgrade() -> None:
    op.execute(AGENTS_FUNCTION)
    op.execute(EVERYTHING_FUNCTION)
    for table in AGENT_TABLES:
        for statement in _agent_triggers(table):
            op.execute(statement)
    for table in EVERYTHING_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION garden_notify_everything()"
        )


def downgrade() -> None:
    for table in AGENT_TABLES:
        for event in ("insert", "update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_{event} ON {table}")
    for table in EVERYTHING_TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify ON {table}")
    op.execute("DROP FUNCTION IF EXISTS garden_notify_agents()")
    op.execute("DROP FUNCTION IF EXISTS garden_notify_everything()")
