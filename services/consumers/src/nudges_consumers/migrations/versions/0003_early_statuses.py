"""early statuses: status callbacks that arrived before the ledger knew their message

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A send in doubt, reconciled later: the sender applies these once it records the sid.
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS early_statuses (
            message_sid  TEXT NOT NULL,
            status       TEXT NOT NULL,
            error_code   TEXT,
            received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (message_sid, status)
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS early_statuses")
