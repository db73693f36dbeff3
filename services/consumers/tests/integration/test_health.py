"""The service starts on a migrated database and reports itself healthy and ready."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nudges_consumers.entrypoints.http import build_app
from nudges_consumers.migrations import migration_set
from nudges_consumers.settings import ConsumersSettings
from nudges_devstack.infra import Postgres, TansuBroker, free_port
from nudges_devstack.testing import create_migrated_database, drop_database


def test_healthy_and_ready_on_its_database(postgres: Postgres, state_dir: Path) -> None:
    # A broker of its own: the workers would otherwise handle other suites' events first.
    broker = TansuBroker(free_port(), log_path=state_dir / "consumers-health-tansu.log")
    broker.start()
    database = create_migrated_database(postgres.url, migration_set())
    settings = ConsumersSettings(
        environment="test",
        postgres_url=postgres.url,
        database_name=database,
        kafka_bootstrap_servers=broker.bootstrap_servers,
    )
    try:
        with TestClient(build_app(settings)) as client:
            assert client.get("/healthz").json() == {"status": "ok", "service": "consumers"}
            deadline = time.monotonic() + 30
            while (ready := client.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline, ready.json()
                time.sleep(0.2)
            assert ready.json()["checks"] == {"postgres": "ok", "consumers": "ok"}
            assert "nudges_outbox_pending" in client.get("/metrics").text
    finally:
        broker.stop()
        asyncio.run(drop_database(postgres.url, database))


def test_not_ready_when_its_database_is_missing(postgres: Postgres) -> None:
    settings = ConsumersSettings(
        environment="test",
        postgres_url=postgres.url,
        database_name="consumersdb_that_does_not_exist",
    )
    with (
        pytest.raises(Exception, match="consumersdb_that_does_not_exist"),
        TestClient(build_app(settings)),
    ):
        pass  # the lifespan fails before any request
