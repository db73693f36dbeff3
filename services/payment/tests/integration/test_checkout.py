"""createCheckoutSession: a real Stripe Checkout Session (on the emulator), stored once per
request, refused with a clear code when the tier, the code or the client is not ready."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient

if TYPE_CHECKING:
    from conftest import Checkout, OtherSubgraphs, StripeWorld

CREATE = """
mutation($t: ID!, $c: String, $k: String) {
  createCheckoutSession(priceTierId: $t, discountCode: $c, idempotencyKey: $k) { id }
}"""


def _error(api: SubgraphClient, token: str, **variables: Any) -> dict[str, Any]:
    body = api.gql(CREATE, token, **variables)
    assert body.get("errors"), body
    return body["errors"][0]  # type: ignore[no-any-return]


def test_opens_a_subscription_checkout_on_stripe_and_stores_it(
    api: SubgraphClient, checkout: Checkout, stripe_world: StripeWorld
) -> None:
    caller = checkout.client()
    tier_id = checkout.tier()
    session = checkout.open(caller, tier_id, discount_code=stripe_world.promotion_code)

    assert session["status"] == "OPEN"
    assert session["client"] == {"id": caller.subject}
    assert session["priceTierId"] == tier_id
    assert session["discountCode"] == stripe_world.promotion_code
    on_stripe = stripe_world.client.v1.checkout.sessions.retrieve(session["stripeSessionId"])
    assert on_stripe.url == session["url"]
    assert on_stripe.mode == "subscription"
    assert on_stripe.customer == stripe_world.customer_id
    assert (
        on_stripe.success_url
        == "https://nudges.test/checkout/done?session_id={CHECKOUT_SESSION_ID}"
    )
    assert on_stripe.cancel_url == (
        "https://nudges.test/checkout/cancelled?session_id={CHECKOUT_SESSION_ID}"
    )
    assert on_stripe.metadata is not None
    assert on_stripe.metadata.to_dict() == {
        "client_id": caller.subject,
        "price_tier_id": tier_id,
        "checkout_session_id": session["id"],
    }
    assert [d.promotion_code for d in on_stripe.discounts or []] == [stripe_world.promotion_code_id]
    lines = stripe_world.client.v1.checkout.sessions.line_items.list(session["stripeSessionId"])
    assert [(line.price.id if line.price else None, line.quantity) for line in lines.data] == [
        (stripe_world.price_id, 1)
    ]
    stored = api.sql(
        "SELECT client_id::text, price_tier_id::text, discount_code, status, url, expires_at"
        " FROM checkout_sessions WHERE id = %s",
        uuid.UUID(session["id"]),
    )
    assert len(stored) == 1
    client_id, stored_tier, code, status, url, expires_at = stored[0]
    assert (client_id, stored_tier, code, status, url) == (
        caller.subject,
        tier_id,
        stripe_world.promotion_code,
        "open",
        session["url"],
    )
    assert expires_at is not None


def test_a_repeated_request_returns_the_same_session(
    api: SubgraphClient, checkout: Checkout
) -> None:
    caller = checkout.client()
    tier_id = checkout.tier()
    first = checkout.open(caller, tier_id, idempotency_key="click-1")
    again = checkout.open(caller, tier_id, idempotency_key="click-1")
    assert again == first
    other = checkout.open(caller, tier_id, idempotency_key="click-2")
    assert other["id"] != first["id"]
    assert other["stripeSessionId"] != first["stripeSessionId"]
    count = api.sql(
        "SELECT count(*) FROM checkout_sessions WHERE client_id = %s", uuid.UUID(caller.subject)
    )
    assert count == [(2,)]


def test_works_without_a_discount_code(checkout: Checkout, stripe_world: StripeWorld) -> None:
    session = checkout.open(checkout.client())
    on_stripe = stripe_world.client.v1.checkout.sessions.retrieve(session["stripeSessionId"])
    assert session["discountCode"] is None
    assert not on_stripe.discounts


@pytest.mark.parametrize(
    ("status", "price", "code", "message"),
    [
        ("INACTIVE", "default", "BAD_USER_INPUT", "inactive"),
        ("ARCHIVED", "default", "BAD_USER_INPUT", "archived"),
        ("ACTIVE", None, "CONFLICT", "no Stripe price"),
    ],
)
def test_refuses_a_tier_that_is_not_on_sale(
    api: SubgraphClient, checkout: Checkout, status: str, price: str | None, code: str, message: str
) -> None:
    caller = checkout.client()
    error = _error(api, caller.token, t=checkout.tier(status, price))
    assert error["extensions"]["code"] == code
    assert message in error["message"]


def test_refuses_a_tier_nobody_knows(api: SubgraphClient, checkout: Checkout) -> None:
    error = _error(api, checkout.client().token, t=str(uuid.uuid4()))
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "priceTierId"}


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"t": "not-an-id"}, "priceTierId"),
        ({"c": "NOT A CODE"}, "discountCode"),
        ({"c": "NOSUCHCODE"}, "discountCode"),
        ({"k": "x" * 201}, "idempotencyKey"),
    ],
)
def test_reports_which_argument_is_wrong(
    api: SubgraphClient, checkout: Checkout, variables: dict[str, str], field: str
) -> None:
    caller = checkout.client()
    error = _error(api, caller.token, **{"t": checkout.tier(), **variables})
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


def test_a_client_whose_stripe_customer_is_not_created_yet_is_asked_to_wait(
    api: SubgraphClient, checkout: Checkout
) -> None:
    caller = checkout.client(stripe_customer_id=None)
    error = _error(api, caller.token, t=checkout.tier())
    assert error["extensions"]["code"] == "CONFLICT"
    assert "being set up" in error["message"]


def test_a_client_without_a_profile_is_refused(api: SubgraphClient, checkout: Checkout) -> None:
    stranger = api.person("client")
    error = _error(api, stranger.token, t=checkout.tier())
    assert error["extensions"]["code"] == "CONFLICT"


def test_a_stripe_refusal_is_a_safe_payment_provider_error(
    api: SubgraphClient, checkout: Checkout
) -> None:
    caller = checkout.client()
    error = _error(api, caller.token, t=checkout.tier(stripe_price_id="price_that_stripe_lacks"))
    assert error["extensions"] == {"code": "PAYMENT_PROVIDER_ERROR", "reason": "resource_missing"}
    assert "price_that_stripe_lacks" not in error["message"]
    count = api.sql(
        "SELECT count(*) FROM checkout_sessions WHERE client_id = %s", uuid.UUID(caller.subject)
    )
    assert count == [(0,)]


def test_the_subgraphs_are_asked_with_payments_machine_token_not_the_callers(
    checkout: Checkout, subgraphs: OtherSubgraphs
) -> None:
    """Stripe ids are for staff and services: the caller's own token could not read them."""
    caller = checkout.client()
    subgraphs.seen_tokens.clear()
    checkout.open(caller)
    assert sorted(subgraphs.seen_tokens) == [
        ("product", f"Bearer {subgraphs.machine_token}"),
        ("user", f"Bearer {subgraphs.machine_token}"),
    ]
    assert set(subgraphs.token_requests) == {"payment"}


def test_an_unavailable_subgraph_is_reported_as_such(
    api: SubgraphClient, checkout: Checkout, subgraphs: OtherSubgraphs
) -> None:
    caller = checkout.client()
    tier_id = checkout.tier()
    subgraphs.failing_status = 503
    try:
        error = _error(api, caller.token, t=tier_id)
    finally:
        subgraphs.failing_status = None
    assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
