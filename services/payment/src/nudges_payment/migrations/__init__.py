"""Alembic scripts of paymentdb."""

from pathlib import Path

from nudges_kit.migrations import MigrationSet


def migration_set() -> MigrationSet:
    """paymentdb and the folder of its migrations."""
    return MigrationSet(
        service="payment", database="paymentdb", script_location=Path(__file__).parent
    )
