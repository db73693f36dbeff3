"""past due since: when a plan subscription's payments began to fail (the grace period)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A subscription already past due starts its grace period at its last change.
    op.execute(
        """
        ALTER TABLE plan_subscriptions ADD COLUMN past_due_since TIMESTAMPTZ;
        UPDATE plan_subscriptions SET past_due_since = updated_at WHERE status = 'past_due';
        """
    )


def downgrade() -> None:
    op.execute("ALTER TABLE plan_subscriptions DROP COLUMN past_due_since")
