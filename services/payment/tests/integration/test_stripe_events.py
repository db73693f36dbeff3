"""PaymentApi's own consumer of ``stripe.events``: completed and expired checkouts, paid and
failed invoices, each applied once in the transaction that publishes what follows from it
(real broker, real paymentdb, the Stripe emulator's objects)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events import Envelope
from nudges_kit.events.catalog.payment import (
    checkout_completed,
    invoice_failed,
    invoice_paid,
)
from nudges_payment.entrypoints.consumers import GROUP

if TYPE_CHECKING:
    from conftest import Checkout, StripeNews, StripeWorld

SESSION = "query($id: ID!) { checkoutSession(id: $id) { status stripeSubscriptionId } }"


def _eventually(check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while not (value := check()):
        assert time.monotonic() < deadline, f"not reached within {within}s"
        time.sleep(0.1)
    return value


def _handled(api: SubgraphClient, *envelopes: Envelope) -> None:
    """Wait until the consumer handled every one of ``envelopes``."""
    ids = [e.id for e in envelopes]
    _eventually(
        lambda: (
            api.sql(
                "SELECT count(*) FROM handled_events"
                " WHERE consumer_group = %s AND event_id = ANY(%s)",
                GROUP,
                ids,
            )
            == [(len(set(ids)),)]
        )
    )


def _outbox(api: SubgraphClient, event_type: str, key: str) -> list[dict[str, Any]]:
    rows = api.sql(
        "SELECT payload FROM outbox WHERE event_type = %s AND key = %s ORDER BY id",
        event_type,
        key,
    )
    return [Envelope.model_validate(payload).data for (payload,) in rows]


def _pay(stripe_world: StripeWorld, session: dict[str, Any]) -> dict[str, Any]:
    """The payer pays on the emulator: the session, its subscription and paid invoice."""
    paid = httpx.post(
        f"{stripe_world.url}/_emulator/checkout/{session['stripeSessionId']}/complete"
    )
    paid.raise_for_status()
    return paid.json()  # type: ignore[no-any-return]


def _status(api: SubgraphClient, session_id: str) -> dict[str, Any]:
    found: dict[str, Any] = api.ok(SESSION, api.person("admin").token, id=session_id)[
        "checkoutSession"
    ]
    return found


def test_a_completed_checkout_is_recorded_and_published_once(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld, stripe_news: StripeNews
) -> None:
    caller = checkout.client()
    tier_id = checkout.tier()
    session = checkout.open(caller, tier_id)
    paid = _pay(stripe_world, session)
    first = stripe_news.envelope("checkout.session.completed", paid["session"])
    # A redelivery (same event) and a second Stripe event about the same session.
    second = stripe_news.envelope("checkout.session.completed", paid["session"])
    stripe_news.send(first, first, second)
    _handled(api, first, second)

    assert _status(api, session["id"]) == {
        "status": "COMPLETE",
        "stripeSubscriptionId": paid["subscription"]["id"],
    }
    events = _outbox(api, checkout_completed.name, session["id"])
    assert len(events) == 1
    data = checkout_completed.schema.model_validate(events[0])
    assert (str(data.client_id), str(data.price_tier_id)) == (caller.subject, tier_id)
    assert data.stripe_session_id == session["stripeSessionId"]
    assert data.stripe_subscription_id == paid["subscription"]["id"]


def test_expiry_closes_an_open_session_and_a_paid_one_stays_complete(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld, stripe_news: StripeNews
) -> None:
    caller = checkout.client()
    open_one = checkout.open(caller)
    expired = httpx.post(
        f"{stripe_world.url}/_emulator/checkout/{open_one['stripeSessionId']}/expire"
    ).json()
    paid_late = checkout.open(caller)
    paid = _pay(stripe_world, paid_late)
    envelopes = [
        stripe_news.envelope("checkout.session.expired", expired),
        # The expiry notice of a session that was paid arrives first: payment still wins.
        stripe_news.envelope("checkout.session.expired", {**paid["session"], "status": "expired"}),
        stripe_news.envelope("checkout.session.completed", paid["session"]),
        stripe_news.envelope("checkout.session.expired", {**paid["session"], "status": "expired"}),
    ]
    stripe_news.send(*envelopes)
    _handled(api, *envelopes)

    assert _status(api, open_one["id"])["status"] == "EXPIRED"
    assert _status(api, paid_late["id"])["status"] == "COMPLETE"
    assert len(_outbox(api, checkout_completed.name, paid_late["id"])) == 1


def test_a_paid_invoice_is_recorded_once_and_tells_product_the_billed_period(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld, stripe_news: StripeNews
) -> None:
    caller = checkout.client()
    tier_id = checkout.tier()
    paid = _pay(stripe_world, checkout.open(caller, tier_id))
    invoice = paid["invoice"]
    subscription_id = paid["subscription"]["id"]
    envelopes = [stripe_news.envelope("invoice.paid", invoice) for _ in range(2)]
    stripe_news.send(*envelopes)
    _handled(api, *envelopes)

    rows = api.sql(
        "SELECT client_id::text, amount, currency FROM payment_confirmations"
        " WHERE stripe_invoice_id = %s",
        invoice["id"],
    )
    assert rows == [(caller.subject, invoice["amount_paid"], invoice["currency"])]
    events = _outbox(api, invoice_paid.name, subscription_id)
    assert len(events) == 1
    data = invoice_paid.schema.model_validate(events[0])
    period = invoice["lines"]["data"][0]["period"]
    assert (str(data.client_id), str(data.price_tier_id)) == (caller.subject, tier_id)
    assert data.stripe_invoice_id == invoice["id"]
    assert (int(data.period_start.timestamp()), int(data.period_end.timestamp())) == (  # type: ignore[union-attr]
        period["start"],
        period["end"],
    )
    assert (data.amount, data.currency) == (invoice["amount_paid"], invoice["currency"])


def test_an_invoice_that_names_no_client_is_billed_to_its_subscriptions_client(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld, stripe_news: StripeNews
) -> None:
    caller = checkout.client()
    paid = _pay(stripe_world, checkout.open(caller))
    invoice = paid["invoice"]
    details = invoice["parent"]["subscription_details"]
    # Without metadata on the event, PaymentApi asks Stripe for the subscription's.
    bare = {
        **invoice,
        "metadata": {},
        "parent": {**invoice["parent"], "subscription_details": {**details, "metadata": {}}},
    }
    envelope = stripe_news.envelope("invoice.paid", bare)
    stripe_news.send(envelope)
    _handled(api, envelope)

    rows = api.sql(
        "SELECT client_id::text FROM payment_confirmations WHERE stripe_invoice_id = %s",
        invoice["id"],
    )
    assert rows == [(caller.subject,)]


def test_a_failed_invoice_is_published_with_the_period_it_bills(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld, stripe_news: StripeNews
) -> None:
    caller = checkout.client()
    paid = _pay(stripe_world, checkout.open(caller))
    renewal = httpx.post(
        f"{stripe_world.url}/_emulator/subscriptions/{paid['subscription']['id']}/renew",
        params={"fail": "true"},
    )
    renewal.raise_for_status()
    failed = (
        stripe_world.client.v1.invoices.list(
            {"subscription": paid["subscription"]["id"], "status": "open"}
        )
        .data[0]
        .to_dict()
    )
    envelope = stripe_news.envelope("invoice.payment_failed", failed)
    stripe_news.send(envelope)
    _handled(api, envelope)

    events = _outbox(api, invoice_failed.name, paid["subscription"]["id"])
    assert len(events) == 1
    data = invoice_failed.schema.model_validate(events[0])
    assert str(data.client_id) == caller.subject
    assert data.period_start is not None
    assert int(data.period_start.timestamp()) == failed["lines"]["data"][0]["period"]["start"]
    assert data.amount == failed["amount_due"]
    # Nothing was paid: no confirmation.
    assert api.sql(
        "SELECT count(*) FROM payment_confirmations WHERE stripe_invoice_id = %s", failed["id"]
    ) == [(0,)]
