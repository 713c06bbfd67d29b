"""Rewards: a prize request's wallet lock and read in one call (`rewards_request_read`).

The function waits for the owner's wallet lock, optionally locks the prize row, then reads
what the request is decided on. Being VOLATILE PL/pgSQL, its read takes its snapshot after
the locks are held, so it sees every change their previous holders committed: the read a
separate statement after the lock saw, one round trip fewer.

Revision ID: 0010_rewards_request_read
Revises: 0008_rewards
Create Date: 2026-12-01
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010_rewards_request_read"
down_revision: str | None = "0008_rewards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REQUEST_READ = """
CREATE FUNCTION rewards_request_read(
    wallet_lock text, wanted_redemption text, wanted_prize text, wanted_kind text,
    wanted_owner text, lock_prize boolean
) RETURNS TABLE (
    redemption_id text, owner_kind text, owner_id text, prize_id text, fruit text,
    price integer, needs_approval boolean, stock_reserved boolean, status text,
    requested_by text, requested_at timestamptz, changed_by text, changed_at timestamptz,
    reason text, requested_fruit text, document text, stock integer, balances text,
    entry_id bigint, recorded_at timestamptz
) LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    -- the owner's wallet lock (the name `rewards.wallet:<kind>:<id>`, as every writer's)
    PERFORM pg_advisory_xact_lock(hashtext(wallet_lock));
    IF lock_prize THEN
        PERFORM FROM rewards_prizes AS p WHERE p.prize_id = wanted_prize FOR UPDATE;
    END IF;
    -- a new snapshot, taken with the locks held; a new request (no redemption under its
    -- id, a known prize) gets the number of its debit and the instant it is recorded at
    RETURN QUERY
    SELECT r.redemption_id::text, r.owner_kind::text, r.owner_id::text, r.prize_id::text,
        r.fruit::text, r.price, r.needs_approval, r.stock_reserved, r.status::text,
        r.requested_by::text, r.requested_at, r.changed_by::text, r.changed_at,
        r.reason::text, r.requested_fruit::text, p.document::text, p.stock, b.balances,
        CASE WHEN r.redemption_id IS NULL AND p.document IS NOT NULL
            THEN nextval('rewards_ledger_id_seq') END,
        now()
    FROM (SELECT 1) AS one
    LEFT JOIN rewards_redemptions AS r ON r.redemption_id = wanted_redemption
    LEFT JOIN rewards_prizes AS p ON p.prize_id = wanted_prize
    LEFT JOIN LATERAL (
        SELECT json_object_agg(w.fruit, w.balance)::text AS balances
        FROM rewards_balances AS w
        WHERE w.owner_kind = wanted_kind AND w.owner_id = wanted_owner
    ) AS b ON true;
END
$$
"""


def upgrade() -> None:
    op.execute(REQUEST_READ)


def downgrade() -> None:
    op.execute("DROP FUNCTION rewards_request_read(text, text, text, text, text, boolean)")
