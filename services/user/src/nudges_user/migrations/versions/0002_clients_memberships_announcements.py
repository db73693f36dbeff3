"""clients, subscribers, memberships, announcements and deliveries

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
        CREATE TABLE clients (
            id                  UUID PRIMARY KEY,
            user_id             UUID NOT NULL UNIQUE REFERENCES users (id),
            name                TEXT NOT NULL,
            slug                TEXT NOT NULL UNIQUE,
            stripe_customer_id  TEXT UNIQUE,
            locale              TEXT NOT NULL DEFAULT 'en',
            created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at          TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE TABLE subscribers (
            id          UUID PRIMARY KEY,
            user_id     UUID NOT NULL UNIQUE REFERENCES users (id),
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE TABLE memberships (
            id             UUID PRIMARY KEY,
            client_id      UUID NOT NULL REFERENCES clients (id),
            subscriber_id  UUID NOT NULL REFERENCES subscribers (id),
            status         TEXT NOT NULL CHECK (status IN ('active', 'stopped')),
            source         TEXT NOT NULL DEFAULT 'web',
            joined_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
            stopped_at     TIMESTAMPTZ,
            UNIQUE (client_id, subscriber_id)
        );
        CREATE INDEX memberships_active ON memberships (client_id) WHERE status = 'active';
        CREATE INDEX memberships_subscriber ON memberships (subscriber_id);
        CREATE TABLE announcements (
            id             UUID PRIMARY KEY,
            client_id      UUID NOT NULL REFERENCES clients (id),
            body           TEXT NOT NULL,
            status         TEXT NOT NULL
                           CHECK (status IN ('draft', 'confirmed', 'sending', 'sent', 'failed')),
            draft_key      TEXT UNIQUE,
            recipients     INTEGER NOT NULL DEFAULT 0,
            sent           INTEGER NOT NULL DEFAULT 0,
            delivered      INTEGER NOT NULL DEFAULT 0,
            failed         INTEGER NOT NULL DEFAULT 0,
            created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            confirmed_at   TIMESTAMPTZ,
            completed_at   TIMESTAMPTZ
        );
        CREATE INDEX announcements_client ON announcements (client_id, created_at DESC);
        CREATE TABLE deliveries (
            announcement_id      UUID NOT NULL REFERENCES announcements (id),
            subscriber_id        UUID NOT NULL REFERENCES subscribers (id),
            provider_message_id  TEXT UNIQUE,
            status               TEXT NOT NULL
                CHECK (status IN ('queued', 'sent', 'delivered', 'failed', 'undelivered')),
            error_code           TEXT,
            updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (announcement_id, subscriber_id)
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE deliveries; DROP TABLE announcements; DROP TABLE memberships;"
        " DROP TABLE subscribers; DROP TABLE clients;"
    )
