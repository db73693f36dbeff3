"""client keywords: the word a client's audience texts to join (unique in any case)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE clients ADD COLUMN IF NOT EXISTS keyword TEXT;
        CREATE UNIQUE INDEX IF NOT EXISTS clients_keyword_key ON clients (upper(keyword));
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS clients_keyword_key;
        ALTER TABLE clients DROP COLUMN IF EXISTS keyword;
        """
    )
