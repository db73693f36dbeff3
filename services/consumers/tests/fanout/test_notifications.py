"""Notices by SMS, each once per triggering event, in the recipient's language: welcome to a
new subscriber and a notice to their client, welcome to a new client, the plan's life, and a
scheduled announcement refused at its time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from nudges_consumers.service_layer import notifications
from nudges_kit.events.catalog import payment, providers, user

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = pytest.mark.usefixtures("background_workers", "sending")


async def texts_to(stack: Stack, phone: str) -> list[str]:
    return [m["body"] for m in await stack.sent_to(phone)]


async def test_a_new_subscriber_is_welcomed_once_in_their_language(
    stack: Stack, eventually: Any
) -> None:
    client = await stack.client(name="Taller Mar", messages_per_period=None)
    phone = await stack.subscriber(client, locale="es")
    welcome = await eventually(lambda: texts_to(stack, phone))
    assert len(welcome) == 1
    assert "Taller Mar" in welcome[0]
    assert welcome[0].startswith("Nudges: ")
    assert "STOP" in welcome[0]
    # Joining again (idempotent in UserApi) publishes nothing and sends nothing.
    await stack.subscriber(client, locale="es", phone=phone)
    await asyncio.sleep(1.0)
    assert await texts_to(stack, phone) == welcome


async def test_the_client_hears_of_each_new_subscriber_with_the_count(
    stack: Stack, eventually: Any
) -> None:
    client = await stack.client(name="Yoga Bea", messages_per_period=None)
    welcome = await eventually(lambda: texts_to(stack, client.phone))
    assert welcome == [
        "Welcome to Nudges, Yoga Bea! Choose a plan in your account, then text your"
        " announcements to this number."
    ]
    await stack.subscriber(client)

    async def two_texts() -> list[str] | None:
        found = await texts_to(stack, client.phone)
        return found if len(found) >= 2 else None

    notices = await eventually(two_texts)
    assert notices[1] == "You have a new subscriber! You now have 1 subscriber."
    await stack.subscriber(client)
    await eventually(lambda: _has(texts_to(stack, client.phone), 3))
    assert (await texts_to(stack, client.phone))[2] == (
        "You have a new subscriber! You now have 2 subscribers."
    )


async def test_the_client_hears_of_its_plan_activated_past_due_and_canceled(
    stack: Stack, eventually: Any
) -> None:
    client = await stack.client(messages_per_period=None)
    await eventually(lambda: texts_to(stack, client.phone))  # the welcome
    stripe_id = f"sub_{uuid.uuid4().hex}"
    tier = await stack._plan(250)
    now = datetime.now(UTC)
    renewal = now + timedelta(days=30)
    # The first invoice paid (PaymentApi's payment.invoice.paid): ProductApi activates.
    await stack.publish(
        stack.invoice_event(payment.invoice_paid, client.id, tier, stripe_id, now, renewal)
    )
    await eventually(lambda: _has(texts_to(stack, client.phone), 2))
    # The renewal's invoice failed, reported twice: past due once.
    failed = [
        stack.invoice_event(
            payment.invoice_failed,
            client.id,
            tier,
            stripe_id,
            renewal,
            renewal + timedelta(days=30),
        )
        for _ in range(2)
    ]
    await stack.publish(*failed)
    await eventually(lambda: _has(texts_to(stack, client.phone), 3))
    # Stripe ends the subscription (Webhooks' stripe.events).
    deleted = providers.stripe_event.envelope(
        stripe_id,
        providers.StripeEventData(
            stripe_event_id=f"evt_{uuid.uuid4().hex}",
            stripe_type="customer.subscription.deleted",
            object={"id": stripe_id, "object": "subscription", "status": "canceled"},
        ),
    )
    await stack.publish(deleted)
    await eventually(lambda: _has(texts_to(stack, client.phone), 4))
    await asyncio.sleep(1.0)
    texts = await texts_to(stack, client.phone)
    assert texts[1:] == [
        "Your Plan 250 plan is active. Text your announcement to this number to reach your"
        " subscribers.",
        "We could not take the payment for your Plan 250 plan. Update your payment method in"
        " your Nudges account to keep sending.",
        "Your Plan 250 plan has been canceled. Choose a plan in your Nudges account to send"
        " announcements again.",
    ]


async def _has(texts: Any, count: int) -> bool:
    return len(await texts) >= count


async def test_a_failed_renewal_texts_the_client_once_whichever_events_report_it(
    stack: Stack, eventually: Any
) -> None:
    """PaymentApi's failed invoice and Stripe's subscription update report one fact, the
    renewal not paid; they disagree on when the period ends (the invoice's line and the
    subscription's item), and each makes ProductApi publish a past-due update. One SMS."""
    client = await stack.client(messages_per_period=None)
    await eventually(lambda: texts_to(stack, client.phone))  # the welcome
    stripe_id = f"sub_{uuid.uuid4().hex}"
    tier = await stack._plan(250)
    now = datetime.now(UTC).replace(microsecond=0)
    renewal = now + timedelta(days=30)
    await stack.publish(
        stack.invoice_event(payment.invoice_paid, client.id, tier, stripe_id, now, renewal)
    )
    await eventually(lambda: _has(texts_to(stack, client.phone), 2))
    updated = providers.stripe_event.envelope(
        stripe_id,
        providers.StripeEventData(
            stripe_event_id=f"evt_{uuid.uuid4().hex}",
            stripe_type="customer.subscription.updated",
            object={
                "id": stripe_id,
                "object": "subscription",
                "status": "past_due",
                "cancel_at_period_end": False,
                "items": {
                    "data": [
                        {
                            "current_period_start": int(renewal.timestamp()),
                            "current_period_end": int((renewal + timedelta(days=31)).timestamp()),
                        }
                    ]
                },
            },
        ),
    )
    failed = stack.invoice_event(
        payment.invoice_failed, client.id, tier, stripe_id, renewal, renewal + timedelta(days=30)
    )
    await stack.publish(failed, updated)
    await eventually(lambda: _has(texts_to(stack, client.phone), 3))
    await eventually(lambda: _past_due(stack, client.id))
    await asyncio.sleep(2.0)
    payment_failed = [t for t in await texts_to(stack, client.phone) if "payment" in t]
    assert payment_failed == [
        "We could not take the payment for your Plan 250 plan. Update your payment method in"
        " your Nudges account to keep sending."
    ]


async def _past_due(stack: Stack, client_id: str) -> bool:
    found = await stack.plan_subscription(client_id)
    return found is not None and found["status"] == "PAST_DUE"


SCHEDULE = """mutation($t: String!, $at: DateTime!) {
  scheduleAnnouncement(text: $t, sendAt: $at, timeZone: "UTC") { id sendAt } }"""
REFUSED_TEXT = 'Your scheduled announcement "{start}" was not sent: you have no subscribers yet.'


async def test_a_schedule_refused_at_its_time_texts_the_client_once(
    stack: Stack, eventually: Any
) -> None:
    """UserApi checks a schedule again when it is due: the client's only subscriber left
    meanwhile, so it is refused, and the client hears of it once in their language."""
    client = await stack.client(name="Dawn Yoga")
    phone = await stack.subscriber(client)
    body = "Sunrise class moves to the beach tomorrow"
    at = (datetime.now(UTC) + timedelta(seconds=4)).replace(tzinfo=None)
    token = stack.token(client.phone, "client", client.locale)
    created = (await stack.gql("user", SCHEDULE, token, t=body, at=at.isoformat()))[
        "scheduleAnnouncement"
    ]
    await stack.gql(
        "user",
        "mutation($c: ID!) { leaveClient(clientId: $c) { id } }",
        stack.token(phone, "subscriber"),
        c=client.id,
    )

    async def refusals() -> list[str] | None:
        found = [t for t in await texts_to(stack, client.phone) if "scheduled" in t]
        return found or None

    expected = [REFUSED_TEXT.format(start="Sunrise class moves to the beach...")]
    assert await eventually(refusals) == expected
    # The refusal delivered again (a replay, a producer's retry under a new id): no second SMS.
    schedule = (
        await stack.user_sql(
            "SELECT * FROM scheduled_announcements WHERE id = $1", uuid.UUID(created["id"])
        )
    )[0]
    assert (schedule["status"], schedule["refusal"]) == ("refused", "no_subscribers")
    again = user.schedule_refused.envelope(
        created["id"],
        user.ScheduleRefusedData(
            schedule_id=schedule["id"],
            client_id=schedule["client_id"],
            refusal=schedule["refusal"],
            body=schedule["body"],
            run_at=schedule["run_at"],
            time_zone=schedule["time_zone"],
            refused_at=schedule["refused_at"],
        ),
    )
    await stack.publish(again)

    async def handled() -> bool:
        async with stack.pool.acquire() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT true FROM handled_events WHERE consumer_group = $1 AND event_id = $2",
                    notifications.CLIENT_GROUP,
                    again.id,
                )
            )

    await eventually(handled)
    await asyncio.sleep(1.0)
    assert await refusals() == expected
