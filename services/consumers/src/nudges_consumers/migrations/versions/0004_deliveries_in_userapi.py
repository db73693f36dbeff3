"""deliveries live in UserApi only: no early statuses, no announcement completions here

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
    # UserApi consumes twilio.status and the sender's outcomes and decides completion.
    op.execute(
        "DROP TABLE IF EXISTS early_statuses; DROP TABLE IF EXISTS announcement_completions;"
    )


def downgrade() -> None:
    op.execute(
        """
        CREATE TABLE IF NOT EXISTS announcement_completions (
            announcement_id  UUID PRIMARY KEY,
            client_id        UUID NOT NULL,
            sent             INTEGER NOT NULL,
            delivered        INTEGER NOT NULL,
            failed           INTEGER NOT NULL,
            messages_used    INTEGER NOT NULL,
            completed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE TABLE IF NOT EXISTS early_statuses (
            message_sid  TEXT NOT NULL,
            status       TEXT NOT NULL,
            error_code   TEXT,
            received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (message_sid, status)
        );
        """
    )
