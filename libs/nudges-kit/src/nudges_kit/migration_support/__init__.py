"""Pieces every service's alembic scripts share: the env runner and the outbox tables."""
