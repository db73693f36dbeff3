"""A client's Stripe customer, learned from Stripe's own events (``stripe.events``): the
``customer.created`` / ``customer.updated`` whose ``metadata.client_id`` names the client.

The consumers create the customer when a client is created; Stripe's event tells UserApi its
id, so no service writes it here through a mutation. The first customer recorded stays (a
second one would be a duplicate), unless the new one's ``metadata.replaces`` names it: the
consumers created it because Stripe no longer knows the recorded one. No
``user.client.updated`` is published, so that the consumers do not sync the customer back to
Stripe.
"""

from __future__ import annotations

from uuid import UUID

from nudges_kit.events.catalog import providers
from nudges_kit.logging import get_logger
from nudges_user.adapters import repository as repo
from nudges_user.service_layer.services import CLIENT_UPDATED
from nudges_user.service_layer.unit_of_work import UnitOfWork

log = get_logger(__name__)

#: The Stripe events that name a customer and its client.
CUSTOMER_EVENTS = frozenset({"customer.created", "customer.updated"})


async def learn_customer(uow: UnitOfWork, data: providers.StripeEventData) -> str | None:
    """Record the customer of the client its metadata names, in the unit of work's
    transaction;
    the client's customer after it, None when the event names no client of ours."""
    if data.stripe_type not in CUSTOMER_EVENTS:
        return None
    customer_id = data.object.get("id")
    metadata = data.object.get("metadata") or {}
    client_id = metadata.get("client_id")
    replaces = metadata.get("replaces")
    if not isinstance(customer_id, str) or not client_id:
        return None
    try:
        cid = UUID(str(client_id))
    except ValueError:
        log.warning("stripe customer names no client id", customer=customer_id)
        return None
    recorded = await repo.learn_stripe_customer(
        uow.conn, cid, customer_id, replaces if isinstance(replaces, str) else None
    )
    if recorded is None:
        log.warning("stripe customer of an unknown client", customer=customer_id)
        return None
    if recorded != customer_id:
        log.warning("a second stripe customer of a client, kept the first", customer=customer_id)
        return recorded
    await uow.notify(CLIENT_UPDATED, str(cid))
    return recorded
