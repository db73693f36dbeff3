"""planUpdated over graphql-transport-ws: a subscriber sees each change of a plan and its
tiers, pushed through PostgreSQL NOTIFY once the change commits."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient

if TYPE_CHECKING:
    from conftest import Shop

SUBSCRIBE = """
subscription($id: ID) { planUpdated(id: $id) { id name tiers { amount } } }
"""


def wait_for(check: Any, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def test_plan_updated_pushes_changes_of_the_plan_and_its_tiers(
    api: SubgraphClient, shop: Shop
) -> None:
    plan = shop.plan(name="Live", tiers=((900, "usd", "MONTH"),))
    other = shop.plan(name="Elsewhere")
    changes = api.client.app.state.plan_changes
    wait_for(changes.listening.is_set)
    listeners = changes.subscriber_count

    with api.client.websocket_connect("/graphql", subprotocols=["graphql-transport-ws"]) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"id": plan["id"]}},
            }
        )
        wait_for(lambda: changes.subscriber_count > listeners)

        api.ok(
            'mutation($id: ID!) { updatePlan(id: $id, input: {name: "Other"}) { id } }',
            shop.admin,
            id=other["id"],
        )
        api.ok(
            'mutation($id: ID!) { updatePlan(id: $id, input: {name: "Live 2"}) { id } }',
            shop.admin,
            id=plan["id"],
        )
        renamed = ws.receive_json()
        shop.tier(plan["id"], 1500, "usd", "YEAR")
        priced = ws.receive_json()
        ws.send_json({"id": "1", "type": "complete"})

    assert renamed == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": {
                "planUpdated": {"id": plan["id"], "name": "Live 2", "tiers": [{"amount": 900}]}
            }
        },
    }
    assert priced["payload"]["data"]["planUpdated"]["tiers"] == [{"amount": 900}, {"amount": 1500}]
    wait_for(lambda: changes.subscriber_count == listeners)


@pytest.mark.parametrize(
    ("caller", "sees_archived"),
    [
        ("anonymous", False),
        ("subscriber", False),
        ("client", False),
        ("admin", True),
        ("service", True),
    ],
)
def test_an_archived_plan_is_pushed_to_staff_only(
    api: SubgraphClient, shop: Shop, caller: str, sees_archived: bool
) -> None:
    retiring, live = shop.plan(name="Retiring"), shop.plan(name="Still on sale")
    token = {
        "anonymous": None,
        "subscriber": shop.subscriber,
        "client": shop.client_token(str(uuid.uuid4())),
        "admin": shop.admin,
        "service": shop.service,
    }[caller]
    changes = api.client.app.state.plan_changes
    listeners = changes.subscriber_count
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"], headers=headers
    ) as ws:
        ws.send_json({"type": "connection_init", "payload": {}})
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { planUpdated { id active } }"},
            }
        )
        wait_for(lambda: changes.subscriber_count > listeners)
        # Archived first, then a change everyone may see: the first push tells who saw what.
        api.ok("mutation($id: ID!) { archivePlan(id: $id) { id } }", shop.admin, id=retiring["id"])
        api.ok(
            'mutation($id: ID!) { updatePlan(id: $id, input: {name: "Renamed"}) { id } }',
            shop.admin,
            id=live["id"],
        )
        # Other plans of the session may change meanwhile (their Stripe ids arrive from
        # stripe.events): the first push about one of these two tells who saw what.
        ours = {retiring["id"], live["id"]}
        first = ws.receive_json()["payload"]["data"]["planUpdated"]
        while first["id"] not in ours:
            first = ws.receive_json()["payload"]["data"]["planUpdated"]
        ws.send_json({"id": "1", "type": "complete"})

    if sees_archived:
        assert first == {"id": retiring["id"], "active": False}
    else:
        assert first == {"id": live["id"], "active": True}


def test_a_malformed_plan_id_is_refused_with_its_code(api: SubgraphClient) -> None:
    """A subscription's refusal carries ``extensions.code`` as a query's does."""
    refused = api.first_push(None, SUBSCRIBE, {"id": "not-a-plan-id"}, lambda: None)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["BAD_USER_INPUT"], refused
