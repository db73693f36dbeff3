"""handled events: the ids of the events this service's consumers have handled

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07
"""

from nudges_kit.migration_support.tables import create_handled_events, drop_handled_events

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_handled_events()


def downgrade() -> None:
    drop_handled_events()
