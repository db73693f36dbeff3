"""A client's Stripe customer learned from Stripe's own events (``stripe.events``): the
customer whose metadata names the client is recorded once, the first one stays, and events of
other objects or of unknown clients change nothing."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events.catalog import providers

if TYPE_CHECKING:
    from conftest import Publish

CUSTOMER = "query($id: ID!) { client(id: $id) { stripeCustomerId } }"


def stripe_event(publish: Publish, stripe_type: str, obj: dict[str, Any]) -> uuid.UUID:
    data = providers.StripeEventData(
        stripe_event_id=f"evt_{uuid.uuid4().hex}", stripe_type=stripe_type, object=obj
    )
    return publish(providers.stripe_event, str(obj.get("id")), data)


def handled(api: SubgraphClient, event_id: uuid.UUID) -> None:
    deadline = time.monotonic() + 30
    while not api.sql("SELECT 1 FROM handled_events WHERE event_id = %s", event_id):
        assert time.monotonic() < deadline, "the event was not handled"
        time.sleep(0.1)


def test_the_customer_whose_metadata_names_the_client_is_recorded_once(
    api: SubgraphClient, publish: Publish
) -> None:
    owner = api.person("client")
    slug = f"cust-{uuid.uuid4().hex[:8]}"
    api.ok(
        'mutation($s: String!) { createClient(input: {name: "Cust", slug: $s}) { id } }',
        owner.token,
        s=slug,
    )
    service = api.service_token()
    assert api.ok(CUSTOMER, service, id=owner.subject)["client"]["stripeCustomerId"] is None

    meta = {"client_id": owner.subject, "slug": slug}
    # Another object's event, and a customer of nobody here: nothing recorded.
    handled(api, stripe_event(publish, "product.created", {"id": "prod_1", "metadata": meta}))
    stranger = {"client_id": str(uuid.uuid4())}
    handled(api, stripe_event(publish, "customer.created", {"id": "cus_x", "metadata": stranger}))
    assert api.ok(CUSTOMER, service, id=owner.subject)["client"]["stripeCustomerId"] is None

    first = f"cus_{uuid.uuid4().hex[:12]}"
    handled(api, stripe_event(publish, "customer.created", {"id": first, "metadata": meta}))
    assert api.ok(CUSTOMER, service, id=owner.subject)["client"]["stripeCustomerId"] == first
    # Its update changes nothing; a second customer (a duplicate) does not replace it.
    handled(api, stripe_event(publish, "customer.updated", {"id": first, "metadata": meta}))
    other = f"cus_{uuid.uuid4().hex[:12]}"
    handled(api, stripe_event(publish, "customer.created", {"id": other, "metadata": meta}))
    assert api.ok(CUSTOMER, service, id=owner.subject)["client"]["stripeCustomerId"] == first
    # No event of the client is published for it: the consumers do not sync it back.
    updates = api.sql(
        "SELECT count(*) FROM outbox WHERE key = %s AND event_type = 'user.client.updated'",
        owner.subject,
    )
    assert updates == [(0,)]
