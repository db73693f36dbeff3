"""the outbox and handled events

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from nudges_kit.migration_support.tables import (
    create_handled_events,
    create_outbox,
    drop_handled_events,
    drop_outbox,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_outbox()
    create_handled_events()


def downgrade() -> None:
    drop_handled_events()
    drop_outbox()
