"""Reading Stripe objects as the pinned API version shapes them."""

from __future__ import annotations

from datetime import UTC, datetime

from nudges_kit.stripe_objects import (
    SUBSCRIPTION_STATUS,
    billed_period,
    invoice_subscription,
    moment,
    subscription_period,
)

JAN = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
FEB = int(datetime(2027, 2, 1, tzinfo=UTC).timestamp())


def test_a_subscriptions_period_is_on_its_first_item() -> None:
    sub = {"items": {"data": [{"current_period_start": JAN, "current_period_end": FEB}]}}
    assert subscription_period(sub) == (moment(JAN), moment(FEB))
    assert subscription_period({"current_period_end": FEB}) == (None, None)


def test_an_invoices_subscription_is_under_its_parent() -> None:
    invoice = {
        "parent": {
            "type": "subscription_details",
            "subscription_details": {"subscription": "sub_1", "metadata": {"client_id": "c"}},
        },
        "lines": {"data": [{"period": {"start": JAN, "end": FEB}}]},
    }
    assert invoice_subscription(invoice)["subscription"] == "sub_1"
    assert invoice_subscription({"parent": {"type": "quote_details"}}) == {}
    assert billed_period(invoice) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 2, 1, tzinfo=UTC),
    )
    assert billed_period({"lines": {"data": []}}) == (None, None)


def test_every_stripe_status_has_a_plan_subscription_status() -> None:
    assert set(SUBSCRIPTION_STATUS.values()) == {"active", "past_due", "incomplete", "canceled"}
    assert SUBSCRIPTION_STATUS["trialing"] == "active"
    assert SUBSCRIPTION_STATUS["unpaid"] == "past_due"
