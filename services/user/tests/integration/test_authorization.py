"""The authorization matrix: every operation against every kind of caller."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from nudges_devstack.testing import SubgraphClient

OK = "ok"
CALLERS = ["anonymous", "subscriber", "client_own", "client_other", "admin", "service"]


@pytest.fixture(scope="module")
def world(api: SubgraphClient) -> dict[str, str]:
    owner = api.person("client")
    slug = f"matrix-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Matrix", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    other = api.person("client")
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Other", slug: $s}) { id } }',
        other.token,
        s=f"other-{uuid.uuid4().hex[:8]}",
    )
    fan = api.person("subscriber")
    api.ok("mutation($s: String!) { joinClient(slug: $s) { id } }", fan.token, s=slug)
    admin = api.person("admin")
    return {
        "client_id": owner.subject,
        "slug": slug,
        "anonymous": "",
        "subscriber": fan.token,
        "client_own": owner.token,
        "client_other": other.token,
        "admin": admin.token,
        "service": api.service_token(),
    }


Operation = Callable[[dict[str, str]], tuple[str, dict[str, str]]]

MATRIX: list[tuple[str, Operation, dict[str, str]]] = [
    (
        "clientBySlug (public fields)",
        lambda w: ("query($s: String!) { clientBySlug(slug: $s) { name slug } }", {"s": w["slug"]}),
        {c: OK for c in CALLERS},
    ),
    (
        "client.stripeCustomerId",
        lambda w: (
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": OK,
        },
    ),
    (
        "clients",
        lambda w: ("{ clients { totalCount } }", {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "subscribers",
        lambda w: ("{ subscribers { totalCount } }", {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": OK,
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "userTotals",
        lambda w: ("{ userTotals { clients } }", {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "updateClient",
        lambda w: (
            'mutation($id: ID!) { updateClient(id: $id, input: {locale: "es"}) { id } }',
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": OK,
            "client_other": "FORBIDDEN",
            "admin": OK,
            "service": "FORBIDDEN",
        },
    ),
    (
        "stopAllMemberships",
        lambda w: ('mutation { stopAllMemberships(phoneHash: "nobody") }', {}),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
    (
        "announcementRecipients",
        lambda w: (
            "query($id: ID!) { announcementRecipients(clientId: $id) { nextAfter } }",
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
    (
        "setClientStripeCustomer",
        lambda w: (
            "mutation($id: ID!) { setClientStripeCustomer(clientId: $id,"
            ' stripeCustomerId: "cus_matrix") { id } }',
            {"id": w["client_id"]},
        ),
        {
            "anonymous": "UNAUTHENTICATED",
            "subscriber": "FORBIDDEN",
            "client_own": "FORBIDDEN",
            "client_other": "FORBIDDEN",
            "admin": "FORBIDDEN",
            "service": OK,
        },
    ),
]


@pytest.mark.parametrize(("name", "operation", "expected"), MATRIX, ids=[m[0] for m in MATRIX])
@pytest.mark.parametrize("caller", CALLERS)
def test_authorization_matrix(
    api: SubgraphClient,
    world: dict[str, str],
    caller: str,
    name: str,
    operation: Operation,
    expected: dict[str, str],
) -> None:
    query, variables = operation(world)
    body = api.gql(query, world[caller] or None, **variables)
    if expected[caller] == OK:
        assert "errors" not in body, (name, caller, body)
    else:
        assert body["errors"][0]["extensions"]["code"] == expected[caller], (name, caller, body)


def test_a_forged_or_expired_token_is_unauthenticated(api: SubgraphClient) -> None:
    expired = api.issuer.token("someone", "admin", ttl=-60)
    body = api.gql("{ userTotals { clients } }", expired)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "invalid token" in body["errors"][0]["message"]
    assert api.gql("{ viewer { __typename } }", "not-a-jwt")["data"]["viewer"] is None
