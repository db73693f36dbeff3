"""Alembic scripts of productdb."""

from pathlib import Path

from nudges_kit.migrations import MigrationSet


def migration_set() -> MigrationSet:
    """productdb and the folder of its migrations."""
    return MigrationSet(
        service="product", database="productdb", script_location=Path(__file__).parent
    )
