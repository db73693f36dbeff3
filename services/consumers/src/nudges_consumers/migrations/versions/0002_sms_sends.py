"""the send ledger of SMS (intents before each send) and finished announcements

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- One row per SMS Nudges means to send, written before Twilio is called: a row still
        -- pending after an attempt is in doubt and is reconciled with Twilio before a resend.
        CREATE TABLE sms_sends (
            idempotency_key    TEXT PRIMARY KEY,
            announcement_id    UUID,
            subscriber_id      UUID,
            state              TEXT NOT NULL DEFAULT 'pending'
                               CHECK (state IN ('pending', 'sent', 'failed')),
            attempts           INTEGER NOT NULL DEFAULT 0,
            first_attempt_at   TIMESTAMPTZ,
            message_sid        TEXT UNIQUE,
            segments           INTEGER,
            error_code         TEXT,
            -- The announcement's delivery record in UserApi was written (queued or failed).
            delivery_recorded  BOOLEAN NOT NULL DEFAULT false,
            created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX sms_sends_announcement ON sms_sends (announcement_id)
            WHERE announcement_id IS NOT NULL;

        -- Announcements whose sending finished: the client's final SMS and the usage are
        -- written once, in the transaction that inserts the row.
        CREATE TABLE announcement_completions (
            announcement_id  UUID PRIMARY KEY,
            client_id        UUID NOT NULL,
            sent             INTEGER NOT NULL,
            delivered        INTEGER NOT NULL,
            failed           INTEGER NOT NULL,
            messages_used    INTEGER NOT NULL,
            completed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS announcement_completions; DROP TABLE IF EXISTS sms_sends;")
