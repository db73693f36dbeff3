"""Webhooks from the Stripe emulator: signed so that ``stripe.Webhook.construct_event``
accepts them, and retried when the receiver fails."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import stripe


def _checkout(client: stripe.StripeClient, stripe_url: str) -> str:
    product = client.v1.products.create(params={"name": "Silver"})
    price = client.v1.prices.create(
        params={
            "product": product.id,
            "unit_amount": 900,
            "currency": "eur",
            "recurring": {"interval": "year"},
        }
    )
    session = client.v1.checkout.sessions.create(
        params={"mode": "subscription", "line_items": [{"price": price.id, "quantity": 1}]}
    )
    httpx.post(f"{stripe_url}/_emulator/checkout/{session.id}/complete").raise_for_status()
    return session.id


def test_completed_checkout_sends_events_that_construct_event_accepts(
    stripe_client: stripe.StripeClient, stripe_url: str, rec: Any, harness: Any
) -> None:
    session_id = _checkout(stripe_client, stripe_url)
    wanted = {"checkout.session.completed", "customer.subscription.created", "invoice.paid"}

    def received() -> dict[str, Any]:
        events = {}
        for request in rec.received("/stripe"):
            event = stripe.Webhook.construct_event(
                request.body.decode(), request.headers["stripe-signature"], harness.webhook_secret
            )
            events[event.type] = event
        return events if wanted <= set(events) else {}

    events = harness.eventually(received)
    completed = events["checkout.session.completed"]
    assert completed.id.startswith("evt_")
    assert completed.data.object.id == session_id
    assert completed.api_version == stripe.api_version
    assert completed.livemode is False
    subscription = events["customer.subscription.created"].data.object
    assert subscription.status == "active"
    assert subscription.id == completed.data.object.subscription
    invoice = events["invoice.paid"].data.object
    assert invoice.parent.subscription_details.subscription == subscription.id
    assert "customer.created" in events  # Checkout created the customer
    first = rec.received("/stripe")[0]
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            first.body.decode(), first.headers["stripe-signature"], "whsec_wrong"
        )


def test_updates_send_previous_attributes(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    product = stripe_client.v1.products.create(params={"name": "Bronze"})
    stripe_client.v1.products.update(product.id, params={"active": False})

    updated = harness.stripe_events(stripe_url, "product.updated")
    assert updated[0]["event"]["data"]["previous_attributes"]["active"] is True
    assert updated[0]["event"]["data"]["object"]["active"] is False


def test_a_failing_receiver_gets_the_event_again_with_backoff(
    stripe_client: stripe.StripeClient, stripe_url: str, rec: Any, harness: Any
) -> None:
    rec.fail_next("/stripe", 2)

    customer = stripe_client.v1.customers.create(params={"email": "retry@example.com"})

    def delivered() -> list[dict[str, Any]]:
        log = harness.stripe_events(stripe_url, "customer.created")
        return log if log and log[0]["delivery"]["delivered"] else []

    entry = harness.eventually(delivered)[0]
    assert [a["status_code"] for a in entry["delivery"]["attempts"]] == [500, 500, 200]
    bodies = {r.body for r in rec.received("/stripe")}
    assert len(bodies) == 1  # the same event each time, re-signed
    event = stripe.Webhook.construct_event(
        rec.received("/stripe")[-1].body.decode(),
        rec.received("/stripe")[-1].headers["stripe-signature"],
        harness.webhook_secret,
    )
    assert event.data.object.id == customer.id


def test_an_unreachable_receiver_is_given_up_on_after_the_bounded_attempts(
    stripe_client: stripe.StripeClient, stripe_url: str, harness: Any
) -> None:
    configured = httpx.get(f"{stripe_url}/_emulator/config").json()["webhook_url"]
    httpx.post(f"{stripe_url}/_emulator/config", json={"webhook_url": "http://127.0.0.1:9/x"})
    try:
        stripe_client.v1.customers.create(params={"email": "down@example.com"})

        def gave_up() -> list[dict[str, Any]]:
            log = harness.stripe_events(stripe_url, "customer.created")
            return log if log and log[0]["delivery"]["gave_up"] else []

        attempts = harness.eventually(gave_up)[0]["delivery"]["attempts"]
    finally:
        httpx.post(f"{stripe_url}/_emulator/config", json={"webhook_url": configured})
    assert len(attempts) == 4
    assert all(a["status_code"] is None and a["error"] for a in attempts)
