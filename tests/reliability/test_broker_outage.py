"""The broker killed in the middle of a flow: what the services write while it is down waits
in their outboxes, and after the restart every event arrives, so every Stripe object exists
exactly once and every Stripe id is recorded.

The test broker keeps topics in memory (Tansu ``memory://``): a restart loses what it held,
as a real cluster would not. So the events that matter here are the ones produced while it
is down; what was consumed before stays consumed (handled-event ids), and what the relays
hold is published again to the topics they declare again (``nudges_kit.kafka.TopicKeeper``).
Consumers whose offset commits the restarted broker cannot take give them up after a
timeout instead of retrying for ever, and carry on.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from reliability_support import (
    CLIENT_SYNC,
    CREATE_CLIENT,
    CREATE_PLAN,
    CREATE_TIER,
    PLAN_SYNC,
    Login,
    dead_letters,
    eventually,
    figure,
    gql,
    login,
    new_phone,
    sql,
    stripe_list,
)

from nudges_devstack.infra import TansuBroker
from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def _plan_with_tier(platform: Platform, admin: Login, amount: int) -> tuple[str, str]:
    plan = gql(platform, "product", admin.access_token, CREATE_PLAN, n=f"Plan {uuid.uuid4()}")
    plan_id = plan["createPlan"]["id"]
    tier = gql(platform, "product", admin.access_token, CREATE_TIER, p=plan_id, a=amount)
    return plan_id, tier["createPriceTier"]["id"]


def _synced(platform: Platform, admin: Login, plan_id: str) -> bool:
    plan = gql(platform, "product", admin.access_token, PLAN_SYNC, id=plan_id)["plan"]
    return bool(plan["stripeProductId"]) and all(t["stripePriceId"] for t in plan["tiers"])


def test_nothing_is_lost_when_the_broker_dies_mid_flow(
    platform: Platform, reliability_broker: TansuBroker, admin: Login
) -> None:
    # Before: a plan synced, and two people signed in (an OTP needs the broker).
    before = _plan_with_tier(platform, admin, 500)
    eventually(lambda: _synced(platform, admin, before[0]), within=60)
    owners = [login(platform, new_phone(), "client") for _ in range(2)]

    reliability_broker.stop(kill=True)
    down_at = time.monotonic()
    try:
        # The flow goes on: plans, tiers and clients written while the broker is down.
        started = time.monotonic()
        plans = [_plan_with_tier(platform, admin, 700 + i) for i in range(3)]
        extra_tier = gql(platform, "product", admin.access_token, CREATE_TIER, p=before[0], a=1500)[
            "createPriceTier"
        ]["id"]
        clients = [
            gql(
                platform,
                "user",
                owner.access_token,
                CREATE_CLIENT,
                n=f"Outage club {i}",
                s=f"outage-{uuid.uuid4().hex[:10]}",
            )["createClient"]["id"]
            for i, owner in enumerate(owners)
        ]
        writes_seconds = time.monotonic() - started
        time.sleep(3)  # the relays and consumers keep failing for a while
        pending = sql(platform, "product", "SELECT count(*) FROM outbox WHERE published_at IS NULL")
        assert pending[0][0] >= 7, "the product outbox holds what it could not publish"
    finally:
        reliability_broker.start()
    restarted_at = time.monotonic()

    every_plan = [before[0], *(p for p, _ in plans)]
    eventually(lambda: all(_synced(platform, admin, p) for p in every_plan), within=120)
    eventually(
        lambda: all(
            gql(platform, "user", admin.access_token, CLIENT_SYNC, id=client)["client"][
                "stripeCustomerId"
            ]
            for client in clients
        ),
        within=120,
    )
    caught_up = time.monotonic() - restarted_at

    products = Counter(p["metadata"].get("plan_id") for p in stripe_list(platform, "products"))
    prices = Counter(p["metadata"].get("price_tier_id") for p in stripe_list(platform, "prices"))
    customers = Counter(c["metadata"].get("client_id") for c in stripe_list(platform, "customers"))
    assert all(products[p] == 1 for p in every_plan), products
    tiers = [before[1], extra_tier, *(t for _, t in plans)]
    assert all(prices[t] == 1 for t in tiers), prices
    assert all(customers[c] == 1 for c in clients), customers
    for topic in ("product.plans", "product.price-tiers", "user.clients"):
        assert dead_letters(platform, topic) == [], topic
    assert sql(platform, "product", "SELECT count(*) FROM outbox WHERE published_at IS NULL") == [
        (0,)
    ]
    figure("broker outage: writes while down", f"{writes_seconds:.2f} s for 9 mutations")
    figure(
        "broker outage: caught up after restart",
        f"{caught_up:.1f} s (down {restarted_at - down_at:.1f} s)",
    )
