"""DDL of the tables the shared library owns in each service database."""

from __future__ import annotations

from alembic import op

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     UUID NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    key          TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    payload      JSONB NOT NULL,
    headers      JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON outbox (id) WHERE published_at IS NULL;
"""

HANDLED_EVENTS_DDL = """
CREATE TABLE IF NOT EXISTS handled_events (
    consumer_group TEXT NOT NULL,
    event_id       UUID NOT NULL,
    event_type     TEXT NOT NULL,
    handled_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, event_id)
);
"""


def create_outbox() -> None:
    """Create the outbox table a service writes its events into."""
    op.execute(OUTBOX_DDL)


def create_handled_events() -> None:
    """Create the per-consumer-group record of handled event ids."""
    op.execute(HANDLED_EVENTS_DDL)


def drop_outbox() -> None:
    """Drop the outbox table."""
    op.execute("DROP TABLE IF EXISTS outbox")


def drop_handled_events() -> None:
    """Drop the handled-events table."""
    op.execute("DROP TABLE IF EXISTS handled_events")
