"""The whole platform as processes, once per session, for the end-to-end flows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import Platform


@pytest.fixture(scope="session")
def platform_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of the platform's own: no other suite's events on its topics."""
    broker = TansuBroker(free_port(), log_path=state_dir / "platform-tansu.log")
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def platform(
    postgres: Postgres, platform_broker: TansuBroker, state_dir: Path
) -> Iterator[Platform]:
    running = Platform(postgres.url, platform_broker.bootstrap_servers, state_dir / "platform")
    running.state_dir.mkdir(parents=True, exist_ok=True)
    try:
        running.start()
        yield running
    finally:
        running.stop()
