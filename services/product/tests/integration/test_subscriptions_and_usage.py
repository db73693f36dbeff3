"""Plan subscriptions as Stripe reports them through the consumers, cancellation by the
client, the message allowance the SMS dialogue reads and records, and the admin totals."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from nudges_devstack.testing import SubgraphClient
from nudges_kit.db import create_pool
from nudges_product.domain.errors import InvalidInput
from nudges_product.service_layer import usage

if TYPE_CHECKING:
    from conftest import Shop

ACTIVATE = """
mutation($input: ActivatePlanSubscriptionInput!) {
  activatePlanSubscription(input: $input) {
    id status cancelAtPeriodEnd client { id } priceTier { id amount }
  }
}
"""
UPDATE = """
mutation($sid: String!, $status: PlanSubscriptionStatus, $start: DateTime, $end: DateTime,
         $cancel: Boolean) {
  updatePlanSubscription(stripeSubscriptionId: $sid, status: $status, currentPeriodStart: $start,
                         currentPeriodEnd: $end, cancelAtPeriodEnd: $cancel) {
    status currentPeriodEnd cancelAtPeriodEnd
  }
}
"""
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


def test_activation_is_idempotent_by_stripe_subscription(api: SubgraphClient, shop: Shop) -> None:
    client_id = str(uuid.uuid4())
    tier_id = shop.plan()["tiers"][0]
    now = datetime.now(UTC)
    payload = {
        "clientId": client_id,
        "priceTierId": tier_id,
        "stripeSubscriptionId": f"sub_{uuid.uuid4().hex}",
        "currentPeriodStart": now.isoformat(),
        "currentPeriodEnd": (now + timedelta(days=30)).isoformat(),
    }

    first = api.ok(ACTIVATE, shop.service, input=payload)["activatePlanSubscription"]
    again = api.ok(ACTIVATE, shop.service, input=payload)["activatePlanSubscription"]

    assert first == again
    assert first["status"] == "ACTIVE"
    assert first["client"] == {"id": client_id}
    assert first["priceTier"] == {"id": tier_id, "amount": 900}
    events = subscription_events(shop, client_id)
    assert [t for t, _ in events] == ["product.plan-subscription.activated"]
    assert events[0][1]["plan_subscription_id"] == first["id"]
    assert events[0][1]["stripe_subscription_id"] == payload["stripeSubscriptionId"]
    unknown_tier = {**payload, "priceTierId": str(uuid.uuid4()), "stripeSubscriptionId": "sub_x"}
    assert api.error_code(ACTIVATE, shop.service, input=unknown_tier) == "NOT_FOUND"
    backwards = {**payload, "stripeSubscriptionId": "sub_y", "currentPeriodEnd": now.isoformat()}
    body = api.gql(ACTIVATE, shop.service, input=backwards)
    assert body["errors"][0]["extensions"] == {
        "code": "BAD_USER_INPUT",
        "field": "currentPeriodEnd",
    }


def test_stripe_updates_apply_once_and_in_order(api: SubgraphClient, shop: Shop) -> None:
    client_id = str(uuid.uuid4())
    sub = shop.subscribe(client_id, shop.plan()["tiers"][0])
    sid = sub["stripe_subscription_id"]
    later = (datetime.now(UTC) + timedelta(days=59)).isoformat()
    earlier = (datetime.now(UTC) + timedelta(days=10)).isoformat()

    past_due = api.ok(UPDATE, shop.service, sid=sid, status="PAST_DUE")["updatePlanSubscription"]
    api.ok(UPDATE, shop.service, sid=sid, status="PAST_DUE")  # a repeated delivery
    renewed = api.ok(UPDATE, shop.service, sid=sid, status="ACTIVE", end=later)
    stale = api.ok(UPDATE, shop.service, sid=sid, status="PAST_DUE", end=earlier)
    canceled = api.ok(UPDATE, shop.service, sid=sid, status="CANCELED")
    late = api.ok(UPDATE, shop.service, sid=sid, status="ACTIVE")

    assert past_due["status"] == "PAST_DUE"
    assert renewed["updatePlanSubscription"]["status"] == "ACTIVE"
    assert stale["updatePlanSubscription"]["status"] == "ACTIVE"
    assert canceled["updatePlanSubscription"]["status"] == "CANCELED"
    assert late["updatePlanSubscription"]["status"] == "CANCELED"
    assert [(t, d["status"]) for t, d in subscription_events(shop, client_id)] == [
        ("product.plan-subscription.activated", "active"),
        ("product.plan-subscription.updated", "past_due"),
        ("product.plan-subscription.updated", "active"),
        ("product.plan-subscription.canceled", "canceled"),
    ]
    assert api.error_code(UPDATE, shop.service, sid="sub_nobody", status="ACTIVE") == "NOT_FOUND"


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
    with pytest.raises(InvalidInput) as bad:
        record_usage(api, client_id, 0, "k")
    assert bad.value.field == "messages"


def test_a_client_without_a_live_subscription_has_no_allowance(
    api: SubgraphClient, shop: Shop
) -> None:
    nobody = str(uuid.uuid4())
    lapsed = str(uuid.uuid4())
    sub = shop.subscribe(lapsed, shop.plan(messages_per_period=50)["tiers"][0])
    api.ok(UPDATE, shop.service, sid=sub["stripe_subscription_id"], status="CANCELED")

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
    api.ok(UPDATE, shop.service, sid=sub["stripe_subscription_id"], status="PAST_DUE")

    allowance = api.ok(ALLOWANCE, shop.service, id=client_id)["allowance"]

    assert allowance["active"] is True
    assert allowance["remaining"] == 10


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
    api.ok(UPDATE, shop.service, sid=due["stripe_subscription_id"], status="PAST_DUE")

    after = api.ok(query, shop.admin)["productTotals"]

    def mrr(totals: dict[str, Any]) -> dict[str, int]:
        return {m["currency"]: m["amount"] for m in totals["monthlyRecurringRevenue"]}

    assert after["activePlans"] == before["activePlans"] + 1
    assert after["activeSubscriptions"] == before["activeSubscriptions"] + 3
    assert after["pastDueSubscriptions"] == before["pastDueSubscriptions"] + 1
    gained = {c: mrr(after)[c] - mrr(before).get(c, 0) for c in ("dkk", "sek", "nok")}
    # 1000 a month; 12000 a year is 1000 a month; 100 a week is 100 * 52 / 12 = 433.33.
    assert gained == {"dkk": 1000, "sek": 1000, "nok": 433}
