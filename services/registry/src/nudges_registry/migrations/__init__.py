"""Alembic scripts of registrydb."""

from pathlib import Path

from nudges_kit.migrations import MigrationSet


def migration_set() -> MigrationSet:
    """registrydb and the folder of its migrations."""
    return MigrationSet(
        service="registry", database="registrydb", script_location=Path(__file__).parent
    )
