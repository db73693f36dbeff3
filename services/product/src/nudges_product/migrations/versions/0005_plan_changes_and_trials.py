"""plan changes and trials: a subscription's pending tier change and trial end; a tier's
trial days

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE plan_subscriptions
            ADD COLUMN pending_price_tier_id UUID REFERENCES price_tiers (id),
            ADD COLUMN pending_change_at TIMESTAMPTZ,
            ADD COLUMN trial_ends_at TIMESTAMPTZ;
        ALTER TABLE price_tiers
            ADD COLUMN trial_days INTEGER NOT NULL DEFAULT 0 CHECK (trial_days >= 0);
        """
    )


def downgrade() -> None:
    op.execute(
        """
        ALTER TABLE plan_subscriptions DROP COLUMN pending_price_tier_id,
            DROP COLUMN pending_change_at, DROP COLUMN trial_ends_at;
        ALTER TABLE price_tiers DROP COLUMN trial_days;
        """
    )
