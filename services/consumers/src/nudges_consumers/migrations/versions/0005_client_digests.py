"""what each client has not been told yet of their subscribers joining and leaving

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- One row per client: when they were last told of their subscribers, and the changes
        -- since (written with the handled event's id, so an event counts once), told in one
        -- digest when the interval is up.
        CREATE TABLE client_digests (
            client_id       UUID PRIMARY KEY,
            last_notice_at  TIMESTAMPTZ,
            joined          INTEGER NOT NULL DEFAULT 0 CHECK (joined >= 0),
            departed        INTEGER NOT NULL DEFAULT 0 CHECK (departed >= 0),
            -- The client's active subscribers as of the latest change.
            subscribers     INTEGER NOT NULL DEFAULT 0,
            updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        CREATE INDEX client_digests_pending ON client_digests (last_notice_at)
            WHERE joined + departed > 0;
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS client_digests;")
