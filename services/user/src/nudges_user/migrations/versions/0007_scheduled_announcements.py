"""scheduled announcements: a client's text to start at a set time, once

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS scheduled_announcements (
            id UUID PRIMARY KEY,
            client_id UUID NOT NULL REFERENCES clients (id),
            body TEXT NOT NULL,
            run_at TIMESTAMPTZ NOT NULL,
            -- The IANA zone the client chose the time in (shown back to them).
            time_zone TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'scheduled'
                CHECK (status IN ('scheduled', 'started', 'canceled')),
            announcement_id UUID REFERENCES announcements (id),
            created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            started_at TIMESTAMPTZ,
            canceled_at TIMESTAMPTZ
        );
        -- The scheduler's claim: the due ones, oldest first.
        CREATE INDEX IF NOT EXISTS scheduled_announcements_due
            ON scheduled_announcements (run_at) WHERE status = 'scheduled';
        CREATE INDEX IF NOT EXISTS scheduled_announcements_client
            ON scheduled_announcements (client_id, run_at);
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS scheduled_announcements;")
