"""checkout sessions, payment confirmations and merchant services

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
        CREATE TABLE merchant_services (
            id          UUID PRIMARY KEY,
            name        TEXT NOT NULL UNIQUE,
            active      BOOLEAN NOT NULL DEFAULT true,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        INSERT INTO merchant_services (id, name)
            VALUES ('0192f000-0000-7000-8000-000000000001', 'stripe');

        CREATE TABLE checkout_sessions (
            id                      UUID PRIMARY KEY,
            client_id               UUID NOT NULL,
            price_tier_id           UUID NOT NULL,
            discount_code           TEXT,
            stripe_session_id       TEXT NOT NULL UNIQUE,
            url                     TEXT NOT NULL,
            status                  TEXT NOT NULL
                                    CHECK (status IN ('open', 'complete', 'expired')),
            expires_at              TIMESTAMPTZ,
            created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
            completed_at            TIMESTAMPTZ,
            stripe_subscription_id  TEXT
        );
        CREATE INDEX checkout_sessions_client ON checkout_sessions (client_id, created_at DESC);

        CREATE TABLE payment_confirmations (
            id                 UUID PRIMARY KEY,
            stripe_invoice_id  TEXT NOT NULL UNIQUE,
            client_id          UUID NOT NULL,
            amount             BIGINT NOT NULL CHECK (amount >= 0),
            currency           TEXT NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
            paid_at            TIMESTAMPTZ NOT NULL,
            recorded_at        TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX payment_confirmations_recent ON payment_confirmations (paid_at DESC, id DESC);
        CREATE INDEX payment_confirmations_client
            ON payment_confirmations (client_id, paid_at DESC, id DESC);
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE payment_confirmations; DROP TABLE checkout_sessions;"
        " DROP TABLE merchant_services;"
    )
