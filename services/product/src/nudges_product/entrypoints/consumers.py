"""ProductApi's consumers: the events that change its own data, applied to productdb in the
consumer's transaction (which also records the handled event, so a redelivered event
changes nothing).

- ``payment.checkouts`` (PaymentApi): a completed checkout stores the plan subscription, a
  paid invoice moves its period, a failed one makes it past due.
- ``stripe.events`` (Webhooks): a subscription updated or deleted; a product, price or
  promotion code whose ``metadata`` names a plan, price tier or discount code (its Stripe
  ids are recorded).
- ``user.announcements`` (UserApi): a completed announcement's SMS segments are counted
  against its client's allowance, once per announcement.

News about one Stripe subscription arrives in any order and converges on the same state
(:func:`nudges_product.domain.subscriptions.apply_news`); nothing waits for anything.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID

from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.errors import Conflict, DomainError
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import payment, providers, user
from nudges_kit.logging import get_logger
from nudges_kit.stripe_objects import SUBSCRIPTION_STATUS, moment, subscription_period
from nudges_product.domain.subscriptions import SubscriptionNews
from nudges_product.service_layer import discounts, plans, subscriptions, usage

log = get_logger(__name__)

SUBSCRIPTIONS_GROUP = "product-subscriptions"
STRIPE_GROUP = "product-stripe-events"
USAGE_GROUP = "product-usage"


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value)) if value else None
    except ValueError:
        return None


async def checkout_completed(conn: Any, data: payment.CheckoutCompletedData) -> None:
    """A paid checkout: its subscription exists, under this client and tier."""
    if not data.stripe_subscription_id:
        raise PermanentError("the completed checkout carries no Stripe subscription")
    await subscriptions.apply_subscription_news(
        conn,
        SubscriptionNews(
            stripe_subscription_id=data.stripe_subscription_id,
            client_id=data.client_id,
            price_tier_id=data.price_tier_id,
            status="active",
            only_when_new=True,
        ),
    )


async def invoice_paid(conn: Any, data: payment.InvoiceData) -> None:
    """A paid invoice: the subscription is active for the period it billed."""
    await subscriptions.apply_subscription_news(conn, _invoice_news(data, "active"))


async def invoice_failed(conn: Any, data: payment.InvoiceData) -> None:
    """A failed invoice: past due for the period it bills (a late failure of an earlier
    period's invoice changes nothing)."""
    await subscriptions.apply_subscription_news(conn, _invoice_news(data, "past_due"))


def _invoice_news(data: payment.InvoiceData, status: Any) -> SubscriptionNews:
    return SubscriptionNews(
        stripe_subscription_id=data.stripe_subscription_id,
        client_id=data.client_id,
        price_tier_id=data.price_tier_id,
        status=status,
        current_period_start=data.period_start,
        current_period_end=data.period_end,
    )


def subscription_news(kind: str, sub: Mapping[str, Any]) -> SubscriptionNews:
    """What a ``customer.subscription.created``, ``.updated`` or ``.deleted`` event says
    (the tier its metadata names is the one Stripe bills: a plan change sets it)."""
    metadata = sub.get("metadata") or {}
    start, end = subscription_period(sub)
    reported = SUBSCRIPTION_STATUS.get(str(sub.get("status")))
    status = "canceled" if kind.endswith("deleted") else reported
    return SubscriptionNews(
        stripe_subscription_id=str(sub["id"]),
        client_id=_uuid(metadata.get("client_id")),
        price_tier_id=_uuid(metadata.get("price_tier_id")),
        status=status,  # type: ignore[arg-type]
        current_period_start=start,
        current_period_end=end,
        cancel_at_period_end=bool(sub.get("cancel_at_period_end")),
        trial_ends_at=moment(sub.get("trial_end")),
    )


SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)


async def stripe_subscription_event(conn: Any, data: providers.StripeEventData) -> None:
    """A subscription created, updated or deleted in Stripe, or its trial about to end."""
    if data.stripe_type == "customer.subscription.trial_will_end":
        await subscriptions.announce_trial_end(
            conn, subscription_news(data.stripe_type, data.object)
        )
    elif data.stripe_type in SUBSCRIPTION_EVENTS:
        await subscriptions.apply_subscription_news(
            conn, subscription_news(data.stripe_type, data.object)
        )


async def stripe_catalog_event(conn: Any, data: providers.StripeEventData) -> None:
    """A Stripe object the consumers created for a plan, tier or discount code: its id is
    recorded (objects whose metadata names no Nudges id are not Nudges')."""
    obj = data.object
    metadata = obj.get("metadata") or {}
    try:
        if data.stripe_type == "product.created" and (plan_id := _uuid(metadata.get("plan_id"))):
            await plans.set_plan_stripe_product(
                conn, plan_id, str(obj["id"]), replaces=metadata.get("replaces")
            )
        elif data.stripe_type == "price.created" and (
            tier_id := _uuid(metadata.get("price_tier_id"))
        ):
            await plans.set_price_tier_stripe_price(
                conn, tier_id, str(obj["id"]), replaces=metadata.get("replaces")
            )
        elif data.stripe_type == "promotion_code.created" and (
            discount_id := _uuid(metadata.get("discount_code_id"))
        ):
            coupon = (obj.get("promotion") or {}).get("coupon") or obj.get("coupon")
            coupon_id = coupon.get("id") if isinstance(coupon, Mapping) else coupon
            if not coupon_id:
                raise PermanentError(f"promotion code {obj['id']} names no coupon")
            await discounts.set_discount_stripe_ids(
                conn, discount_id, str(coupon_id), str(obj["id"])
            )
    except Conflict as exc:
        # Another Stripe object is recorded already: a duplicate that needs a person.
        raise PermanentError(exc.message) from exc


async def stripe_event(conn: Any, data: providers.StripeEventData) -> None:
    """One verified Stripe event; the kinds ProductApi does not own are ignored."""
    await stripe_subscription_event(conn, data)
    await stripe_catalog_event(conn, data)


async def announcement_completed(conn: Any, data: user.AnnouncementCompletedData) -> None:
    """The announcement's SMS segments, counted once (keyed by the announcement's id)."""
    if data.segments <= 0:
        return
    await usage.record_usage(conn, data.client_id, data.segments, str(data.announcement_id))


def _handler(
    apply: Callable[[Any, Any], Awaitable[None]],
) -> Callable[[Envelope, Any, HandlerContext], Awaitable[None]]:
    async def handle(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        try:
            await apply(ctx.conn, data)
        except Conflict:
            raise  # a concurrent delivery stored it meanwhile: the retry applies to it
        except DomainError as exc:
            # Unknown tier or subscription, a bad value: retrying cannot change it.
            raise PermanentError(exc.message) from exc

    return handle


def event_consumers(settings: Any, pool: Any) -> list[EventConsumer]:
    """The consumer groups ProductApi runs in its own process."""
    common: dict[str, Any] = {"settings": settings, "pool": pool}
    return [
        EventConsumer(
            group=SUBSCRIPTIONS_GROUP,
            handlers={
                payment.checkout_completed: _handler(checkout_completed),
                payment.invoice_paid: _handler(invoice_paid),
                payment.invoice_failed: _handler(invoice_failed),
            },
            **common,
        ),
        EventConsumer(
            group=STRIPE_GROUP,
            handlers={providers.stripe_event: _handler(stripe_event)},
            **common,
        ),
        EventConsumer(
            group=USAGE_GROUP,
            handlers={user.announcement_completed: _handler(announcement_completed)},
            **common,
        ),
    ]
