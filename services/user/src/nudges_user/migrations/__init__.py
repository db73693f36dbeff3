"""Alembic scripts of userdb."""

from pathlib import Path

from nudges_kit.migrations import MigrationSet


def migration_set() -> MigrationSet:
    """userdb and the folder of its migrations."""
    return MigrationSet(service="user", database="userdb", script_location=Path(__file__).parent)
