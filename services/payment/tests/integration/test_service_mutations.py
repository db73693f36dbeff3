"""What the consumers (role ``service``) report: completed and expired checkouts, paid
invoices. Each is idempotent, and a completion publishes exactly one event."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events import Envelope
from nudges_kit.events.catalog.payment import checkout_completed

if TYPE_CHECKING:
    from conftest import Checkout, StripeWorld

COMPLETE = """
mutation($s: String!, $sub: String!) {
  completeCheckoutSession(stripeSessionId: $s, stripeSubscriptionId: $sub) {
    id status completedAt stripeSubscriptionId
  }
}"""
EXPIRE = "mutation($s: String!) { expireCheckoutSession(stripeSessionId: $s) { id status } }"
RECORD = """
mutation($i: RecordPaymentConfirmationInput!) {
  recordPaymentConfirmation(input: $i) {
    id stripeInvoiceId amount currency paidAt client { id }
  }
}"""


def _completed_events(api: SubgraphClient, checkout_session_id: str) -> list[Envelope]:
    rows = api.sql(
        "SELECT topic, payload FROM outbox WHERE event_type = %s AND key = %s",
        checkout_completed.name,
        checkout_session_id,
    )
    assert all(topic == checkout_completed.topic for topic, _ in rows)
    return [Envelope.model_validate(payload) for _, payload in rows]


def test_completion_is_recorded_once_and_published_once(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld
) -> None:
    caller = checkout.client()
    tier_id = checkout.tier()
    session = checkout.open(caller, tier_id)
    # The payer pays on (emulated) Stripe; the consumer then reports the completion.
    paid = httpx.post(
        f"{stripe_world.url}/_emulator/checkout/{session['stripeSessionId']}/complete"
    )
    paid.raise_for_status()
    subscription_id = paid.json()["subscription"]["id"]
    service = api.service_token()

    results = [
        api.ok(COMPLETE, service, s=session["stripeSessionId"], sub=subscription_id)[
            "completeCheckoutSession"
        ]
        for _ in range(3)
    ]

    assert results[0]["status"] == "COMPLETE"
    assert results[0]["stripeSubscriptionId"] == subscription_id
    assert results[1] == results[0] == results[2]
    events = _completed_events(api, session["id"])
    assert len(events) == 1
    data = checkout_completed.parse(events[0])
    assert (str(data.checkout_session_id), str(data.client_id), str(data.price_tier_id)) == (
        session["id"],
        caller.subject,
        tier_id,
    )
    assert data.stripe_session_id == session["stripeSessionId"]
    assert data.stripe_subscription_id == subscription_id


def test_concurrent_completions_publish_one_event(api: SubgraphClient, checkout: Checkout) -> None:
    session = checkout.open(checkout.client())
    service = api.service_token()

    async def complete_five() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://payment") as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/graphql",
                        json={
                            "query": COMPLETE,
                            "variables": {"s": session["stripeSessionId"], "sub": "sub_concurrent"},
                        },
                        headers={"Authorization": f"Bearer {service}"},
                    )
                    for _ in range(5)
                )
            )
        return [r.json() for r in responses]

    bodies = api.client.portal.call(complete_five)
    assert all("errors" not in b for b in bodies), bodies
    assert len(_completed_events(api, session["id"])) == 1


def test_completing_an_unknown_session_is_not_found(api: SubgraphClient) -> None:
    code = api.error_code(COMPLETE, api.service_token(), s="cs_test_unknown", sub="sub_1")
    assert code == "NOT_FOUND"


def test_expiry_closes_an_open_session_and_leaves_a_paid_one_alone(
    api: SubgraphClient, checkout: Checkout
) -> None:
    service = api.service_token()
    caller = checkout.client()
    open_one = checkout.open(caller)
    expired = api.ok(EXPIRE, service, s=open_one["stripeSessionId"])["expireCheckoutSession"]
    assert expired == {"id": open_one["id"], "status": "EXPIRED"}
    assert (
        api.ok(EXPIRE, service, s=open_one["stripeSessionId"])["expireCheckoutSession"] == expired
    )

    paid = checkout.open(caller)
    api.ok(COMPLETE, service, s=paid["stripeSessionId"], sub="sub_paid")
    still = api.ok(EXPIRE, service, s=paid["stripeSessionId"])["expireCheckoutSession"]
    assert still["status"] == "COMPLETE"


def test_a_completion_after_an_expiry_notice_still_counts(
    api: SubgraphClient, checkout: Checkout
) -> None:
    service = api.service_token()
    session = checkout.open(checkout.client())
    api.ok(EXPIRE, service, s=session["stripeSessionId"])
    done = api.ok(COMPLETE, service, s=session["stripeSessionId"], sub="sub_late")
    assert done["completeCheckoutSession"]["status"] == "COMPLETE"
    assert len(_completed_events(api, session["id"])) == 1


def _invoice(client_id: str, **overrides: Any) -> dict[str, Any]:
    return {
        "stripeInvoiceId": f"in_{uuid.uuid4().hex}",
        "clientId": client_id,
        "amount": 900,
        "currency": "USD",
        "paidAt": "2026-11-22T10:00:00+00:00",
        **overrides,
    }


def test_a_paid_invoice_is_recorded_once_even_when_reported_concurrently(
    api: SubgraphClient,
) -> None:
    client_id = str(uuid.uuid4())
    invoice = _invoice(client_id)
    service = api.service_token()

    async def report_ten_times() -> list[dict[str, Any]]:
        transport = httpx.ASGITransport(app=api.client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://payment") as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        "/graphql",
                        json={"query": RECORD, "variables": {"i": invoice}},
                        headers={"Authorization": f"Bearer {service}"},
                    )
                    for _ in range(10)
                )
            )
        return [r.json() for r in responses]

    bodies = api.client.portal.call(report_ten_times)

    assert all("errors" not in b for b in bodies), bodies
    confirmations = [b["data"]["recordPaymentConfirmation"] for b in bodies]
    assert len({c["id"] for c in confirmations}) == 1
    assert confirmations[0] == {
        "id": confirmations[0]["id"],
        "stripeInvoiceId": invoice["stripeInvoiceId"],
        "amount": 900,
        "currency": "usd",
        "paidAt": "2026-11-22T10:00:00+00:00",
        "client": {"id": client_id},
    }
    rows = api.sql(
        "SELECT count(*) FROM payment_confirmations WHERE stripe_invoice_id = %s",
        invoice["stripeInvoiceId"],
    )
    assert rows == [(1,)]


def test_a_repeated_invoice_returns_the_recorded_confirmation(api: SubgraphClient) -> None:
    service = api.service_token()
    invoice = _invoice(str(uuid.uuid4()))
    first = api.ok(RECORD, service, i=invoice)["recordPaymentConfirmation"]
    again = api.ok(RECORD, service, i={**invoice, "amount": 1})["recordPaymentConfirmation"]
    assert again == first


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"amount": -5}, "amount"),
        ({"currency": "dollars"}, "currency"),
        ({"paidAt": "2026-11-22T10:00:00"}, "paidAt"),
        ({"clientId": "someone"}, "clientId"),
        ({"stripeInvoiceId": "in 1"}, "stripeInvoiceId"),
    ],
)
def test_a_malformed_invoice_report_names_the_field(
    api: SubgraphClient, overrides: dict[str, Any], field: str
) -> None:
    body = api.gql(RECORD, api.service_token(), i=_invoice(str(uuid.uuid4()), **overrides))
    assert body["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_an_amount_must_be_a_whole_number(api: SubgraphClient) -> None:
    body = api.gql(RECORD, api.service_token(), i=_invoice(str(uuid.uuid4()), amount=9.5))
    assert body.get("errors")
    assert body.get("data") is None
