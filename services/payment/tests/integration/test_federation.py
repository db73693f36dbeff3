"""PaymentApi as a federation subgraph: its SDL, and entities resolved by key in batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from nudges_devstack.testing import SubgraphClient

if TYPE_CHECKING:
    from conftest import Checkout, RecordPayment

ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { %s } }"


def test_the_sdl_declares_the_entities_by_id(api: SubgraphClient) -> None:
    sdl = api.ok("{ _service { sdl } }")["_service"]["sdl"]
    assert '@link(url: "https://specs.apollo.dev/federation/v2' in sdl
    for entity in ("CheckoutSession", "PaymentConfirmation", "Client"):
        assert f'type {entity} @key(fields: "id")' in sdl
    assert 'type PriceTier @key(fields: "id", resolvable: false)' in sdl
    assert "type PageInfo @shareable" in sdl
    # The Client entity belongs to UserApi: this subgraph adds only its payments.
    client_type = sdl.split('type Client @key(fields: "id")', 1)[1].split("}", 1)[0]
    assert "payments(" in client_type
    assert "name" not in client_type


def test_checkout_sessions_resolve_by_reference(api: SubgraphClient, checkout: Checkout) -> None:
    caller = checkout.client()
    sessions = [checkout.open(caller) for _ in range(3)]
    missing = str(uuid.uuid4())
    representations = [
        {"__typename": "CheckoutSession", "id": i} for i in [s["id"] for s in sessions] + [missing]
    ]
    found = api.ok(
        ENTITIES % "... on CheckoutSession { id url status client { id } priceTier { id } }",
        api.person("admin").token,
        r=representations,
    )["_entities"]
    assert found[:3] == [
        {
            "id": s["id"],
            "url": s["url"],
            "status": "OPEN",
            "client": {"id": caller.subject},
            "priceTier": {"id": s["priceTierId"]},
        }
        for s in sessions
    ]
    assert found[3] is None


def test_client_payments_resolve_for_many_clients_at_once(
    api: SubgraphClient, record_payment: RecordPayment
) -> None:
    clients = [api.person("client") for _ in range(3)]
    start = datetime(2027, 5, 1, tzinfo=UTC)
    for count, client in enumerate(clients, start=1):
        for n in range(count):
            record_payment(api, client.subject, start + timedelta(days=n), amount=100 * (n + 1))
    query = ENTITIES % (
        "... on Client { id payments(first: 2) { totalCount pageInfo { hasNextPage }"
        " nodes { amount client { id } } } }"
    )
    found = api.ok(
        query,
        api.person("admin").token,
        r=[{"__typename": "Client", "id": c.subject} for c in clients],
    )["_entities"]
    assert [(e["id"], e["payments"]["totalCount"]) for e in found] == [
        (c.subject, n) for n, c in enumerate(clients, start=1)
    ]
    assert [e["payments"]["pageInfo"]["hasNextPage"] for e in found] == [False, False, True]
    # Newest first, and only the client's own.
    assert [p["amount"] for p in found[2]["payments"]["nodes"]] == [300, 200]
    assert {p["client"]["id"] for p in found[2]["payments"]["nodes"]} == {clients[2].subject}


def test_a_client_sees_their_own_payments_through_the_client_entity(
    api: SubgraphClient,
) -> None:
    client = api.person("client")
    query = ENTITIES % "... on Client { payments { totalCount nodes { id } } }"
    found = api.ok(query, client.token, r=[{"__typename": "Client", "id": client.subject}])
    assert found["_entities"] == [{"payments": {"totalCount": 0, "nodes": []}}]


def test_an_unexpected_failure_is_masked(api: SubgraphClient) -> None:
    # A representation without its key makes the resolver fail in a way nobody planned for.
    body = api.gql(
        ENTITIES % "... on CheckoutSession { id }",
        api.person("admin").token,
        r=[{"__typename": "CheckoutSession"}],
    )
    assert body["errors"][0]["message"] == "internal error"
    assert body["errors"][0]["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
