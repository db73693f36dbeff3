"""A ``nudges-webhooks`` process answers 413 to a body past ``MAX_REQUEST_BODY_BYTES`` (256 KiB
by default) before reading it, signed or not; callbacks of a normal size reach their route."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from nudges_devstack.http_edge import stream_chunked
from nudges_devstack.infra import ServiceProcess, free_port
from nudges_webhooks.settings import WebhooksSettings

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def webhooks_port(settings: WebhooksSettings, state_dir: Path) -> Iterator[int]:
    port = free_port()
    process = ServiceProcess(
        "nudges-webhooks",
        {
            "ENVIRONMENT": "test",
            "HTTP_PORT": str(port),
            "WARPCACHE_URL": settings.warpcache_url,
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "STRIPE_WEBHOOK_SECRET": settings.stripe_webhook_secret.get_secret_value(),
            "TWILIO_AUTH_TOKEN": settings.twilio_auth_token.get_secret_value(),
        },
        f"http://127.0.0.1:{port}/healthz",
        log_path=state_dir / "webhooks-body-limits.log",
    )
    process.start()
    yield port
    process.stop()


def test_the_default_limit_is_256_kibibytes() -> None:
    assert WebhooksSettings().max_request_body_bytes == 256 * 1024


def test_thirty_megabytes_to_stripe_are_refused_before_they_are_read(webhooks_port: int) -> None:
    total = 30 * MIB
    upload = stream_chunked(
        webhooks_port,
        "/webhooks/stripe",
        total,
        headers={"Stripe-Signature": "t=1,v1=00", "Content-Type": "application/json"},
    )
    assert upload.status == 413, upload.response[:200]
    # The server answered and dropped the connection while the client was still sending.
    assert not upload.finished
    assert upload.sent < total


def test_a_declared_body_past_the_limit_is_refused(webhooks_port: int) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{webhooks_port}/webhooks/twilio/sms",
        content=b"Body=" + b"x" * (256 * 1024),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert answer.status_code == 413


def test_a_callback_of_normal_size_reaches_its_route(webhooks_port: int) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{webhooks_port}/webhooks/stripe",
        content=b'{"id": "evt_1", "type": "checkout.session.completed"}',
        headers={"Stripe-Signature": "t=1,v1=00"},
        timeout=30,
    )
    # Checked, and refused for its signature: the limit let it through.
    assert answer.status_code == 400
    assert "invalid signature" in answer.json()["error"]
