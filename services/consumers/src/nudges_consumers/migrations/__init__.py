"""Alembic scripts of consumersdb."""

from pathlib import Path

from nudges_kit.migrations import MigrationSet


def migration_set() -> MigrationSet:
    """consumersdb and the folder of its migrations."""
    return MigrationSet(
        service="consumers", database="consumersdb", script_location=Path(__file__).parent
    )
