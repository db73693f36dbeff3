"""The body of every service's alembic ``env.py``: online migrations over psycopg."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool


def run() -> None:
    """Run the pending migrations of the configured database."""
    config = context.config
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not configured"
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transactional_ddl=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
