"""users, admins and the outbox

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

from nudges_kit.migration_support.tables import create_outbox, drop_outbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox()
    op.execute(
        """
        CREATE TABLE users (
            id                UUID PRIMARY KEY,
            phone_hash        TEXT NOT NULL UNIQUE,
            phone_ciphertext  TEXT NOT NULL,
            locale            TEXT NOT NULL DEFAULT 'en',
            identity_subject  TEXT UNIQUE,
            created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE TABLE admins (
            user_id     UUID PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
            created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE admins; DROP TABLE users;")
    drop_outbox()
