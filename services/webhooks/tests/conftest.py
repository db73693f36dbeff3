"""The Webhooks app with a real WarpCache process and the session's broker."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from nudges_devstack.infra import ServiceProcess, TansuBroker, free_port
from nudges_webhooks.entrypoints.http import build_app
from nudges_webhooks.settings import WebhooksSettings


@pytest.fixture(scope="session")
def warpcache_target(state_dir: Path) -> Iterator[str]:
    grpc_port, http_port = free_port(), free_port()
    process = ServiceProcess(
        "nudges-warpcache",
        {"GRPC_PORT": str(grpc_port), "HTTP_PORT": str(http_port)},
        f"http://127.0.0.1:{http_port}/readyz",
        log_path=state_dir / "webhooks-warpcache.log",
    )
    process.start()
    yield f"127.0.0.1:{grpc_port}"
    process.stop()


@pytest.fixture(scope="session")
def settings(warpcache_target: str, kafka_broker: TansuBroker) -> WebhooksSettings:
    return WebhooksSettings(
        environment="test",
        warpcache_url=warpcache_target,
        kafka_bootstrap_servers=kafka_broker.bootstrap_servers,
        stripe_webhook_secret="whsec_test",  # type: ignore[arg-type]
        twilio_auth_token="twilio-test-token",  # type: ignore[arg-type]
    )


@pytest.fixture(scope="session")
def webhooks(settings: WebhooksSettings) -> Iterator[TestClient]:
    with TestClient(build_app(settings)) as client:
        yield client
