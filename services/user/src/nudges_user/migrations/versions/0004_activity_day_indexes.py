"""indexes for the per-day activity series: announcements by the moment they count on,
memberships by the moment they joined

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
    # dailyActivity reads a date range of each; without these it scans both tables.
    op.execute(
        """
        CREATE INDEX IF NOT EXISTS announcements_activity_at
            ON announcements ((coalesce(completed_at, confirmed_at, created_at)));
        CREATE INDEX IF NOT EXISTS memberships_joined_at ON memberships (joined_at);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP INDEX IF EXISTS memberships_joined_at; DROP INDEX IF EXISTS announcements_activity_at;"
    )
