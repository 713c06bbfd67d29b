"""Alerting: complaint minute buckets, clocks, baselines, rules, silences, incidents, SMS.

Revision ID: 0003_alerting
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from shared.tables import TIMESTAMP, row_id_column, timestamp_now_column

revision: str = "0003_alerting"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("alerting",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_complaint_buckets",
        sa.Column("category", sa.String(128), primary_key=True),
        sa.Column("region", sa.String(128), primary_key=True),
        sa.Column("minute", TIMESTAMP, primary_key=True),
        sa.Column("filed", sa.Integer, nullable=False, server_default="0"),
        sa.Column("withdrawn", sa.Integer, nullable=False, server_default="0"),
    )
    op.create_table(
        "alert_complaints",
        sa.Column("complaint_id", sa.String(128), primary_key=True),
        sa.Column("category", sa.String(128)),
        sa.Column("region", sa.String(128)),
        sa.Column("minute", TIMESTAMP),
        sa.Column("withdrawn", sa.Boolean, nullable=False, server_default="false"),
    )
    op.create_table(
        "alert_clocks",
        sa.Column("category", sa.String(128), primary_key=True),
        sa.Column("watermark", TIMESTAMP, nullable=False),
        sa.Column("observed_at", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "alert_series",
        sa.Column("category", sa.String(128), primary_key=True),
        sa.Column("region", sa.String(128), primary_key=True),
        sa.Column("learned_through", TIMESTAMP, nullable=False),
    )
    op.create_table(
        "alert_baselines",
        sa.Column("category", sa.String(128), primary_key=True),
        sa.Column("region", sa.String(128), primary_key=True),
        sa.Column("hour_of_week", sa.SmallInteger, primary_key=True),
        sa.Column("per_hour", sa.Float, nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
    )
    op.create_table(
        "alert_rule_sets",
        row_id_column(),
        sa.Column("document", postgresql.JSONB, nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        timestamp_now_column("created_at"),
    )
    op.create_table(
        "alert_silences",
        row_id_column(),
        sa.Column("category", sa.String(128), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("starts_at", TIMESTAMP, nullable=False),
        sa.Column("ends_at", TIMESTAMP, nullable=False),
        sa.Column("reason", sa.Text, nullable=False, server_default=""),
        sa.Column("created_by", sa.String(128), nullable=False),
        timestamp_now_column("created_at"),
    )
    op.create_table(
        "alert_incidents",
        row_id_column(),
        sa.Column("rule_id", sa.String(260), nullable=False),
        sa.Column("category", sa.String(128), nullable=False),
        sa.Column("region", sa.String(128), nullable=False),
        sa.Column("department", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("notified_level", sa.SmallInteger, nullable=False),
        sa.Column("opened_at", TIMESTAMP, nullable=False),
        sa.Column("last_notified_at", TIMESTAMP),
        sa.Column("repeats", sa.Integer, nullable=False),
        sa.Column("acknowledged_at", TIMESTAMP),
        sa.Column("acknowledged_by", sa.String(128)),
        sa.Column("below_since", TIMESTAMP),
        sa.Column("resolved_at", TIMESTAMP),
        sa.Column("resolved_by", sa.String(128)),
        sa.Column("resolution", sa.String(16)),
        sa.Column("last_count", sa.Integer, nullable=False),
        sa.Column("peak_count", sa.Integer, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("threshold", sa.Integer, nullable=False),
        sa.Column("silenced", sa.Boolean, nullable=False),
        sa.Column("window_minutes", sa.Integer, nullable=False),
        timestamp_now_column("created_at"),
        timestamp_now_column("updated_at"),
    )
    op.create_index(
        "ux_alert_incidents_active",
        "alert_incidents",
        ["rule_id", "region"],
        unique=True,
        postgresql_where=sa.text("status <> 'resolved'"),
    )
    op.create_index("ix_alert_incidents_status", "alert_incidents", ["status", "id"])
    op.create_table(
        "alert_incident_events",
        row_id_column(),
        sa.Column(
            "incident_id", sa.BigInteger, sa.ForeignKey("alert_incidents.id"), nullable=False
        ),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(128)),
        sa.Column("detail", postgresql.JSONB, nullable=False),
        timestamp_now_column("recorded_at"),
    )
    op.create_index(
        "ix_alert_incident_events_incident", "alert_incident_events", ["incident_id", "id"]
    )
    op.create_table(
        "alert_sms",
        row_id_column(),
        sa.Column(
            "incident_id", sa.BigInteger, sa.ForeignKey("alert_incidents.id"), nullable=False
        ),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("recipient", sa.String(128), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=False),
        sa.Column("lease_until", TIMESTAMP),
        sa.Column("provider", sa.String(16)),
        sa.Column("provider_message_id", sa.String(128)),
        sa.Column("last_error", sa.Text),
        sa.Column("detected_at", TIMESTAMP),
        timestamp_now_column("created_at"),
        sa.Column("sent_at", TIMESTAMP),
        sa.Column("delivered_at", TIMESTAMP),
        sa.Column("failed_at", TIMESTAMP),
        sa.UniqueConstraint("incident_id", "level", "kind", "phone", name="ux_alert_sms_once"),
    )
    op.create_index(
        "ix_alert_sms_due",
        "alert_sms",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.create_index("ix_alert_sms_recipient", "alert_sms", ["phone", "sent_at"])
    op.create_index("ix_alert_sms_incident", "alert_sms", ["incident_id", "id"])


def downgrade() -> None:
    for table in (
        "alert_sms",
        "alert_incident_events",
        "alert_incidents",
        "alert_silences",
        "alert_rule_sets",
        "alert_baselines",
        "alert_series",
        "alert_clocks",
        "alert_complaints",
        "alert_complaint_buckets",
    ):
        op.drop_table(table)
