"""Session fixtures: real PostgreSQL, Redis and broker, started once per test session."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nudges_devstack.infra import Postgres, Redis, TansuBroker, free_port


@pytest.fixture(scope="session")
def state_dir() -> Iterator[Path]:
    """A folder for the embedded servers of this session."""
    with tempfile.TemporaryDirectory(prefix="nudges-test-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def postgres(state_dir: Path) -> Iterator[Postgres]:
    """PostgreSQL from the environment, else 127.0.0.1:5432, else embedded."""
    server = Postgres.ensure(state_dir / "postgres")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server(state_dir: Path) -> Iterator[Redis]:
    """Redis from the environment, else 127.0.0.1:6379, else embedded."""
    server = Redis.ensure(state_dir / "redis")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def kafka_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A Tansu broker of this session's own, on a free port (tests may stop and restart it)."""
    broker = TansuBroker(free_port(), log_path=state_dir / "tansu.log")
    broker.start()
    yield broker
    broker.stop()
