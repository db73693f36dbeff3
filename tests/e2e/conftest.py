"""The whole platform as processes, once per session, for the end-to-end flows."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.platform import Platform


@pytest.fixture(scope="module")
def platform_broker(state_dir: Path) -> Iterator[TansuBroker]:
    """A broker of the platform's own: no other suite's events on its topics."""
    broker = TansuBroker(free_port(), log_path=state_dir / "platform-tansu.log")
    broker.start()
    yield broker
    broker.stop()


# One platform per module: stopped before the next suite starts its own, so that PostgreSQL's
# connections are never held by two platforms at once.
@pytest.fixture(scope="module")
def platform(
    postgres: Postgres, platform_broker: TansuBroker, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    running = Platform(
        postgres.url, platform_broker.bootstrap_servers, tmp_path_factory.mktemp("platform")
    )
    try:
        running.start()
        yield running
    finally:
        running.stop()
