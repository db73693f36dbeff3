"""quiet hours: a copy held until its recipient's morning keeps what it takes to send it

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
        -- A pending send with held_until is held until then (quiet hours); the release reads
        -- the copy from the row, the work item that brought it being handled already.
        ALTER TABLE sms_sends
            ADD COLUMN held_until       TIMESTAMPTZ,
            ADD COLUMN hold_recorded    BOOLEAN NOT NULL DEFAULT false,
            ADD COLUMN client_id        UUID,
            ADD COLUMN to_ciphertext    TEXT,
            ADD COLUMN body             TEXT,
            ADD COLUMN status_callback  TEXT;
        CREATE INDEX sms_sends_held ON sms_sends (held_until)
            WHERE state = 'pending' AND held_until IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS sms_sends_held;
        ALTER TABLE sms_sends
            DROP COLUMN held_until, DROP COLUMN hold_recorded, DROP COLUMN client_id,
            DROP COLUMN to_ciphertext, DROP COLUMN body, DROP COLUMN status_callback;
        """
    )
