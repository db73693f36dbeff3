"""Use cases of checkout sessions: open one for a client, complete or expire it when Stripe
says so on ``stripe.events`` (the completion publishes ``payment.checkout.completed`` in the
same transaction)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from nudges_kit.errors import BadInput, Conflict, NotFound
from nudges_kit.events.catalog.payment import CheckoutCompletedData, checkout_completed
from nudges_kit.logging import get_logger
from nudges_payment.adapters import repository
from nudges_payment.adapters.stripe_gateway import SubscriptionCheckout
from nudges_payment.bootstrap import Dependencies
from nudges_payment.domain.model import (
    CheckoutRequest,
    CheckoutSession,
    CheckoutStatus,
    check_stripe_id,
)
from nudges_payment.service_layer.unit_of_work import unit_of_work

log = get_logger(__name__)


async def create_checkout_session(
    deps: Dependencies,
    request: CheckoutRequest,
    caller_token: str | None,
) -> CheckoutSession:
    """Open a Stripe Checkout Session (subscription mode) for the client and store it.

    Idempotent: the same request (see :meth:`CheckoutRequest.checked`) returns the session
    already stored, and Stripe receives the same ``Idempotency-Key``.
    """
    async with deps.pool.acquire() as conn:
        stored = await repository.checkout_session(conn, request.checkout_session_id)
    if stored is not None:
        return stored
    account = await deps.clients.client_account(request.client_id, caller_token)
    if account is None:
        raise Conflict("create your client profile before choosing a plan")
    customer_id = account.billing_customer()
    offer = await deps.price_tiers.price_tier(request.price_tier_id, caller_token)
    if offer is None:
        raise BadInput("there is no such price tier on sale", field="priceTierId")
    price_id = offer.checkout_price()
    promotion_code_id = None
    if request.discount_code:
        promotion_code_id = await deps.payments.promotion_code_id(request.discount_code)
        if promotion_code_id is None:
            raise BadInput("this discount code is not valid", field="discountCode")
    opened = await deps.payments.open_subscription_checkout(
        SubscriptionCheckout(
            customer_id=customer_id,
            price_id=price_id,
            promotion_code_id=promotion_code_id,
            success_url=deps.settings.checkout_success_url,
            cancel_url=deps.settings.checkout_cancel_url,
            metadata=request.metadata(),
            idempotency_key=request.idempotency_key,
            trial_days=offer.trial_days,
        )
    )
    session = CheckoutSession(
        id=request.checkout_session_id,
        client_id=request.client_id,
        price_tier_id=request.price_tier_id,
        discount_code=request.discount_code,
        stripe_session_id=opened.stripe_session_id,
        url=opened.url,
        status=CheckoutStatus.OPEN,
        expires_at=opened.expires_at,
    )
    async with deps.pool.acquire() as conn:
        stored = await repository.add_checkout_session(conn, session)
    log.info(
        "checkout session opened",
        checkout_session_id=str(stored.id),
        client_id=str(stored.client_id),
        price_tier_id=str(stored.price_tier_id),
    )
    return stored


async def complete_checkout_session(
    db: Any, stripe_session_id: str, stripe_subscription_id: str
) -> CheckoutSession:
    """Mark the session paid; the first completion publishes ``payment.checkout.completed``
    in the same transaction, repeats return the session unchanged and publish nothing.
    ``db`` is a pool or a connection in a transaction (see :func:`unit_of_work`)."""
    check_stripe_id(stripe_session_id, "stripeSessionId")
    check_stripe_id(stripe_subscription_id, "stripeSubscriptionId")
    async with unit_of_work(db) as uow:
        session = await repository.lock_checkout_session(uow.conn, stripe_session_id)
        if session is None:
            raise NotFound("checkout session not found")
        if session.complete(stripe_subscription_id, datetime.now(UTC)):
            await repository.save_checkout_status(uow.conn, session)
            await uow.publish(
                checkout_completed,
                str(session.id),
                CheckoutCompletedData(
                    checkout_session_id=session.id,
                    client_id=session.client_id,
                    price_tier_id=session.price_tier_id,
                    stripe_session_id=session.stripe_session_id,
                    stripe_subscription_id=session.stripe_subscription_id,
                ),
            )
            log.info("checkout session completed", checkout_session_id=str(session.id))
    return session


async def expire_checkout_session(db: Any, stripe_session_id: str) -> CheckoutSession:
    """Close an open session Stripe expired; a completed one stays complete."""
    check_stripe_id(stripe_session_id, "stripeSessionId")
    async with unit_of_work(db) as uow:
        session = await repository.lock_checkout_session(uow.conn, stripe_session_id)
        if session is None:
            raise NotFound("checkout session not found")
        if session.expire():
            await repository.save_checkout_status(uow.conn, session)
    return session


async def checkout_sessions(
    deps: Dependencies, ids: Sequence[UUID]
) -> list[CheckoutSession | None]:
    """The sessions of ``ids``, in order (None where there is none): one query per batch."""
    async with deps.pool.acquire() as conn:
        found = await repository.checkout_sessions(conn, ids)
    return [found.get(i) for i in ids]
