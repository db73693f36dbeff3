"""stopped recipients: a copy held back because its subscriber texted STOP before it was sent

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # An announcement is complete when delivered + failed + stopped reach its recipients.
    op.execute(
        """
        ALTER TABLE announcements ADD COLUMN IF NOT EXISTS stopped INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check;
        ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK
            (status IN ('queued', 'sent', 'delivered', 'failed', 'undelivered', 'stopped'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM deliveries WHERE status = 'stopped';
        ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check;
        ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK
            (status IN ('queued', 'sent', 'delivered', 'failed', 'undelivered'));
        ALTER TABLE announcements DROP COLUMN IF EXISTS stopped;
        """
    )
