"""sms_sends: its updates stay on the row's page (HOT), without touching its indexes

A send's row is written four times (the intent, the first attempt, Twilio's sid, the outcome
published). With full pages and ``state`` in an index's predicate, each of those updates put
the new row version on another page and added it to every index. With room left on each page
and no updated column in any index, PostgreSQL updates the row in place (a heap-only tuple);
see bench/README.md for what it saved per message.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        -- Half of each new page is left for the later versions of its rows.
        ALTER TABLE sms_sends SET (fillfactor = 50);
        -- Held copies, found by their time; the release filters on state itself, so that
        -- sending a copy does not change an indexed column.
        DROP INDEX IF EXISTS sms_sends_held;
        CREATE INDEX sms_sends_held ON sms_sends (held_until) WHERE held_until IS NOT NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX IF EXISTS sms_sends_held;
        CREATE INDEX sms_sends_held ON sms_sends (held_until)
            WHERE state = 'pending' AND held_until IS NOT NULL;
        ALTER TABLE sms_sends RESET (fillfactor);
        """
    )
