"""plans, features, price tiers, plan subscriptions, discount codes and usage

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
        CREATE TABLE plans (
            id                 UUID PRIMARY KEY,
            name               TEXT NOT NULL,
            description        TEXT NOT NULL DEFAULT '',
            icon_url           TEXT,
            active             BOOLEAN NOT NULL DEFAULT true,
            stripe_product_id  TEXT UNIQUE,
            created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at         TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX plans_by_creation ON plans (created_at, id);

        CREATE TABLE plan_features (
            plan_id              UUID PRIMARY KEY REFERENCES plans (id),
            messages_per_period  INTEGER NOT NULL CHECK (messages_per_period >= 0),
            support_tier         TEXT NOT NULL
                                 CHECK (support_tier IN ('basic', 'standard', 'premium')),
            ai_assist            BOOLEAN NOT NULL DEFAULT false
        );

        CREATE TABLE price_tiers (
            id                      UUID PRIMARY KEY,
            plan_id                 UUID NOT NULL REFERENCES plans (id),
            name                    TEXT NOT NULL,
            amount                  INTEGER NOT NULL CHECK (amount >= 0),
            -- ISO 4217, lowercase as Stripe writes it
            currency                TEXT NOT NULL CHECK (currency ~ '^[a-z]{3}$'),
            interval                TEXT NOT NULL CHECK (interval IN ('week', 'month', 'year')),
            stripe_price_id         TEXT UNIQUE,
            status                  TEXT NOT NULL DEFAULT 'active'
                                    CHECK (status IN ('active', 'inactive', 'archived')),
            version                 INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),
            replaces_price_tier_id  UUID UNIQUE REFERENCES price_tiers (id),
            created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX price_tiers_by_plan ON price_tiers (plan_id, created_at, id);

        CREATE TABLE plan_subscriptions (
            id                      UUID PRIMARY KEY,
            client_id               UUID NOT NULL,
            price_tier_id           UUID NOT NULL REFERENCES price_tiers (id),
            status                  TEXT NOT NULL
                CHECK (status IN ('incomplete', 'active', 'past_due', 'canceled')),
            current_period_start    TIMESTAMPTZ,
            current_period_end      TIMESTAMPTZ,
            stripe_subscription_id  TEXT NOT NULL UNIQUE,
            cancel_at_period_end    BOOLEAN NOT NULL DEFAULT false,
            created_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at              TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX plan_subscriptions_by_client ON plan_subscriptions (client_id, created_at);
        CREATE INDEX plan_subscriptions_by_creation ON plan_subscriptions (created_at, id);

        CREATE TABLE discount_codes (
            id                        UUID PRIMARY KEY,
            code                      TEXT NOT NULL,
            percent_off               INTEGER CHECK (percent_off BETWEEN 1 AND 100),
            amount_off                INTEGER CHECK (amount_off > 0),
            currency                  TEXT CHECK (currency ~ '^[a-z]{3}$'),
            duration                  TEXT NOT NULL
                                      CHECK (duration IN ('once', 'repeating', 'forever')),
            duration_in_months        INTEGER CHECK (duration_in_months > 0),
            max_redemptions           INTEGER CHECK (max_redemptions > 0),
            expires_at                TIMESTAMPTZ,
            stripe_coupon_id          TEXT UNIQUE,
            stripe_promotion_code_id  TEXT UNIQUE,
            active                    BOOLEAN NOT NULL DEFAULT true,
            created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
            updated_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
            CHECK ((percent_off IS NULL) <> (amount_off IS NULL)),
            CHECK ((amount_off IS NULL) = (currency IS NULL)),
            CHECK ((duration = 'repeating') = (duration_in_months IS NOT NULL))
        );
        CREATE UNIQUE INDEX discount_codes_code ON discount_codes (lower(code));
        CREATE INDEX discount_codes_by_creation ON discount_codes (created_at, id);

        CREATE TABLE usage (
            client_id      UUID NOT NULL,
            period_start   TIMESTAMPTZ NOT NULL,
            messages_sent  INTEGER NOT NULL DEFAULT 0 CHECK (messages_sent >= 0),
            updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
            PRIMARY KEY (client_id, period_start)
        );

        -- Idempotency keys of recorded usage, so that a retried recordUsage counts once.
        CREATE TABLE usage_records (
            idempotency_key  TEXT PRIMARY KEY,
            client_id        UUID NOT NULL,
            period_start     TIMESTAMPTZ NOT NULL,
            messages         INTEGER NOT NULL CHECK (messages > 0),
            recorded_at      TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE usage_records; DROP TABLE usage; DROP TABLE discount_codes;"
        " DROP TABLE plan_subscriptions; DROP TABLE price_tiers; DROP TABLE plan_features;"
        " DROP TABLE plans;"
    )
