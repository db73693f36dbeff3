"""a client's time zone; a schedule refused when it falls due, and why

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- The IANA zone the client's times are read in (NULL: the zone of their number).
        ALTER TABLE clients ADD COLUMN IF NOT EXISTS time_zone TEXT;
        ALTER TABLE scheduled_announcements
            ADD COLUMN IF NOT EXISTS refusal TEXT,
            ADD COLUMN IF NOT EXISTS refused_at TIMESTAMPTZ,
            DROP CONSTRAINT IF EXISTS scheduled_announcements_status_check,
            ADD CONSTRAINT scheduled_announcements_status_check
                CHECK (status IN ('scheduled', 'started', 'canceled', 'refused'));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DELETE FROM scheduled_announcements WHERE status = 'refused';
        ALTER TABLE scheduled_announcements
            DROP CONSTRAINT IF EXISTS scheduled_announcements_status_check,
            ADD CONSTRAINT scheduled_announcements_status_check
                CHECK (status IN ('scheduled', 'started', 'canceled')),
            DROP COLUMN IF EXISTS refused_at,
            DROP COLUMN IF EXISTS refusal;
        ALTER TABLE clients DROP COLUMN IF EXISTS time_zone;
        """
    )
