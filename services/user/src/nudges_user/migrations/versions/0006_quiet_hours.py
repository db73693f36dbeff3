"""quiet hours: the client's setting, and copies held until their recipient's morning

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE clients ADD COLUMN IF NOT EXISTS quiet_hours BOOLEAN NOT NULL DEFAULT true;
        -- Copies waiting for quiet hours to end: not final, so not complete.
        ALTER TABLE announcements ADD COLUMN IF NOT EXISTS held INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check;
        ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK
            (status IN ('held', 'queued', 'sent', 'delivered', 'failed', 'undelivered',
                        'stopped'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM deliveries WHERE status = 'held';
        ALTER TABLE deliveries DROP CONSTRAINT IF EXISTS deliveries_status_check;
        ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check CHECK
            (status IN ('queued', 'sent', 'delivered', 'failed', 'undelivered', 'stopped'));
        ALTER TABLE announcements DROP COLUMN IF EXISTS held;
        ALTER TABLE clients DROP COLUMN IF EXISTS quiet_hours;
        """
    )
