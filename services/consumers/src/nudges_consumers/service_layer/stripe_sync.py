"""Keeping Stripe and Nudges in step (SPEC §4).

Nudges → Stripe: a new client becomes a Stripe Customer, a plan a Product, a price tier a
Price (a changed amount is a new tier, hence a new Price; an archived tier's Price is
deactivated), a cancellation request sets ``cancel_at_period_end``. Idempotency keys derive
from the aggregate (``customer-<client>``, ``product-<plan>``, ``price-<tier>``), so the
same object is never created twice even when two events race to create it.

Stripe → Nudges: a completed checkout completes the PaymentApi session (which publishes
``payment.checkout.completed``, which activates the plan subscription in ProductApi);
subscription updates and deletions update it; paid invoices are recorded once per invoice;
failed payments mark the subscription past due.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import stripe

from nudges_consumers.adapters.graph import GraphError, PermanentGraphError
from nudges_consumers.bootstrap import Deps
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import payment, product, providers, user
from nudges_kit.logging import get_logger

log = get_logger(__name__)

PLAN = "query($id: ID!) { plan(id: $id) { id name description active stripeProductId } }"
SET_PRODUCT = """mutation($p: ID!, $s: String!) {
  setPlanStripeProduct(planId: $p, stripeProductId: $s) { id } }"""
SET_PRICE = """mutation($t: ID!, $s: String!) {
  setPriceTierStripePrice(priceTierId: $t, stripePriceId: $s) { id } }"""
SET_DISCOUNT = """mutation($d: ID!, $c: String!, $p: String!) {
  setDiscountStripeIds(id: $d, couponId: $c, promotionCodeId: $p) { id } }"""
COMPLETE_CHECKOUT = """mutation($s: String!, $sub: String!) {
  completeCheckoutSession(stripeSessionId: $s, stripeSubscriptionId: $sub) { id } }"""
EXPIRE_CHECKOUT = "mutation($s: String!) { expireCheckoutSession(stripeSessionId: $s) { id } }"
ACTIVATE = """mutation($i: ActivatePlanSubscriptionInput!) {
  activatePlanSubscription(input: $i) { id status } }"""
UPDATE_SUBSCRIPTION = """mutation($s: String!, $st: PlanSubscriptionStatus, $a: DateTime,
  $b: DateTime, $c: Boolean) { updatePlanSubscription(stripeSubscriptionId: $s, status: $st,
  currentPeriodStart: $a, currentPeriodEnd: $b, cancelAtPeriodEnd: $c) { id status } }"""
RECORD_PAYMENT = """mutation($i: RecordPaymentConfirmationInput!) {
  recordPaymentConfirmation(input: $i) { id } }"""

#: Stripe subscription statuses in the words of ``plan_subscriptions.status``.
STATUS = {
    "active": "ACTIVE",
    "trialing": "ACTIVE",
    "past_due": "PAST_DUE",
    "unpaid": "PAST_DUE",
    "incomplete": "INCOMPLETE",
    "incomplete_expired": "CANCELED",
    "canceled": "CANCELED",
    "paused": "PAST_DUE",
}


def _when(seconds: Any) -> str | None:
    return datetime.fromtimestamp(int(seconds), UTC).isoformat() if seconds else None


def _options(key: str) -> Any:
    return {"idempotency_key": key}


# --- Nudges → Stripe --------------------------------------------------------------------


async def create_customer(deps: Deps, envelope: Envelope, data: user.ClientData) -> None:
    """A new client gets its Stripe Customer (UserApi learns its id from Stripe's
    ``customer.created``, whose metadata names the client)."""
    if data.stripe_customer_id:
        return
    customer = await deps.stripe.v1.customers.create_async(
        {
            "name": data.name,
            "preferred_locales": [data.locale],
            "metadata": {"client_id": str(data.client_id), "slug": data.slug},
        },
        _options(f"customer-{data.client_id}"),
    )
    log.info("stripe customer created", client_id=str(data.client_id), customer=customer.id)


async def update_customer(deps: Deps, envelope: Envelope, data: user.ClientData) -> None:
    if not data.stripe_customer_id:
        await create_customer(deps, envelope, data)
        return
    await deps.stripe.v1.customers.update_async(
        data.stripe_customer_id,
        {"name": data.name, "preferred_locales": [data.locale]},
        _options(f"customer-update-{envelope.id}"),
    )


async def _ensure_product(deps: Deps, plan_id: str) -> str:
    """The Stripe Product of a plan, created (once) when missing."""
    found = (await deps.graph.product(PLAN, id=plan_id))["plan"]
    if found["stripeProductId"]:
        return str(found["stripeProductId"])
    params: dict[str, Any] = {
        "name": found["name"],
        "active": bool(found["active"]),
        "metadata": {"plan_id": plan_id},
    }
    if found["description"]:
        params["description"] = found["description"]
    created = await deps.stripe.v1.products.create_async(
        params,  # type: ignore[arg-type]
        _options(f"product-{plan_id}"),
    )
    await deps.graph.product(SET_PRODUCT, p=plan_id, s=created.id)
    return str(created.id)


async def sync_plan(deps: Deps, envelope: Envelope, data: product.PlanData) -> None:
    """Create the plan's Product, or bring its name, description and state up to date."""
    product_id = data.stripe_product_id or await _ensure_product(deps, str(data.plan_id))
    if envelope.type != product.plan_created.name or data.stripe_product_id:
        changes: dict[str, Any] = {
            "name": data.name,
            "active": data.active and envelope.type != product.plan_archived.name,
        }
        if data.description:
            changes["description"] = data.description
        await deps.stripe.v1.products.update_async(
            product_id,
            changes,  # type: ignore[arg-type]
            _options(f"product-update-{envelope.id}"),
        )


async def sync_price_tier(deps: Deps, envelope: Envelope, data: product.PriceTierData) -> None:
    """A new tier gets its Price (immutable in Stripe); an archived tier's Price is retired."""
    if envelope.type == product.price_tier_archived.name:
        if data.stripe_price_id:
            await deps.stripe.v1.prices.update_async(
                data.stripe_price_id, {"active": False}, _options(f"price-archive-{envelope.id}")
            )
        return
    if data.stripe_price_id:
        return
    product_id = await _ensure_product(deps, str(data.plan_id))
    price = await deps.stripe.v1.prices.create_async(
        {
            "product": product_id,
            "unit_amount": data.amount,
            "currency": data.currency.lower(),
            "recurring": {"interval": data.interval},
            "nickname": data.name,
            "metadata": {"price_tier_id": str(data.price_tier_id)},
        },
        _options(f"price-{data.price_tier_id}"),
    )
    await deps.graph.product(SET_PRICE, t=str(data.price_tier_id), s=price.id)


async def sync_discount(deps: Deps, envelope: Envelope, data: product.DiscountCodeData) -> None:
    """A discount code becomes a Stripe coupon with a promotion code of the same code; an
    archived one's promotion code is deactivated."""
    if envelope.type == product.discount_code_archived.name:
        if data.stripe_promotion_code_id:
            await deps.stripe.v1.promotion_codes.update_async(
                data.stripe_promotion_code_id,
                {"active": False},
                _options(f"promotion-archive-{envelope.id}"),
            )
        return
    if data.stripe_promotion_code_id:
        return
    terms: dict[str, Any] = {"duration": data.duration, "name": data.code}
    if data.percent_off is not None:
        terms["percent_off"] = data.percent_off
    else:
        terms["amount_off"] = data.amount_off
        terms["currency"] = (data.currency or "usd").lower()
    if data.duration_in_months:
        terms["duration_in_months"] = data.duration_in_months
    if data.max_redemptions:
        terms["max_redemptions"] = data.max_redemptions
    if data.expires_at:
        terms["redeem_by"] = int(data.expires_at.timestamp())
    coupon = await deps.stripe.v1.coupons.create_async(
        terms,  # type: ignore[arg-type]
        _options(f"coupon-{data.discount_code_id}"),
    )
    promotion = await deps.stripe.v1.promotion_codes.create_async(
        {
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "code": data.code,
            "metadata": {"discount_code_id": str(data.discount_code_id)},
        },  # type: ignore[typeddict-unknown-key]
        _options(f"promotion-{data.discount_code_id}"),
    )
    await deps.graph.product(
        SET_DISCOUNT, d=str(data.discount_code_id), c=coupon.id, p=promotion.id
    )


async def sync_cancellation(
    deps: Deps, envelope: Envelope, data: product.PlanSubscriptionData
) -> None:
    """A client asked to cancel: Stripe ends the subscription at the period's end."""
    if data.cancel_at_period_end and data.stripe_subscription_id and data.status != "canceled":
        await deps.stripe.v1.subscriptions.update_async(
            data.stripe_subscription_id,
            {"cancel_at_period_end": True},
            _options(f"cancel-{data.stripe_subscription_id}"),
        )


async def activate_subscription(
    deps: Deps, envelope: Envelope, data: payment.CheckoutCompletedData
) -> None:
    """A completed checkout activates the client's plan subscription."""
    if not data.stripe_subscription_id:
        raise PermanentError("the completed checkout carries no Stripe subscription")
    sub = await deps.stripe.v1.subscriptions.retrieve_async(data.stripe_subscription_id)
    start, end = _periods(sub.to_dict())
    await deps.graph.product(
        ACTIVATE,
        i={
            "clientId": str(data.client_id),
            "priceTierId": str(data.price_tier_id),
            "stripeSubscriptionId": data.stripe_subscription_id,
            "currentPeriodStart": start,
            "currentPeriodEnd": end,
        },
    )


def _periods(sub: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The subscription's current period, from its items: the pinned API version keeps the
    periods there, not on the subscription. Nudges sells one price per subscription, so
    the first item's period is the subscription's."""
    items = (sub.get("items") or {}).get("data") or []
    if not items:
        return None, None
    return _when(items[0].get("current_period_start")), _when(items[0].get("current_period_end"))


def _invoice_subscription(invoice: Mapping[str, Any]) -> Mapping[str, Any]:
    """``parent.subscription_details`` of an invoice (empty when a subscription did not
    bill it): the pinned API version has no ``invoice.subscription``."""
    parent = invoice.get("parent") or {}
    if parent.get("type") != "subscription_details":
        return {}
    details: Mapping[str, Any] = parent.get("subscription_details") or {}
    return details


def _billed_period(invoice: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The subscription period an invoice bills: its first line's ``period``."""
    lines = (invoice.get("lines") or {}).get("data") or []
    period = (lines[0].get("period") or {}) if lines else {}
    return _when(period.get("start")), _when(period.get("end"))


# --- Stripe → Nudges ---------------------------------------------------------------------


async def _client_of_invoice(deps: Deps, invoice: dict[str, Any]) -> str:
    details = _invoice_subscription(invoice)
    for holder in (invoice.get("metadata"), details.get("metadata")):
        if holder and holder.get("client_id"):
            return str(holder["client_id"])
    subscription_id = details.get("subscription")
    if subscription_id:
        sub = await deps.stripe.v1.subscriptions.retrieve_async(str(subscription_id))
        sub_metadata: dict[str, str] = sub.to_dict().get("metadata") or {}
        if sub_metadata.get("client_id"):
            return sub_metadata["client_id"]
    customer_id = invoice.get("customer")
    if customer_id:
        customer = await deps.stripe.v1.customers.retrieve_async(str(customer_id))
        customer_metadata: dict[str, str] = customer.to_dict().get("metadata") or {}
        if customer_metadata.get("client_id"):
            return customer_metadata["client_id"]
    raise PermanentError(f"invoice {invoice.get('id')} names no Nudges client")


async def handle_stripe_event(
    deps: Deps, envelope: Envelope, data: providers.StripeEventData
) -> None:
    """Route one verified Stripe event to the subgraph that records it."""
    obj = data.object
    kind = data.stripe_type
    if kind == "checkout.session.completed":
        if obj.get("mode") not in (None, "subscription") or not obj.get("subscription"):
            return
        await deps.graph.payment(COMPLETE_CHECKOUT, s=str(obj["id"]), sub=str(obj["subscription"]))
    elif kind == "checkout.session.expired":
        await deps.graph.payment(EXPIRE_CHECKOUT, s=str(obj["id"]))
    elif kind in ("customer.subscription.updated", "customer.subscription.deleted"):
        start, end = _periods(obj)
        status = "CANCELED" if kind.endswith("deleted") else STATUS.get(str(obj.get("status")))
        try:
            await deps.graph.product(
                UPDATE_SUBSCRIPTION,
                s=str(obj["id"]),
                st=status,
                a=start,
                b=end,
                c=bool(obj.get("cancel_at_period_end")),
            )
        except PermanentGraphError as exc:
            if exc.code != "NOT_FOUND":
                raise
            # The update beat the checkout's activation: retry until the subscription exists.
            raise GraphError("NOT_YET", f"subscription {obj['id']} is not active yet") from exc
    elif kind == "invoice.paid":
        await deps.graph.payment(
            RECORD_PAYMENT,
            i={
                "stripeInvoiceId": str(obj["id"]),
                "clientId": await _client_of_invoice(deps, obj),
                "amount": int(obj.get("amount_paid") or 0),
                "currency": str(obj.get("currency") or "usd"),
                "paidAt": _when(
                    (obj.get("status_transitions") or {}).get("paid_at") or obj.get("created")
                ),
            },
        )
    elif kind == "invoice.payment_failed":
        subscription_id = _invoice_subscription(obj).get("subscription")
        if subscription_id:
            # The period the invoice bills lets ProductApi ignore a late failure of an
            # earlier period's invoice.
            start, end = _billed_period(obj)
            await deps.graph.product(
                UPDATE_SUBSCRIPTION, s=str(subscription_id), st="PAST_DUE", a=start, b=end
            )


#: Stripe refusals that retrying cannot change (bad request, unknown object, bad key).
STRIPE_PERMANENT = (
    stripe.InvalidRequestError,
    stripe.AuthenticationError,
    stripe.PermissionError,
    stripe.CardError,
)


class StripeRefused(PermanentError):
    """Stripe refused the call for a reason retrying cannot fix."""


def _adapt(handler: Any, deps: Deps) -> Any:
    async def handle(envelope: Envelope, data: Any, _ctx: HandlerContext) -> None:
        try:
            await handler(deps, envelope, data)
        except STRIPE_PERMANENT as exc:
            raise StripeRefused(f"Stripe refused: {exc.user_message or exc}") from exc

    return handle


def consumers(deps: Deps) -> list[EventConsumer]:
    """The Stripe synchronisation groups."""
    common = {
        "settings": deps.settings,
        "pool": deps.pool,
        "max_attempts": deps.settings.max_attempts,
    }
    return [
        EventConsumer(
            group="stripe-sync-customers",
            handlers={
                user.client_created: _adapt(create_customer, deps),
                user.client_updated: _adapt(update_customer, deps),
            },
            **common,  # type: ignore[arg-type]
        ),
        EventConsumer(
            group="stripe-sync-catalog",
            handlers={
                product.plan_created: _adapt(sync_plan, deps),
                product.plan_updated: _adapt(sync_plan, deps),
                product.plan_archived: _adapt(sync_plan, deps),
                product.price_tier_created: _adapt(sync_price_tier, deps),
                product.price_tier_updated: _adapt(sync_price_tier, deps),
                product.price_tier_archived: _adapt(sync_price_tier, deps),
                product.discount_code_created: _adapt(sync_discount, deps),
                product.discount_code_archived: _adapt(sync_discount, deps),
            },
            **common,  # type: ignore[arg-type]
        ),
        EventConsumer(
            group="stripe-sync-subscriptions",
            handlers={
                payment.checkout_completed: _adapt(activate_subscription, deps),
                product.plan_subscription_updated: _adapt(sync_cancellation, deps),
            },
            **common,  # type: ignore[arg-type]
        ),
        EventConsumer(
            group="stripe-events",
            handlers={providers.stripe_event: _adapt(handle_stripe_event, deps)},
            **common,  # type: ignore[arg-type]
        ),
    ]
