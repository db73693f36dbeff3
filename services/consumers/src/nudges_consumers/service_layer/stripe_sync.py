"""Keeping Stripe in step with Nudges (SPEC §4): this service only talks to Stripe.

A new client becomes a Stripe Customer, a plan a Product, a price tier a Price (a changed
amount is a new tier, hence a new Price; an archived tier's Price is deactivated), a
discount code a coupon with a promotion code, a cancellation request sets
``cancel_at_period_end``, a plan change moves the subscription's item to the new Price.
Idempotency keys derive from the aggregate (``customer-<client>``,
``product-<plan>``, ``price-<tier>``, ``coupon-<code>``, ``promotion-<code>``), so the same
object is never created twice even when two events race to create it: a second create with
the key returns the first object.

Every object carries the Nudges id in its ``metadata`` (``plan_id``, ``price_tier_id``,
``discount_code_id``): its owner learns the Stripe id from the ``*.created`` event on
``stripe.events``. What Stripe says about checkouts, invoices and subscriptions is consumed
by PaymentApi and ProductApi themselves.

An id Stripe answers ``resource_missing`` for (the account was switched, or the local
emulator's state was wiped) is treated as absent: the object is created again, and its owner
learns the new id from the ``*.created`` event as it learnt the first.
"""

from __future__ import annotations

from typing import Any

import stripe

from nudges_consumers.bootstrap import Deps
from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import product, user
from nudges_kit.logging import get_logger
from nudges_kit.operations import product as product_ops

log = get_logger(__name__)


def _options(key: str) -> Any:
    return {"idempotency_key": key}


def _missing(exc: stripe.InvalidRequestError, param: str | None = None) -> bool:
    """Stripe does not know the object the call named (at ``param``, when given)."""
    return exc.code == "resource_missing" and (param is None or exc.param == param)


# --- Nudges → Stripe --------------------------------------------------------------------


def _replacing(metadata: dict[str, str], stale: str | None) -> dict[str, str]:
    """The metadata of a Stripe object, naming in ``replaces`` the lost one it stands for:
    the owner records the new id only in place of that one."""
    return {**metadata, "replaces": stale} if stale else metadata


async def create_customer(
    deps: Deps, envelope: Envelope, data: user.ClientData, replacing: str | None = None
) -> None:
    """A new client gets its Stripe Customer (UserApi learns its id from Stripe's
    ``customer.created``, whose metadata names the client); so does one whose recorded
    Customer Stripe does not know (``replacing`` it)."""
    if data.stripe_customer_id and replacing is None:
        return
    key = f"customer-{data.client_id}"
    if replacing is not None:
        key += f"-replacing-{replacing}"
    customer = await deps.stripe.v1.customers.create_async(
        {
            "name": data.name,
            "preferred_locales": [data.locale],
            "metadata": _replacing(
                {"client_id": str(data.client_id), "slug": data.slug}, replacing
            ),
        },
        _options(key),
    )
    log.info("stripe customer created", client_id=str(data.client_id), customer=customer.id)


async def update_customer(deps: Deps, envelope: Envelope, data: user.ClientData) -> None:
    """Bring the customer's name and locale up to date; a client without a customer (or with
    one Stripe does not know) gets a new one."""
    if data.stripe_customer_id:
        try:
            await deps.stripe.v1.customers.update_async(
                data.stripe_customer_id,
                {"name": data.name, "preferred_locales": [data.locale]},
                _options(f"customer-update-{envelope.id}"),
            )
            return
        except stripe.InvalidRequestError as exc:
            if not _missing(exc):
                raise
            log.warning(
                "stripe customer missing, creating it again",
                client_id=str(data.client_id),
                customer=data.stripe_customer_id,
            )
    await create_customer(deps, envelope, data, replacing=data.stripe_customer_id)


async def _ensure_product(deps: Deps, plan_id: str, stale: str | None = None) -> str:
    """The Stripe Product of a plan: the one ProductApi recorded, else created (once).

    The create carries only what never changes for a plan, under the key ``product-<plan>``:
    a second create (ProductApi has not recorded the id from ``product.created`` yet, even
    if the plan was renamed meanwhile) is the same request, and Stripe answers it with the
    Product the first one made. :func:`sync_plan` then sets the name, description and state.
    A recorded id Stripe does not know (``stale``) is treated as none: the Product is created
    again under a key naming the id it replaces, so that it is one new Product per lost one.
    """
    found = await deps.subgraphs.call(
        product_ops.plan_stripe_product, product_ops.PlanVars(id=plan_id)
    )
    if found.stripe_product_id and found.stripe_product_id != stale:
        return found.stripe_product_id
    key = f"product-{plan_id}" if stale is None else f"product-{plan_id}-replacing-{stale}"
    created = await deps.stripe.v1.products.create_async(
        {"name": f"Nudges plan {plan_id}", "metadata": _replacing({"plan_id": plan_id}, stale)},
        _options(key),
    )
    if stale is not None:
        log.warning("stripe product missing, created again", plan_id=plan_id, product=created.id)
    return str(created.id)


async def sync_plan(deps: Deps, envelope: Envelope, data: product.PlanData) -> None:
    """Create the plan's Product when it has none (or Stripe does not know it), and bring its
    name, description and state up to date."""
    plan_id = str(data.plan_id)
    product_id = data.stripe_product_id or await _ensure_product(deps, plan_id)
    changes: dict[str, Any] = {
        "name": data.name,
        "active": data.active and envelope.type != product.plan_archived.name,
    }
    if data.description:
        changes["description"] = data.description
    try:
        await deps.stripe.v1.products.update_async(
            product_id,
            changes,  # type: ignore[arg-type]
            _options(f"product-update-{envelope.id}"),
        )
    except stripe.InvalidRequestError as exc:
        if not _missing(exc):
            raise
        product_id = await _ensure_product(deps, plan_id, stale=product_id)
        await deps.stripe.v1.products.update_async(
            product_id,
            changes,  # type: ignore[arg-type]
            _options(f"product-update-{envelope.id}-{product_id}"),
        )


async def _price_known(deps: Deps, price_id: str) -> bool:
    """Whether Stripe knows the Price (False: ``resource_missing``)."""
    try:
        await deps.stripe.v1.prices.retrieve_async(price_id)
    except stripe.InvalidRequestError as exc:
        if _missing(exc):
            return False
        raise
    return True


async def sync_price_tier(deps: Deps, envelope: Envelope, data: product.PriceTierData) -> None:
    """A new tier gets its Price (immutable in Stripe); an archived tier's Price is retired.
    A tier whose recorded Price Stripe does not know gets a new one (an archived tier needs
    none)."""
    stale = None
    if envelope.type == product.price_tier_archived.name:
        if data.stripe_price_id:
            try:
                await deps.stripe.v1.prices.update_async(
                    data.stripe_price_id,
                    {"active": False},
                    _options(f"price-archive-{envelope.id}"),
                )
            except stripe.InvalidRequestError as exc:
                if not _missing(exc):
                    raise
                log.info("archived tier's stripe price unknown", price=data.stripe_price_id)
        return
    if data.stripe_price_id:
        if await _price_known(deps, data.stripe_price_id):
            return
        stale = data.stripe_price_id
    await _create_price(deps, data, stale)


async def _create_price(deps: Deps, data: product.PriceTierData, stale: str | None) -> None:
    """The tier's Price, on the plan's Product (created again when Stripe lost that too)."""
    plan_id = str(data.plan_id)
    key = f"price-{data.price_tier_id}"
    if stale is not None:
        key += f"-replacing-{stale}"
        log.warning("stripe price missing, creating it again", price=stale, plan_id=plan_id)
    product_id = await _ensure_product(deps, plan_id)
    for attempt in range(2):
        try:
            await deps.stripe.v1.prices.create_async(
                {
                    "product": product_id,
                    "unit_amount": data.amount,
                    "currency": data.currency.lower(),
                    "recurring": {"interval": data.interval},
                    "nickname": data.name,
                    "metadata": _replacing({"price_tier_id": str(data.price_tier_id)}, stale),
                },
                _options(key if attempt == 0 else f"{key}-on-{product_id}"),
            )
            return
        except stripe.InvalidRequestError as exc:
            if attempt or not _missing(exc, "product"):
                raise
            product_id = await _ensure_product(deps, plan_id, stale=product_id)


async def sync_discount(deps: Deps, envelope: Envelope, data: product.DiscountCodeData) -> None:
    """A discount code becomes a Stripe coupon with a promotion code of the same code; an
    archived one's promotion code is deactivated."""
    if envelope.type == product.discount_code_archived.name:
        if data.stripe_promotion_code_id:
            try:
                await deps.stripe.v1.promotion_codes.update_async(
                    data.stripe_promotion_code_id,
                    {"active": False},
                    _options(f"promotion-archive-{envelope.id}"),
                )
            except stripe.InvalidRequestError as exc:
                # Nothing to deactivate in an account that never had it.
                if not _missing(exc):
                    raise
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
    terms["metadata"] = {"discount_code_id": str(data.discount_code_id)}
    coupon = await deps.stripe.v1.coupons.create_async(
        terms,  # type: ignore[arg-type]
        _options(f"coupon-{data.discount_code_id}"),
    )
    await deps.stripe.v1.promotion_codes.create_async(
        {
            "promotion": {"type": "coupon", "coupon": coupon.id},
            "code": data.code,
            "metadata": {"discount_code_id": str(data.discount_code_id)},
        },  # type: ignore[typeddict-unknown-key]
        _options(f"promotion-{data.discount_code_id}"),
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


async def sync_plan_change(deps: Deps, envelope: Envelope, data: product.PlanChangeData) -> None:
    """A client changed tier: the subscription's item moves to the new Price, with the
    prorations invoiced and charged at once (``always_invoice``, an upgrade) or none (a
    downgrade: the next period is billed at the new price; a withdrawn downgrade names the
    tier in force, whose Price the item moves back to). The subscription's metadata names
    the new tier, so that ProductApi knows from Stripe's ``customer.subscription.updated``
    and invoices which tier Stripe bills. A redelivery finds the price already in place."""
    subscription = await deps.stripe.v1.subscriptions.retrieve_async(data.stripe_subscription_id)
    item = subscription["items"].data[0]
    if item.price.id == data.stripe_price_id:
        return
    await deps.stripe.v1.subscriptions.update_async(
        data.stripe_subscription_id,
        {
            "items": [{"id": item.id, "price": data.stripe_price_id}],
            "proration_behavior": data.proration_behavior,
            "metadata": {"price_tier_id": str(data.price_tier_id)},
        },
        _options(f"plan-change-{envelope.id}"),
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
                product.plan_subscription_updated: _adapt(sync_cancellation, deps),
                product.plan_subscription_change_requested: _adapt(sync_plan_change, deps),
            },
            **common,  # type: ignore[arg-type]
        ),
    ]
