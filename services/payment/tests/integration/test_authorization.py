"""The authorization matrix: every operation against every kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient, TokenIssuer

if TYPE_CHECKING:
    from conftest import Checkout, RecordPayment

OK = "ok"
#: No error, and no entity: what ``_entities`` answers for an id the caller may not see, as
#: for one that does not exist.
ABSENT = "absent"
CALLERS = ["anonymous", "subscriber", "client_own", "client_other", "admin", "service"]


@pytest.fixture(scope="module")
def world(api: SubgraphClient, checkout: Checkout, record_payment: RecordPayment) -> dict[str, Any]:
    """A client with checkout sessions and a payment, and a token for every kind of caller."""
    owner = checkout.client()
    other = checkout.client()
    tier_id = checkout.tier()
    sessions = {name: checkout.open(owner, tier_id) for name in ("read", "complete", "expire")}
    payment_id = record_payment(api, owner.subject, datetime(2026, 11, 22, 10, tzinfo=UTC))
    return {
        "client_id": owner.subject,
        "tier_id": tier_id,
        "sessions": sessions,
        "payment_id": payment_id,
        "anonymous": "",
        "subscriber": api.person("subscriber").token,
        "client_own": owner.token,
        "client_other": other.token,
        "admin": api.person("admin").token,
        "service": api.service_token(),
    }


Operation = Callable[[dict[str, Any]], tuple[str, dict[str, Any]]]

OWNER_OR_ADMIN = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": OK,
    "client_other": "FORBIDDEN",
    "admin": OK,
    "service": "FORBIDDEN",
}
ADMIN_ONLY = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": "FORBIDDEN",
    "client_other": "FORBIDDEN",
    "admin": OK,
    "service": "FORBIDDEN",
}
SERVICE_ONLY = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": "FORBIDDEN",
    "client_other": "FORBIDDEN",
    "admin": "FORBIDDEN",
    "service": OK,
}


#: Read by the owner and admins; to every other signed-in caller the object is as missing as
#: an unknown id (NOT_FOUND from a query, no entity from ``_entities``).
def owner_or_admin(hidden: str) -> dict[str, str]:
    return {
        **OWNER_OR_ADMIN,
        "subscriber": hidden,
        "client_other": hidden,
        "service": hidden,
    }


#: Stripe ids of an entity: admins only (a service does not read these entities at all).
STRIPE_IDS_OF_ENTITY = {**owner_or_admin(ABSENT), "client_own": "FORBIDDEN"}
CLIENTS_ONLY = {
    "anonymous": "UNAUTHENTICATED",
    "subscriber": "FORBIDDEN",
    "client_own": OK,
    "client_other": OK,  # opening a checkout of one's own is every client's right
    "admin": "FORBIDDEN",
    "service": "FORBIDDEN",
}

MATRIX: list[tuple[str, Operation, dict[str, str]]] = [
    (
        "checkoutSession",
        lambda w: (
            "query($id: ID!) { checkoutSession(id: $id) { id } }",
            {"id": w["sessions"]["read"]["id"]},
        ),
        owner_or_admin("NOT_FOUND"),
    ),
    (
        "checkoutSession.stripeSessionId",
        lambda w: (
            "query($id: ID!) { checkoutSession(id: $id) { stripeSessionId } }",
            {"id": w["sessions"]["read"]["id"]},
        ),
        {**owner_or_admin("NOT_FOUND"), "client_own": "FORBIDDEN"},
    ),
    (
        "CheckoutSession.stripeSessionId and stripeSubscriptionId (entity)",
        lambda w: (
            "query($r: [_Any!]!) { _entities(representations: $r) {"
            " ... on CheckoutSession { stripeSubscriptionId stripeSessionId } } }",
            {"r": [{"__typename": "CheckoutSession", "id": w["sessions"]["read"]["id"]}]},
        ),
        STRIPE_IDS_OF_ENTITY,
    ),
    (
        "PaymentConfirmation.stripeInvoiceId (entity)",
        lambda w: (
            "query($r: [_Any!]!) { _entities(representations: $r) {"
            " ... on PaymentConfirmation { stripeInvoiceId } } }",
            {"r": [{"__typename": "PaymentConfirmation", "id": w["payment_id"]}]},
        ),
        STRIPE_IDS_OF_ENTITY,
    ),
    (
        "paymentConfirmations(clientId: owner)",
        lambda w: (
            "query($c: ID) { paymentConfirmations(clientId: $c) { totalCount } }",
            {"c": w["client_id"]},
        ),
        OWNER_OR_ADMIN,
    ),
    (
        "paymentConfirmations (one's own)",
        lambda w: ("{ paymentConfirmations { totalCount } }", {}),
        {**OWNER_OR_ADMIN, "client_other": OK},
    ),
    (
        "paymentTotals",
        lambda w: ("{ paymentTotals { confirmations } }", {}),
        ADMIN_ONLY,
    ),
    (
        "merchantServices",
        lambda w: ("{ merchantServices { totalCount } }", {}),
        ADMIN_ONLY,
    ),
    (
        "_entities CheckoutSession",
        lambda w: (
            "query($r: [_Any!]!) { _entities(representations: $r) {"
            " ... on CheckoutSession { id status } } }",
            {"r": [{"__typename": "CheckoutSession", "id": w["sessions"]["read"]["id"]}]},
        ),
        owner_or_admin(ABSENT),
    ),
    (
        "_entities PaymentConfirmation",
        lambda w: (
            "query($r: [_Any!]!) { _entities(representations: $r) {"
            " ... on PaymentConfirmation { id amount } } }",
            {"r": [{"__typename": "PaymentConfirmation", "id": w["payment_id"]}]},
        ),
        owner_or_admin(ABSENT),
    ),
    (
        "Client.payments",
        lambda w: (
            "query($r: [_Any!]!) { _entities(representations: $r) {"
            " ... on Client { payments { totalCount } } } }",
            {"r": [{"__typename": "Client", "id": w["client_id"]}]},
        ),
        OWNER_OR_ADMIN,
    ),
    (
        "createCheckoutSession",
        lambda w: (
            "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id } }",
            {"t": w["tier_id"]},
        ),
        CLIENTS_ONLY,
    ),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(
    ("operation", "expected"),
    [pytest.param(op, expected, id=name) for name, op, expected in MATRIX],
)
def test_authorization_matrix(
    api: SubgraphClient,
    world: dict[str, Any],
    operation: Operation,
    expected: dict[str, str],
    caller: str,
) -> None:
    query, variables = operation(world)
    body = api.gql(query, world[caller] or None, **variables)
    if expected[caller] == OK:
        assert "errors" not in body, body
        if "_entities" in body["data"]:
            assert body["data"]["_entities"][0], body
    elif expected[caller] == ABSENT:
        assert "errors" not in body, body
        assert body["data"]["_entities"] == [None], body
    else:
        assert body.get("errors"), body
        assert body["errors"][0]["extensions"]["code"] == expected[caller], body


def test_a_token_from_another_issuer_is_unauthenticated(api: SubgraphClient) -> None:
    forged = TokenIssuer().token(str(uuid.uuid4()), "admin")
    body = api.gql("{ paymentTotals { confirmations } }", forged)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "invalid token" in body["errors"][0]["message"]
