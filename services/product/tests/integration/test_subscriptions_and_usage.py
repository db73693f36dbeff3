"""Plan subscriptions as Stripe's news stores them (the use case ProductApi's consumers call;
the consumers themselves are in ``test_consumers.py``), cancellation by the client, the message
allowance, and the admin totals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient
from nudges_kit.db import create_pool
from nudges_kit.errors import BadInput, NotFound
from nudges_product.domain.subscriptions import UnknownSubscription
from nudges_product.service_layer import usage

if TYPE_CHECKING:
    from conftest import Shop

ALLOWANCE = """
query($id: ID!) {
  allowance(clientId: $id) { active messagesPerPeriod used remaining periodStart periodEnd }
}
"""


def record_usage(api: SubgraphClient, client_id: str, messages: int, key: str) -> dict[str, int]:
    """The use case that records an announcement's usage, on the subgraph's database."""

    async def record() -> dict[str, int]:
        pool = await create_pool(api.database_url, min_size=1, max_size=1)
        try:
            allowance = await usage.record_usage(pool, uuid.UUID(client_id), messages, key)
        finally:
            await pool.close()
        return {"used": allowance.used, "remaining": allowance.remaining}

    return asyncio.run(record())


def subscription_events(shop: Shop, client_id: str) -> list[tuple[str, dict[str, Any]]]:
    return [(t, d) for t, d in shop.outbox(client_id) if t.startswith("product.plan-subscription.")]


def test_the_first_news_stores_the_subscription_once(api: SubgraphClient, shop: Shop) -> None:
    client_id = str(uuid.uuid4())
    tier_id = shop.plan()["tiers"][0]
    sid = f"sub_{uuid.uuid4().hex}"
    checkout = {
        "client_id": uuid.UUID(client_id),
        "price_tier_id": uuid.UUID(tier_id),
        "status": "active",
        "only_when_new": True,
    }

    first = shop.news(sid, **checkout)
    again = shop.news(sid, **checkout)

    assert first == again
    assert (first.status, str(first.client_id), str(first.price_tier_id)) == (
        "active",
        client_id,
        tier_id,
    )
    found = api.ok(
        "query($id: ID!) { planSubscriptions(first: 1, clientId: $id)"
        " { nodes { id status priceTier { id amount } } } }",
        shop.admin,
        id=client_id,
    )["planSubscriptions"]["nodes"]
    assert found == [
        {"id": str(first.id), "status": "ACTIVE", "priceTier": {"id": tier_id, "amount": 900}}
    ]
    events = subscription_events(shop, client_id)
    assert [t for t, _ in events] == ["product.plan-subscription.activated"]
    assert events[0][1]["plan_subscription_id"] == str(first.id)
    assert events[0][1]["stripe_subscription_id"] == sid
    with pytest.raises(NotFound):
        shop.news("sub_x", **{**checkout, "price_tier_id": uuid.uuid4()})
    with pytest.raises(UnknownSubscription):
        shop.news("sub_nobody", status="active")
    now = datetime.now(UTC)
    with pytest.raises(BadInput):
        shop.news("sub_y", **checkout, current_period_start=now, current_period_end=now)


def test_stripe_news_applies_once_and_late_news_changes_nothing(shop: Shop) -> None:
    client_id = str(uuid.uuid4())
    sub = shop.subscribe(client_id, shop.plan()["tiers"][0])
    sid = sub["stripe_subscription_id"]
    stored = shop.news(sid)
    assert stored.current_period_end is not None
    next_end = stored.current_period_end + timedelta(days=30)
    earlier_end = stored.current_period_end - timedelta(days=20)

    past_due = shop.past_due(sid)
    repeat = shop.news(sid, status="past_due", current_period_end=next_end)
    retried = shop.news(sid, status="active", current_period_end=next_end)
    stale = shop.news(sid, status="past_due", current_period_end=earlier_end)
    canceled = shop.news(sid, status="canceled")
    late = shop.news(sid, status="active", current_period_end=next_end + timedelta(days=30))

    assert (past_due.status, past_due.current_period_end) == ("past_due", next_end)
    assert repeat == past_due
    assert retried.status == "active"
    assert stale == retried
    assert canceled.status == "canceled"
    assert late == canceled
    assert [(t, d["status"]) for t, d in subscription_events(shop, client_id)] == [
        ("product.plan-subscription.activated", "active"),
        ("product.plan-subscription.updated", "past_due"),
        ("product.plan-subscription.updated", "active"),
        ("product.plan-subscription.canceled", "canceled"),
    ]


def test_a_client_cancels_their_own_subscription_at_the_period_end(
    api: SubgraphClient, shop: Shop
) -> None:
    client_id = str(uuid.uuid4())
    sub = shop.subscribe(client_id, shop.plan()["tiers"][0])
    cancel = "mutation($id: ID!) { cancelPlanSubscription(id: $id) { status cancelAtPeriodEnd } }"

    first = api.ok(cancel, shop.client_token(client_id), id=sub["id"])
    again = api.ok(cancel, shop.client_token(client_id), id=sub["id"])
    other = api.error_code(cancel, shop.client_token(str(uuid.uuid4())), id=sub["id"])

    assert first["cancelPlanSubscription"] == {"status": "ACTIVE", "cancelAtPeriodEnd": True}
    assert again == first
    assert other == "NOT_FOUND"  # as for an unknown id: another client's id is not probed
    events = subscription_events(shop, client_id)
    assert [t for t, _ in events] == [
        "product.plan-subscription.activated",
        "product.plan-subscription.updated",
    ]
    assert events[1][1]["cancel_at_period_end"] is True
    assert events[1][1]["stripe_subscription_id"] == sub["stripe_subscription_id"]


def test_usage_counts_once_per_key_against_the_plan_allowance(
    api: SubgraphClient, shop: Shop
) -> None:
    client_id = str(uuid.uuid4())
    shop.subscribe(client_id, shop.plan(messages_per_period=100)["tiers"][0])
    key = f"announcement-{uuid.uuid4()}"

    first = record_usage(api, client_id, 30, key)
    repeat = record_usage(api, client_id, 30, key)
    over = record_usage(api, client_id, 80, f"{key}-2")
    allowance = api.ok(ALLOWANCE, shop.service, id=client_id)["allowance"]

    assert first == {"used": 30, "remaining": 70}
    assert repeat == first
    assert over == {"used": 110, "remaining": 0}
    period_start, period_end = api.sql(
        "SELECT current_period_start, current_period_end FROM plan_subscriptions"
        " WHERE client_id = %s",
        client_id,
    )[0]
    assert datetime.fromisoformat(allowance.pop("periodStart")) == period_start
    assert datetime.fromisoformat(allowance.pop("periodEnd")) == period_end
    assert allowance == {"active": True, "messagesPerPeriod": 100, "used": 110, "remaining": 0}
    assert api.sql("SELECT count(*) FROM usage_records WHERE client_id = %s", client_id) == [(2,)]
    with pytest.raises(BadInput) as bad:
        record_usage(api, client_id, 0, "k")
    assert bad.value.field == "messages"


def test_a_client_without_a_live_subscription_has_no_allowance(
    api: SubgraphClient, shop: Shop
) -> None:
    nobody = str(uuid.uuid4())
    lapsed = str(uuid.uuid4())
    sub = shop.subscribe(lapsed, shop.plan(messages_per_period=50)["tiers"][0])
    shop.news(sub["stripe_subscription_id"], status="canceled")

    recorded = record_usage(api, nobody, 3, f"k-{nobody}")
    for client_id in (nobody, lapsed):
        allowance = api.ok(ALLOWANCE, shop.service, id=client_id)["allowance"]
        assert allowance["active"] is False
        assert allowance["messagesPerPeriod"] == 0
        assert allowance["remaining"] == 0

    assert recorded == {"used": 3, "remaining": 0}


def test_past_due_clients_keep_sending_while_stripe_retries(
    api: SubgraphClient, shop: Shop
) -> None:
    client_id = str(uuid.uuid4())
    sub = shop.subscribe(client_id, shop.plan(messages_per_period=10)["tiers"][0])
    shop.past_due(sub["stripe_subscription_id"])

    allowance = api.ok(ALLOWANCE, shop.service, id=client_id)["allowance"]

    assert allowance["active"] is True
    assert allowance["remaining"] == 10


GRACE = """
query($id: ID!) {
  allowance(clientId: $id) { active remaining state graceEndsAt graceDaysLeft }
}
"""


def test_past_due_sends_for_the_grace_period_from_the_first_failure_then_stops(
    api: SubgraphClient, shop: Shop
) -> None:
    client_id = str(uuid.uuid4())
    sub = shop.subscribe(client_id, shop.plan(messages_per_period=10)["tiers"][0])
    sid = sub["stripe_subscription_id"]
    paid = api.ok(GRACE, shop.service, id=client_id)["allowance"]
    failed_at = datetime.now(UTC)
    first = shop.past_due(sid)
    # Stripe retries and fails again: the grace period still runs from the first failure.
    again = shop.news(sid, status="past_due", cancel_at_period_end=False)
    retried = shop.news(sid, status="past_due", cancel_at_period_end=True)
    in_grace = api.ok(GRACE, shop.service, id=client_id)["allowance"]
    # Eight days on (the first failure moved back in time), the plan has lapsed.
    api.sql(
        "UPDATE plan_subscriptions SET past_due_since = past_due_since - interval '8 days'"
        " WHERE stripe_subscription_id = %s RETURNING id",
        sid,
    )
    lapsed = api.ok(GRACE, shop.service, id=client_id)["allowance"]
    assert first.current_period_end is not None
    repaid = shop.news(sid, status="active", current_period_end=first.current_period_end)
    active_again = api.ok(GRACE, shop.service, id=client_id)["allowance"]

    assert paid == {
        "active": True,
        "remaining": 10,
        "state": "ACTIVE",
        "graceEndsAt": None,
        "graceDaysLeft": None,
    }
    assert first.past_due_since is not None
    assert first.past_due_since >= failed_at
    assert again == first
    assert retried.past_due_since == first.past_due_since
    grace_ends = datetime.fromisoformat(in_grace.pop("graceEndsAt"))
    assert grace_ends == first.past_due_since + timedelta(days=7)
    assert in_grace == {"active": True, "remaining": 10, "state": "GRACE", "graceDaysLeft": 7}
    assert datetime.fromisoformat(lapsed.pop("graceEndsAt")) < datetime.now(UTC)
    assert lapsed == {"active": False, "remaining": 0, "state": "LAPSED", "graceDaysLeft": 0}
    assert (repaid.status, repaid.past_due_since) == ("active", None)
    assert active_again == paid


def test_totals_count_active_subscriptions_and_monthly_revenue(
    api: SubgraphClient, shop: Shop
) -> None:
    query = """
    { productTotals { activePlans activeSubscriptions pastDueSubscriptions
                      monthlyRecurringRevenue { amount currency } } }
    """
    before = api.ok(query, shop.admin)["productTotals"]
    plan = shop.plan(tiers=((1000, "dkk", "MONTH"), (12000, "sek", "YEAR"), (100, "nok", "WEEK")))
    for tier_id in plan["tiers"]:
        shop.subscribe(str(uuid.uuid4()), tier_id)
    due = shop.subscribe(str(uuid.uuid4()), plan["tiers"][0])
    shop.past_due(due["stripe_subscription_id"])

    after = api.ok(query, shop.admin)["productTotals"]

    def mrr(totals: dict[str, Any]) -> dict[str, int]:
        return {m["currency"]: m["amount"] for m in totals["monthlyRecurringRevenue"]}

    assert after["activePlans"] == before["activePlans"] + 1
    assert after["activeSubscriptions"] == before["activeSubscriptions"] + 3
    assert after["pastDueSubscriptions"] == before["pastDueSubscriptions"] + 1
    gained = {c: mrr(after)[c] - mrr(before).get(c, 0) for c in ("dkk", "sek", "nok")}
    # 1000 a month; 12000 a year is 1000 a month; 100 a week is 100 * 52 / 12 = 433.33.
    assert gained == {"dkk": 1000, "sek": 1000, "nok": 433}


CHANGE_PLAN = """
mutation($id: ID!, $t: ID!) { changePlanSubscription(id: $id, priceTierId: $t) {
  priceTier { id } pendingPriceTier { id } pendingChangeAt currentPeriodEnd } }
"""


def test_an_upgrade_asks_stripe_to_invoice_at_once_and_applies_when_stripe_bills_it(
    api: SubgraphClient, shop: Shop
) -> None:
    client = str(uuid.uuid4())
    basic = shop.plan(messages_per_period=100)
    pro = shop.plan(messages_per_period=1000)
    basic_tier = shop.priced_tier(basic["id"], 900)
    pro_tier = shop.priced_tier(pro["id"], 2900)
    subscribed = shop.subscribe(client, basic_tier)
    token = shop.client_token(client)

    asked = api.ok(CHANGE_PLAN, token, id=subscribed["id"], t=pro_tier)["changePlanSubscription"]

    assert asked["priceTier"] == {"id": basic_tier}
    assert asked["pendingPriceTier"] == {"id": pro_tier}
    assert asked["pendingChangeAt"] is None
    requested = [d for t, d in shop.outbox(client) if t.endswith("change-requested")]
    assert len(requested) == 1
    assert requested[0]["proration_behavior"] == "always_invoice"
    assert requested[0]["price_tier_id"] == pro_tier
    assert api.ok(ALLOWANCE, shop.admin, id=client)["allowance"]["messagesPerPeriod"] == 100
    # A second change waits for this one.
    refused = api.gql(CHANGE_PLAN, token, id=subscribed["id"], t=basic_tier)
    assert refused["errors"][0]["extensions"]["code"] == "CONFLICT"

    # Stripe's subscription (its metadata names the tier it now bills) says so.
    shop.news(subscribed["stripe_subscription_id"], price_tier_id=uuid.UUID(pro_tier))

    assert api.ok(ALLOWANCE, shop.admin, id=client)["allowance"]["messagesPerPeriod"] == 1000


def test_a_downgrade_asks_stripe_for_no_prorations_and_applies_with_the_next_period(
    api: SubgraphClient, shop: Shop
) -> None:
    client = str(uuid.uuid4())
    basic = shop.plan(messages_per_period=100)
    pro = shop.plan(messages_per_period=1000)
    basic_tier = shop.priced_tier(basic["id"], 900)
    pro_tier = shop.priced_tier(pro["id"], 2900)
    subscribed = shop.subscribe(client, pro_tier)
    stripe_id = subscribed["stripe_subscription_id"]

    asked = api.ok(CHANGE_PLAN, shop.client_token(client), id=subscribed["id"], t=basic_tier)[
        "changePlanSubscription"
    ]

    assert asked["pendingChangeAt"] == asked["currentPeriodEnd"]
    requested = [d for t, d in shop.outbox(client) if t.endswith("change-requested")]
    assert requested[0]["proration_behavior"] == "none"
    shop.news(stripe_id, price_tier_id=uuid.UUID(basic_tier))  # Stripe bills it next period
    assert api.ok(ALLOWANCE, shop.admin, id=client)["allowance"]["messagesPerPeriod"] == 1000

    end = datetime.fromisoformat(asked["currentPeriodEnd"])
    shop.news(
        stripe_id,
        status="active",
        current_period_start=end,
        current_period_end=end + timedelta(days=30),
    )

    renewed = api.ok(ALLOWANCE, shop.admin, id=client)["allowance"]
    assert renewed["messagesPerPeriod"] == 100
    assert datetime.fromisoformat(renewed["periodStart"]) == end


def test_a_plan_change_refuses_a_tier_of_another_interval(api: SubgraphClient, shop: Shop) -> None:
    client = str(uuid.uuid4())
    plan = shop.plan()
    monthly = shop.priced_tier(plan["id"], 900)
    yearly = shop.priced_tier(plan["id"], 9000, "YEAR")
    subscribed = shop.subscribe(client, monthly)
    refused = api.gql(CHANGE_PLAN, shop.client_token(client), id=subscribed["id"], t=yearly)
    assert refused["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "priceTierId"}


CANCEL_CHANGE = """
mutation($id: ID!) { cancelPlanChange(id: $id) {
  priceTier { id } pendingPriceTier { id } pendingChangeAt } }
"""


def test_a_withdrawn_downgrade_keeps_the_tier_after_the_period_end(
    api: SubgraphClient, shop: Shop
) -> None:
    client = str(uuid.uuid4())
    basic = shop.plan(messages_per_period=100)
    pro = shop.plan(messages_per_period=1000)
    basic_tier = shop.priced_tier(basic["id"], 900)
    pro_tier = shop.priced_tier(pro["id"], 2900)
    subscribed = shop.subscribe(client, pro_tier)
    stripe_id = subscribed["stripe_subscription_id"]
    token = shop.client_token(client)
    asked = api.ok(CHANGE_PLAN, token, id=subscribed["id"], t=basic_tier)
    shop.news(stripe_id, price_tier_id=uuid.UUID(basic_tier))  # Stripe bills it next period

    kept = api.ok(CANCEL_CHANGE, token, id=subscribed["id"])["cancelPlanChange"]
    again = api.ok(CANCEL_CHANGE, token, id=subscribed["id"])["cancelPlanChange"]

    assert kept == {
        "priceTier": {"id": pro_tier},
        "pendingPriceTier": None,
        "pendingChangeAt": None,
    }
    assert again == kept
    # Stripe is asked to bill the tier in force again, once: the second withdrawal is a no-op.
    requested = [d for t, d in shop.outbox(client) if t.endswith("change-requested")]
    assert [(d["price_tier_id"], d["proration_behavior"]) for d in requested] == [
        (basic_tier, "none"),
        (pro_tier, "none"),
    ]
    updates = [d for t, d in shop.outbox(client) if t == "product.plan-subscription.updated"]
    assert updates[-1]["pending_price_tier_id"] is None
    assert len(updates) == 2  # the change asked, then withdrawn

    end = datetime.fromisoformat(asked["changePlanSubscription"]["currentPeriodEnd"])
    shop.news(
        stripe_id,
        status="active",
        current_period_start=end,
        current_period_end=end + timedelta(days=30),
    )

    renewed = api.ok(ALLOWANCE, shop.admin, id=client)["allowance"]
    assert renewed["messagesPerPeriod"] == 1000
    assert datetime.fromisoformat(renewed["periodStart"]) == end
    # A new downgrade can be asked once the first is withdrawn.
    api.ok(CHANGE_PLAN, token, id=subscribed["id"], t=basic_tier)


def test_only_the_subscriptions_client_or_an_admin_withdraws_its_change(
    api: SubgraphClient, shop: Shop
) -> None:
    client = str(uuid.uuid4())
    plan = shop.plan()
    basic_tier = shop.priced_tier(plan["id"], 900)
    pro_tier = shop.priced_tier(plan["id"], 2900)
    subscribed = shop.subscribe(client, pro_tier)
    api.ok(CHANGE_PLAN, shop.client_token(client), id=subscribed["id"], t=basic_tier)

    other = api.error_code(CANCEL_CHANGE, shop.client_token(str(uuid.uuid4())), id=subscribed["id"])
    by_admin = api.ok(CANCEL_CHANGE, shop.admin, id=subscribed["id"])["cancelPlanChange"]

    assert other == "NOT_FOUND"  # as for an unknown id
    assert by_admin["priceTier"] == {"id": pro_tier}
    assert by_admin["pendingPriceTier"] is None


def test_an_upgrade_cannot_be_withdrawn(api: SubgraphClient, shop: Shop) -> None:
    client = str(uuid.uuid4())
    plan = shop.plan()
    basic_tier = shop.priced_tier(plan["id"], 900)
    pro_tier = shop.priced_tier(plan["id"], 2900)
    subscribed = shop.subscribe(client, basic_tier)
    token = shop.client_token(client)
    api.ok(CHANGE_PLAN, token, id=subscribed["id"], t=pro_tier)

    refused = api.error_code(CANCEL_CHANGE, token, id=subscribed["id"])

    assert refused == "CONFLICT"
    found = api.sql(
        "SELECT pending_price_tier_id FROM plan_subscriptions WHERE id = %s", subscribed["id"]
    )
    assert [(str(tier),) for (tier,) in found] == [(pro_tier,)]
