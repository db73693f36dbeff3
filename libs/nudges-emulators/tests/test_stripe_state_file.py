"""The Stripe emulator with a state file: a second process (here, a second server on the same
file) knows every object, idempotency key and undelivered event of the first, as a Stripe
account outlives any connection to it."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import httpx
import stripe

from nudges_emulators.serving import serve_in_thread
from nudges_emulators.stripe.app import build_app
from nudges_emulators.stripe.settings import StripeEmulatorSettings


def _settings(path: Path, webhook_url: str) -> StripeEmulatorSettings:
    return StripeEmulatorSettings(
        stripe_webhook_url=webhook_url,
        stripe_webhook_retry_seconds=0.05,
        stripe_webhook_max_attempts=2,
        stripe_emulator_state_file=str(path),
        log_level="WARNING",
    )


def _client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(
        "sk_test_emulator", base_addresses={"api": url}, max_network_retries=0
    )


def test_objects_and_idempotency_keys_outlive_the_process(
    tmp_path: Path, receiver_url: str
) -> None:
    path = tmp_path / "stripe-emulator.json"
    settings = _settings(path, f"{receiver_url}/stripe")
    with serve_in_thread(build_app(settings)) as first:
        client = _client(first.url)
        product = client.v1.products.create(
            params={"name": "Gold", "metadata": {"plan_id": "p1"}},
            options={"idempotency_key": "product-p1"},
        )
        price = client.v1.prices.create(
            params={
                "product": product.id,
                "unit_amount": 900,
                "currency": "usd",
                "recurring": {"interval": "month"},
            }
        )
        customer = client.v1.customers.create(params={"name": "Ada"})
    # Written atomically: the file is whole JSON and no temporary file is left behind.
    assert json.loads(path.read_text())["objects"]["price"][price.id]["unit_amount"] == 900
    assert [p.name for p in tmp_path.iterdir()] == [path.name]

    with serve_in_thread(build_app(settings)) as second:
        client = _client(second.url)
        assert client.v1.prices.retrieve(price.id).unit_amount == 900
        again = client.v1.products.create(
            params={"name": "Gold", "metadata": {"plan_id": "p1"}},
            options={"idempotency_key": "product-p1"},
        )
        assert again.id == product.id
        session = client.v1.checkout.sessions.create(
            params={
                "mode": "subscription",
                "customer": customer.id,
                "line_items": [{"price": price.id, "quantity": 1}],
                "success_url": "http://example.test/ok",
            }
        )
        completed = httpx.post(f"{second.url}/_emulator/checkout/{session.id}/complete")
        assert completed.status_code == 200, completed.text
        events = {e["type"] for e in httpx.get(f"{second.url}/_emulator/events").json()["data"]}
        assert {"price.created", "checkout.session.completed"} <= events


def test_undelivered_events_are_sent_by_the_next_process(
    tmp_path: Path, rec: Any, receiver_url: str, harness: Any
) -> None:
    path = tmp_path / "stripe-emulator.json"
    with socket.socket() as unused:  # a port nobody answers on once closed
        unused.bind(("127.0.0.1", 0))
        dead_url = f"http://127.0.0.1:{unused.getsockname()[1]}/stripe"
    with serve_in_thread(build_app(_settings(path, dead_url))) as first:
        customer = _client(first.url).v1.customers.create(params={"name": "Late"})
    with serve_in_thread(build_app(_settings(path, f"{receiver_url}/stripe"))):
        delivered = harness.eventually(
            lambda: [
                r
                for r in rec.received("/stripe")
                if json.loads(r.body)["type"] == "customer.created"
            ]
        )
    assert json.loads(delivered[0].body)["data"]["object"]["id"] == customer.id
