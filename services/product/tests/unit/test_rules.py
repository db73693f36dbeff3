"""The product's rules, without a database: tier versioning, discount validation, Stripe
updates, allowances and MRR."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nudges_product.domain.allowance import calendar_month, compute_allowance
from nudges_product.domain.discounts import discount_terms
from nudges_product.domain.errors import Conflict, InvalidInput
from nudges_product.domain.model import PlanFeatures, PlanSubscription, PriceTier
from nudges_product.domain.money import Money, currency, monthly_recurring_revenue
from nudges_product.domain.price_tiers import PriceTierChanges, decide_tier_update
from nudges_product.domain.subscriptions import StripeSubscriptionState, apply_stripe_state

NOW = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)


def tier(**changes: Any) -> PriceTier:
    base = PriceTier(
        id=uuid.uuid4(),
        plan_id=uuid.uuid4(),
        name="Monthly",
        amount=900,
        currency="usd",
        interval="month",
        status="active",
        version=1,
        replaces_price_tier_id=None,
        stripe_price_id="price_1",
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


def subscription(**changes: Any) -> PlanSubscription:
    base = PlanSubscription(
        id=uuid.uuid4(),
        client_id=uuid.uuid4(),
        price_tier_id=uuid.uuid4(),
        status="active",
        current_period_start=NOW - timedelta(days=5),
        current_period_end=NOW + timedelta(days=25),
        stripe_subscription_id="sub_1",
        cancel_at_period_end=False,
        created_at=NOW,
        updated_at=NOW,
    )
    return replace(base, **changes)


@pytest.mark.parametrize(
    "changes",
    [
        PriceTierChanges(amount=1000),
        PriceTierChanges(currency="EUR"),
        PriceTierChanges(interval="year"),
        PriceTierChanges(name="Monthly plus", amount=1000),
    ],
)
def test_a_changed_price_is_a_new_version(changes: PriceTierChanges) -> None:
    current = tier()
    new_id = uuid.uuid4()

    decision = decide_tier_update(current, changes, new_id, NOW)

    assert decision.kind == "new_version"
    assert decision.tier.id == new_id
    assert decision.tier.version == 2
    assert decision.tier.replaces_price_tier_id == current.id
    assert decision.tier.stripe_price_id is None
    assert decision.tier.status == "active"
    assert decision.archived == replace(current, status="archived", updated_at=NOW)


def test_a_name_alone_renames_and_nothing_new_changes_nothing() -> None:
    current = tier()

    renamed = decide_tier_update(current, PriceTierChanges(name=" Basic "), uuid.uuid4(), NOW)
    same = decide_tier_update(
        current, PriceTierChanges(amount=900, currency="USD"), uuid.uuid4(), NOW
    )

    assert renamed.kind == "renamed"
    assert renamed.tier.id == current.id
    assert renamed.tier.name == "Basic"
    assert same.kind == "unchanged"


def test_archived_tiers_do_not_change_and_bad_values_name_their_field() -> None:
    with pytest.raises(Conflict):
        decide_tier_update(tier(status="archived"), PriceTierChanges(name="x"), uuid.uuid4(), NOW)
    with pytest.raises(InvalidInput) as negative:
        decide_tier_update(tier(), PriceTierChanges(amount=-1), uuid.uuid4(), NOW)
    assert negative.value.field == "amount"
    with pytest.raises(InvalidInput) as unknown:
        currency("ABC")
    assert unknown.value.field == "currency"
    assert currency(" Gbp ") == "gbp"


def terms(**overrides: Any) -> dict[str, Any]:
    return {
        "code": "SPRING",
        "percent_off": None,
        "amount_off": None,
        "currency": None,
        "duration": "once",
        "duration_in_months": None,
        "max_redemptions": None,
        "expires_at": None,
        "now": NOW,
        **overrides,
    }


def test_a_discount_is_a_percentage_or_an_amount() -> None:
    percent = discount_terms(**terms(percent_off=100))
    amount = discount_terms(
        **terms(amount_off=500, currency="USD", duration="repeating", duration_in_months=3)
    )

    assert (percent.percent_off, percent.amount_off) == (100, None)
    assert (amount.amount_off, amount.currency, amount.duration_in_months) == (500, "usd", 3)
    for wrong, field in [
        (terms(), "amountOff"),
        (terms(percent_off=10, amount_off=5, currency="usd"), "percentOff"),
        (terms(percent_off=10, currency="usd"), "currency"),
        (terms(percent_off=10, expires_at=NOW), "expiresAt"),
        (terms(percent_off=10, expires_at=datetime(2030, 1, 1)), "expiresAt"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            discount_terms(**wrong)
        assert refused.value.field == field


def test_stripe_updates_ignore_repeats_stale_periods_and_anything_after_cancellation() -> None:
    current = subscription()
    assert current.current_period_end is not None
    later = current.current_period_end + timedelta(days=30)

    repeat = apply_stripe_state(current, StripeSubscriptionState(status="active"), NOW)
    renewal = apply_stripe_state(current, StripeSubscriptionState(current_period_end=later), NOW)
    stale = apply_stripe_state(
        current,
        StripeSubscriptionState(
            status="past_due", current_period_end=current.current_period_end - timedelta(days=30)
        ),
        NOW,
    )
    ended = apply_stripe_state(current, StripeSubscriptionState(status="canceled"), NOW)
    revived = apply_stripe_state(ended.subscription, StripeSubscriptionState(status="active"), NOW)

    assert repeat.kind == "unchanged"
    assert renewal.kind == "updated"
    assert renewal.subscription.current_period_end == later
    assert stale.kind == "unchanged"
    assert ended.kind == "canceled"
    assert revived.kind == "unchanged"


def test_the_allowance_follows_the_billing_period_and_never_goes_negative() -> None:
    features = PlanFeatures(100, "basic", False)
    live = subscription()

    within = compute_allowance(live, features, 40, NOW)
    over = compute_allowance(live, features, 140, NOW)
    none = compute_allowance(None, None, 7, NOW)
    canceled = compute_allowance(subscription(status="canceled"), features, 0, NOW)

    assert (within.active, within.remaining, within.period_start) == (
        True,
        60,
        live.current_period_start,
    )
    assert over.remaining == 0
    assert (none.active, none.messages_per_period, none.remaining, none.used) == (False, 0, 0, 7)
    assert none.period_start == datetime(2026, 3, 1, tzinfo=UTC)
    assert canceled.active is False
    assert calendar_month(datetime(2026, 12, 31, 23, tzinfo=UTC)) == (
        datetime(2026, 12, 1, tzinfo=UTC),
        datetime(2027, 1, 1, tzinfo=UTC),
    )


def test_mrr_brings_every_interval_to_a_month_per_currency() -> None:
    mrr = monthly_recurring_revenue(
        [(900, "usd", "month", 2), (12000, "usd", "year", 1), (100, "eur", "week", 3)]
    )

    # usd: 1800 + 1000; eur: 300 * 52 / 12 = 1300
    assert mrr == [Money(1300, "eur"), Money(2800, "usd")]
