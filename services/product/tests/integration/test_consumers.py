"""ProductApi's own consumers, through the real broker: Stripe's news about one subscription
converges on one state whatever order its events arrive in; Stripe ids of the catalogue are
learnt from ``stripe.events``; an announcement's usage is counted once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import payment, user

if TYPE_CHECKING:
    from conftest import Publisher, Shop

START = datetime(2031, 1, 10, tzinfo=UTC)
END = START + timedelta(days=31)


def _story(publisher: Publisher, client_id: str, tier_id: str) -> dict[str, Envelope]:
    """A checkout as Stripe tells it: the checkout completed (PaymentApi), the first invoice
    paid (PaymentApi), the subscription updated to cancel at the period's end (Webhooks)."""
    sid = f"sub_{uuid.uuid4().hex}"
    client, tier = uuid.UUID(client_id), uuid.UUID(tier_id)
    completed = payment.checkout_completed.envelope(
        str(uuid.uuid4()),
        payment.CheckoutCompletedData(
            checkout_session_id=uuid.uuid4(),
            client_id=client,
            price_tier_id=tier,
            stripe_session_id=f"cs_{uuid.uuid4().hex}",
            stripe_subscription_id=sid,
        ),
    )
    paid = payment.invoice_paid.envelope(
        sid,
        payment.InvoiceData(
            stripe_invoice_id=f"in_{uuid.uuid4().hex}",
            stripe_subscription_id=sid,
            client_id=client,
            price_tier_id=tier,
            period_start=START,
            period_end=END,
            amount=900,
            currency="usd",
        ),
    )
    updated = publisher.stripe(
        "customer.subscription.updated",
        {
            "id": sid,
            "object": "subscription",
            "status": "active",
            "cancel_at_period_end": True,
            "metadata": {"client_id": client_id, "price_tier_id": tier_id},
            "items": {
                "data": [
                    {
                        "current_period_start": int(START.timestamp()),
                        "current_period_end": int(END.timestamp()),
                    }
                ]
            },
        },
    )
    return {"completed": completed, "paid": paid, "updated": updated}


def _stored(api: SubgraphClient, client_id: str) -> list[tuple[Any, ...]]:
    return api.sql(
        "SELECT status, current_period_start, current_period_end, cancel_at_period_end,"
        " price_tier_id::text FROM plan_subscriptions WHERE client_id = %s",
        client_id,
    )


@pytest.mark.parametrize(
    "order",
    [
        ("completed", "paid", "updated"),
        ("updated", "paid", "completed"),
        ("paid", "completed", "updated"),
    ],
)
def test_a_subscriptions_news_converges_whatever_order_it_arrives_in(
    api: SubgraphClient, shop: Shop, publisher: Publisher, order: tuple[str, ...]
) -> None:
    client_id = str(uuid.uuid4())
    tier_id = shop.plan()["tiers"][0]
    story = _story(publisher, client_id, tier_id)
    for name in order:
        # One at a time: the three come from two topics, read by two consumer groups.
        publisher.send(story[name])
        publisher.handled(story[name])
    publisher.send(story[order[0]])  # a redelivery of the first
    publisher.handled(story[order[0]])

    assert _stored(api, client_id) == [("active", START, END, True, tier_id)]
    events = [t for t, _ in shop.outbox(client_id)]
    assert events[0] == "product.plan-subscription.activated"
    assert events.count("product.plan-subscription.activated") == 1


def test_a_deleted_subscription_stays_canceled_when_older_news_comes_late(
    api: SubgraphClient, shop: Shop, publisher: Publisher
) -> None:
    client_id = str(uuid.uuid4())
    story = _story(publisher, client_id, shop.plan()["tiers"][0])
    subscription = story["updated"].data["object"]
    deleted = publisher.stripe(
        "customer.subscription.deleted", {**subscription, "status": "canceled"}
    )
    for envelope in (story["paid"], deleted, story["completed"], story["updated"]):
        publisher.send(envelope)
        publisher.handled(envelope)

    assert [row[0] for row in _stored(api, client_id)] == ["canceled"]
    assert [t for t, _ in shop.outbox(client_id)][-1] == "product.plan-subscription.canceled"


def test_a_failed_renewal_makes_it_past_due_and_a_late_failure_changes_nothing(
    api: SubgraphClient, shop: Shop, publisher: Publisher
) -> None:
    client_id = str(uuid.uuid4())
    tier_id = shop.plan()["tiers"][0]
    story = _story(publisher, client_id, tier_id)
    paid = payment.InvoiceData.model_validate(story["paid"].data)
    renewal = paid.model_copy(
        update={
            "stripe_invoice_id": f"in_{uuid.uuid4().hex}",
            "period_start": END,
            "period_end": END + timedelta(days=28),
        }
    )
    failed = payment.invoice_failed.envelope(paid.stripe_subscription_id, renewal)
    late = payment.invoice_failed.envelope(paid.stripe_subscription_id, paid)
    for envelope in (story["paid"], failed, late):
        publisher.send(envelope)
        publisher.handled(envelope)

    assert _stored(api, client_id) == [("past_due", END, END + timedelta(days=28), False, tier_id)]


def test_stripe_ids_of_the_catalogue_are_learnt_from_stripe_events(
    api: SubgraphClient, shop: Shop, publisher: Publisher
) -> None:
    plan = shop.plan()
    tier_id = plan["tiers"][0]
    discount_id = shop.discount()
    product_id, price_id = f"prod_{uuid.uuid4().hex[:12]}", f"price_{uuid.uuid4().hex[:12]}"
    coupon_id, promotion_id = f"co_{uuid.uuid4().hex[:12]}", f"promo_{uuid.uuid4().hex[:12]}"
    envelopes = [
        publisher.stripe(
            "product.created", {"id": product_id, "metadata": {"plan_id": plan["id"]}}
        ),
        publisher.stripe("price.created", {"id": price_id, "metadata": {"price_tier_id": tier_id}}),
        publisher.stripe(
            "promotion_code.created",
            {
                "id": promotion_id,
                "promotion": {"type": "coupon", "coupon": coupon_id},
                "metadata": {"discount_code_id": discount_id},
            },
        ),
        # Not Nudges': its metadata names nothing.
        publisher.stripe("product.created", {"id": "prod_elsewhere", "metadata": {}}),
    ]
    publisher.send(*envelopes)
    publisher.handled(*envelopes)

    assert api.sql("SELECT stripe_product_id FROM plans WHERE id = %s", plan["id"]) == [
        (product_id,)
    ]
    assert api.sql("SELECT stripe_price_id FROM price_tiers WHERE id = %s", tier_id) == [
        (price_id,)
    ]
    assert api.sql(
        "SELECT stripe_coupon_id, stripe_promotion_code_id FROM discount_codes WHERE id = %s",
        discount_id,
    ) == [(coupon_id, promotion_id)]


def test_an_announcements_segments_are_counted_once(
    api: SubgraphClient, shop: Shop, publisher: Publisher
) -> None:
    client_id = str(uuid.uuid4())
    shop.subscribe(client_id, shop.plan(messages_per_period=100)["tiers"][0])
    completed = user.AnnouncementCompletedData(
        announcement_id=uuid.uuid4(),
        client_id=uuid.UUID(client_id),
        recipients=7,
        sent=7,
        delivered=6,
        failed=1,
        stopped=0,
        segments=9,
        completed_at=datetime.now(UTC),
    )
    first = user.announcement_completed.envelope(str(completed.announcement_id), completed)
    # A second event about the same announcement (say, a replay from the dead-letter topic).
    again = user.announcement_completed.envelope(str(completed.announcement_id), completed)
    publisher.send(first, first, again)
    publisher.handled(first, again)

    allowance = api.ok(
        "query($id: ID!) { allowance(clientId: $id) { used remaining } }",
        shop.service,
        id=client_id,
    )["allowance"]
    assert allowance == {"used": 9, "remaining": 91}
