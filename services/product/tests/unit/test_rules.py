"""The product's rules, without a database: tier versioning, discount validation, Stripe
updates, allowances and MRR."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from nudges_kit.errors import BadInput, Conflict
from nudges_product.domain.allowance import calendar_month, compute_allowance, standing
from nudges_product.domain.discounts import discount_terms
from nudges_product.domain.model import PlanFeatures, PlanSubscription, PriceTier
from nudges_product.domain.money import Money, currency, monthly_recurring_revenue
from nudges_product.domain.price_tiers import PriceTierChanges, decide_tier_update
from nudges_product.domain.subscriptions import (
    SubscriptionNews,
    UnknownSubscription,
    apply_news,
    request_plan_change,
    withdraw_plan_change,
)

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


def test_a_new_trial_changes_the_tier_in_place_and_a_new_price_carries_it() -> None:
    current = tier(trial_days=7)

    longer = decide_tier_update(current, PriceTierChanges(trial_days=30), uuid.uuid4(), NOW)
    repriced = decide_tier_update(current, PriceTierChanges(amount=1000), uuid.uuid4(), NOW)
    same = decide_tier_update(current, PriceTierChanges(trial_days=7), uuid.uuid4(), NOW)

    assert (longer.kind, longer.tier.id, longer.tier.trial_days) == ("renamed", current.id, 30)
    assert (repriced.kind, repriced.tier.trial_days) == ("new_version", 7)
    assert same.kind == "unchanged"
    with pytest.raises(BadInput) as too_long:
        decide_tier_update(current, PriceTierChanges(trial_days=731), uuid.uuid4(), NOW)
    assert too_long.value.field == "trialDays"


def test_archived_tiers_do_not_change_and_bad_values_name_their_field() -> None:
    with pytest.raises(Conflict):
        decide_tier_update(tier(status="archived"), PriceTierChanges(name="x"), uuid.uuid4(), NOW)
    with pytest.raises(BadInput) as negative:
        decide_tier_update(tier(), PriceTierChanges(amount=-1), uuid.uuid4(), NOW)
    assert negative.value.field == "amount"
    with pytest.raises(BadInput) as unknown:
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
        with pytest.raises(BadInput) as refused:
            discount_terms(**wrong)
        assert refused.value.field == field


def news(**said: Any) -> SubscriptionNews:
    return SubscriptionNews("sub_1", **said)


def test_stripe_news_ignores_repeats_stale_periods_and_anything_after_cancellation() -> None:
    current = subscription()
    assert current.current_period_end is not None
    later = current.current_period_end + timedelta(days=30)

    repeat = apply_news(current, news(status="active"), uuid.uuid4(), NOW)
    renewal = apply_news(current, news(current_period_end=later), uuid.uuid4(), NOW)
    stale = apply_news(
        current,
        news(status="past_due", current_period_end=current.current_period_end - timedelta(days=30)),
        uuid.uuid4(),
        NOW,
    )
    ended = apply_news(current, news(status="canceled"), uuid.uuid4(), NOW)
    revived = apply_news(ended.subscription, news(status="active"), uuid.uuid4(), NOW)
    checkout = apply_news(current, news(status="active", only_when_new=True), uuid.uuid4(), NOW)

    assert repeat.kind == "unchanged"
    assert renewal.kind == "updated"
    assert renewal.subscription.current_period_end == later
    assert stale.kind == "unchanged"
    assert ended.kind == "canceled"
    assert revived.kind == "unchanged"
    assert checkout.kind == "unchanged"


def test_news_of_an_unknown_subscription_must_name_its_client_and_tier() -> None:
    client_id, tier_id, new_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with pytest.raises(UnknownSubscription):
        apply_news(None, news(status="active", client_id=client_id), new_id, NOW)

    stored = apply_news(
        None, news(status="past_due", client_id=client_id, price_tier_id=tier_id), new_id, NOW
    )

    assert stored.kind == "activated"
    assert (stored.subscription.id, stored.subscription.status) == (new_id, "past_due")
    stored_under = (stored.subscription.client_id, stored.subscription.price_tier_id)
    assert stored_under == (client_id, tier_id)


def test_within_one_period_the_higher_status_wins_whatever_the_order() -> None:
    current = subscription(status="past_due")
    end = current.current_period_end
    # A late failure of a paid period's invoice changes nothing; a payment lifts past due.
    paid = apply_news(current, news(status="active", current_period_end=end), uuid.uuid4(), NOW)
    late_failure = apply_news(
        paid.subscription, news(status="past_due", current_period_end=end), uuid.uuid4(), NOW
    )
    incomplete = apply_news(
        paid.subscription, news(status="incomplete", current_period_end=end), uuid.uuid4(), NOW
    )

    assert paid.subscription.status == "active"
    assert late_failure.kind == "unchanged"
    assert incomplete.kind == "unchanged"


START = NOW - timedelta(days=5)
END = NOW + timedelta(days=25)
NEXT_END = END + timedelta(days=30)
CLIENT = uuid.uuid4()
TIER = uuid.uuid4()
#: What a first checkout and a failed renewal tell ProductApi, from three topics.
STORY = {
    "checkout.completed": news(
        client_id=CLIENT, price_tier_id=TIER, status="active", only_when_new=True
    ),
    "invoice.paid": news(
        client_id=CLIENT,
        price_tier_id=TIER,
        status="active",
        current_period_start=START,
        current_period_end=END,
    ),
    "subscription.updated (incomplete)": news(
        client_id=CLIENT,
        price_tier_id=TIER,
        status="incomplete",
        current_period_start=START,
        current_period_end=END,
        cancel_at_period_end=False,
    ),
    "subscription.updated (active)": news(
        client_id=CLIENT,
        price_tier_id=TIER,
        status="active",
        current_period_start=START,
        current_period_end=END,
        cancel_at_period_end=False,
    ),
    "invoice.failed (renewal)": news(
        client_id=CLIENT,
        price_tier_id=TIER,
        status="past_due",
        current_period_start=END,
        current_period_end=NEXT_END,
    ),
}


def _replay(order: tuple[str, ...]) -> PlanSubscription:
    current: PlanSubscription | None = None
    new_id = uuid.uuid4()
    for name in order:
        current = apply_news(current, STORY[name], new_id, NOW).subscription
    assert current is not None
    return replace(current, id=uuid.UUID(int=0), created_at=NOW, updated_at=NOW)


@pytest.mark.parametrize("first", list(STORY))
def test_news_in_any_order_converges_on_one_state(first: str) -> None:
    """Every order of the story (120) ends where the order Stripe sent it in ends: past due
    for the renewal period."""
    expected = _replay(tuple(STORY))
    orders = [o for o in itertools.permutations(STORY) if o[0] == first]

    finals = {_replay(order) for order in orders}

    assert finals == {expected}
    assert (expected.status, expected.current_period_start, expected.current_period_end) == (
        "past_due",
        END,
        NEXT_END,
    )


def test_without_the_renewal_any_order_ends_active_for_the_first_period() -> None:
    story = [name for name in STORY if "renewal" not in name]
    finals = set()
    for order in itertools.permutations(story):
        current: PlanSubscription | None = None
        for name in order:
            current = apply_news(current, STORY[name], uuid.UUID(int=1), NOW).subscription
        assert current is not None
        finals.add((current.status, current.current_period_start, current.current_period_end))
    assert finals == {("active", START, END)}


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


def test_a_past_due_plan_sends_for_the_grace_period_from_its_first_failure() -> None:
    features = PlanFeatures(100, "basic", False)
    paid = subscription()
    assert paid.current_period_end is not None
    renewal = news(
        status="past_due",
        current_period_start=paid.current_period_end,
        current_period_end=paid.current_period_end + timedelta(days=30),
    )
    failed = apply_news(paid, renewal, uuid.uuid4(), NOW)
    # Stripe's update reports the failure again, a day later: the grace period does not restart.
    reported_again = apply_news(
        failed.subscription,
        news(status="past_due", cancel_at_period_end=True),
        uuid.uuid4(),
        NOW + timedelta(days=1),
    )
    repaid = apply_news(
        reported_again.subscription,
        news(status="active", current_period_end=renewal.current_period_end),
        uuid.uuid4(),
        NOW + timedelta(days=2),
    )
    stored_past_due = apply_news(
        None,
        news(status="past_due", client_id=uuid.uuid4(), price_tier_id=uuid.uuid4()),
        uuid.uuid4(),
        NOW,
    )
    due = failed.subscription

    assert (due.status, due.past_due_since) == ("past_due", NOW)
    assert reported_again.subscription.past_due_since == NOW
    assert repaid.subscription.past_due_since is None
    assert stored_past_due.subscription.past_due_since == NOW
    assert standing(paid, NOW).state == "active"
    assert standing(None, NOW).state == "none"
    assert standing(subscription(status="canceled"), NOW).state == "none"
    ends = NOW + timedelta(days=7)
    assert standing(due, NOW).grace_days_left == 7
    assert standing(due, NOW + timedelta(days=6, hours=1)).grace_days_left == 1
    assert standing(due, ends - timedelta(seconds=1)).state == "grace"
    assert standing(due, ends).grace_ends_at == ends
    assert standing(due, ends).state == "lapsed"
    assert standing(due, NOW + timedelta(days=2), grace_days=2).state == "lapsed"
    in_grace = compute_allowance(due, features, 40, NOW + timedelta(days=3))
    lapsed = compute_allowance(due, features, 40, NOW + timedelta(days=8))
    assert (in_grace.active, in_grace.remaining, in_grace.standing.state) == (True, 60, "grace")
    assert (lapsed.active, lapsed.remaining, lapsed.standing.state) == (False, 0, "lapsed")


def test_an_upgrade_applies_once_stripe_bills_its_tier() -> None:
    basic, pro = tier(amount=900), tier(amount=2900, stripe_price_id="price_2")
    current = subscription(price_tier_id=basic.id)

    asked, proration = request_plan_change(current, basic, pro, NOW)

    assert proration == "always_invoice"
    assert (asked.price_tier_id, asked.pending_price_tier_id) == (basic.id, pro.id)
    assert asked.pending_change_at is None
    # News that names the old tier (a late event) changes nothing; Stripe billing the new
    # one applies it.
    late = apply_news(asked, news(status="active", price_tier_id=basic.id), uuid.uuid4(), NOW)
    assert late.kind == "unchanged"
    billed = apply_news(asked, news(status="active", price_tier_id=pro.id), uuid.uuid4(), NOW)
    assert billed.kind == "updated"
    assert billed.subscription.price_tier_id == pro.id
    assert billed.subscription.pending_price_tier_id is None


def test_a_downgrade_applies_with_the_next_period() -> None:
    basic, pro = tier(amount=900), tier(amount=2900, stripe_price_id="price_2")
    current = subscription(price_tier_id=pro.id)
    end = current.current_period_end
    assert end is not None

    asked, proration = request_plan_change(current, pro, basic, NOW)

    assert proration == "none"
    assert asked.pending_change_at == end
    # Stripe already bills the lower price for the next period: not in force yet.
    same_period = apply_news(asked, news(price_tier_id=basic.id), uuid.uuid4(), NOW)
    assert same_period.subscription.price_tier_id == pro.id
    renewed = apply_news(
        asked,
        news(status="active", current_period_start=end, current_period_end=end + timedelta(30)),
        uuid.uuid4(),
        NOW,
    )
    assert renewed.subscription.price_tier_id == basic.id
    assert renewed.subscription.pending_price_tier_id is None
    assert renewed.subscription.pending_change_at is None


def test_a_plan_change_needs_an_active_subscription_and_a_like_tier() -> None:
    basic, pro = tier(amount=900), tier(amount=2900, stripe_price_id="price_2")
    current = subscription(price_tier_id=basic.id)
    with pytest.raises(Conflict):
        request_plan_change(replace(current, status="past_due"), basic, pro, NOW)
    with pytest.raises(Conflict):
        request_plan_change(replace(current, cancel_at_period_end=True), basic, pro, NOW)
    with pytest.raises(Conflict):
        request_plan_change(current, basic, basic, NOW)
    with pytest.raises(Conflict):
        request_plan_change(replace(current, pending_price_tier_id=pro.id), basic, pro, NOW)
    with pytest.raises(BadInput) as other_interval:
        request_plan_change(current, basic, replace(pro, interval="year"), NOW)
    assert other_interval.value.field == "priceTierId"


def test_during_a_trial_a_change_applies_at_once_without_prorations() -> None:
    basic, pro = tier(amount=900), tier(amount=2900, stripe_price_id="price_2")
    trialing = subscription(price_tier_id=pro.id, trial_ends_at=NOW + timedelta(days=10))

    asked, proration = request_plan_change(trialing, pro, basic, NOW)

    assert (asked.pending_change_at, proration) == (None, "none")
    billed = apply_news(asked, news(price_tier_id=basic.id), uuid.uuid4(), NOW)
    assert billed.subscription.price_tier_id == basic.id
    after_trial = subscription(price_tier_id=basic.id, trial_ends_at=NOW - timedelta(days=1))
    assert request_plan_change(after_trial, basic, pro, NOW)[1] == "always_invoice"


def test_only_a_downgrade_not_yet_due_is_withdrawn() -> None:
    basic, pro = tier(amount=900), tier(amount=2900, stripe_price_id="price_2")
    downgraded, _ = request_plan_change(subscription(price_tier_id=pro.id), pro, basic, NOW)
    upgraded, _ = request_plan_change(subscription(price_tier_id=basic.id), basic, pro, NOW)
    end = downgraded.current_period_end
    assert end is not None

    kept = withdraw_plan_change(downgraded, NOW)

    assert kept is not None
    assert (kept.price_tier_id, kept.pending_price_tier_id, kept.pending_change_at) == (
        pro.id,
        None,
        None,
    )
    assert withdraw_plan_change(kept, NOW) is None  # nothing pending: nothing to do
    with pytest.raises(Conflict):
        withdraw_plan_change(upgraded, NOW)  # billed at once
    with pytest.raises(Conflict):
        withdraw_plan_change(downgraded, end)  # taking effect
    with pytest.raises(Conflict):
        withdraw_plan_change(replace(downgraded, status="canceled"), NOW)
    # The next period keeps the tier.
    renewed = apply_news(
        kept,
        news(status="active", current_period_start=end, current_period_end=end + timedelta(30)),
        uuid.uuid4(),
        NOW,
    )
    assert renewed.subscription.price_tier_id == pro.id
