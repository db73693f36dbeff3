"""subgraphs, composed supergraph versions and the current supergraph

Revision ID: 0001
Revises:
Create Date: 2026-12-07
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE subgraphs (
            name        TEXT PRIMARY KEY,
            url         TEXT NOT NULL,
            sdl         TEXT NOT NULL,
            updated_at  TIMESTAMPTZ NOT NULL
        );

        -- Every published supergraph; id is the SHA-256 prefix of its SDL (an SDL published
        -- again, after a revert, gets a new number under the same id).
        CREATE TABLE supergraph_versions (
            number          INTEGER PRIMARY KEY CHECK (number > 0),
            id              TEXT NOT NULL,
            created_at      TIMESTAMPTZ NOT NULL,
            supergraph_sdl  TEXT NOT NULL,
            subgraphs       JSONB NOT NULL,
            reason          TEXT NOT NULL,
            forced          BOOLEAN NOT NULL DEFAULT false
        );
        CREATE INDEX supergraph_versions_by_id ON supergraph_versions (id, number DESC);

        -- The published supergraph the gateway loads: one row, moved by each publication.
        CREATE TABLE current_supergraph (
            singleton       BOOLEAN PRIMARY KEY DEFAULT true CHECK (singleton),
            version_number  INTEGER NOT NULL REFERENCES supergraph_versions (number),
            updated_at      TIMESTAMPTZ NOT NULL DEFAULT now()
        );
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE current_supergraph, supergraph_versions, subgraphs")
