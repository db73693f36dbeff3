"""deliveries recorded from events: handled event ids, each copy's segments, and the status
callbacks that arrive before the sender's outcome names their message

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from alembic import op

from nudges_kit.migration_support.tables import create_handled_events, drop_handled_events

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # UserApi consumes twilio.status and sms.announcement-outcomes itself.
    create_handled_events()
    op.execute(
        """
        -- Twilio's segments of each copy sent: the announcement's total charges the allowance.
        ALTER TABLE deliveries ADD COLUMN IF NOT EXISTS segments INTEGER;
        -- A status callback whose message no delivery names yet (the sender's outcome comes
        -- later): applied, then deleted, when the outcome arrives. Callbacks of other SMS
        -- (codes, notices) never match one and are pruned after a day.
        CREATE TABLE IF NOT EXISTS early_statuses (
            provider_message_id  TEXT NOT NULL,
            status               TEXT NOT NULL,
            error_code           TEXT,
            received_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (provider_message_id, status)
        );
        CREATE INDEX IF NOT EXISTS early_statuses_received_at ON early_statuses (received_at);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS early_statuses; ALTER TABLE deliveries DROP COLUMN IF EXISTS segments;"
    )
    drop_handled_events()
