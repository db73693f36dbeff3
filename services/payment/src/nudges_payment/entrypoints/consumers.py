"""PaymentApi's consumer of ``stripe.events``: Stripe's news about checkouts and invoices,
applied to paymentdb in the consumer's transaction (which also records the handled event,
so a redelivered event changes nothing).

- ``checkout.session.completed`` (subscription mode): completes the session and publishes
  ``payment.checkout.completed`` (once).
- ``checkout.session.expired``: expires an open session (a paid one stays complete).
- ``invoice.paid``: records the payment confirmation and publishes ``payment.invoice.paid``
  (both once per invoice).
- ``invoice.payment_failed``: publishes ``payment.invoice.failed``.
"""

from __future__ import annotations

from typing import Any

from nudges_kit.consumer import EventConsumer, HandlerContext, PermanentError
from nudges_kit.errors import BadInput, NotFound
from nudges_kit.events import Envelope
from nudges_kit.events.catalog import providers
from nudges_payment.bootstrap import Dependencies
from nudges_payment.domain.invoices import StripeInvoice
from nudges_payment.service_layer import checkout, payments

GROUP = "payment-stripe-events"


async def handle_stripe_event(
    deps: Dependencies, data: providers.StripeEventData, conn: Any
) -> None:
    """Apply one verified Stripe event; the kinds PaymentApi does not own are ignored."""
    obj = data.object
    kind = data.stripe_type
    if kind == "checkout.session.completed":
        if obj.get("mode") not in (None, "subscription") or not obj.get("subscription"):
            return
        await checkout.complete_checkout_session(conn, str(obj["id"]), str(obj["subscription"]))
    elif kind == "checkout.session.expired":
        await checkout.expire_checkout_session(conn, str(obj["id"]))
    elif kind == "invoice.paid":
        await payments.record_paid_invoice(deps, conn, StripeInvoice.of(obj))
    elif kind == "invoice.payment_failed":
        await payments.report_failed_invoice(deps, conn, StripeInvoice.of(obj))


def stripe_events_consumer(deps: Dependencies) -> EventConsumer:
    """The consumer group PaymentApi runs in its own process."""

    async def handle(envelope: Envelope, data: Any, ctx: HandlerContext) -> None:
        try:
            await handle_stripe_event(deps, data, ctx.conn)
        except (NotFound, BadInput) as exc:
            # Not ours, or malformed: retrying cannot change it (the dead-letter topic keeps it).
            raise PermanentError(str(exc)) from exc

    return EventConsumer(
        group=GROUP,
        settings=deps.settings,
        pool=deps.pool,
        handlers={providers.stripe_event: handle},
    )
