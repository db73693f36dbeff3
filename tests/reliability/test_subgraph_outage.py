"""A subgraph killed while a consumer needs it: the consumer keeps retrying, and when the
subgraph is back it catches up, with nothing dead-lettered and Stripe objects created once.

This is the consumer side of a subgraph outage; the gateway side (partial data with errors
at the right paths) is in ``test_gateway.py``.

To catch the consumer in the middle of its work, the Stripe emulator answers its
``products.create`` late: the event is published, the consumer reads the plan from
ProductApi, waits for Stripe, and ProductApi is killed meanwhile, so that ProductApi learns
the product id (from Stripe's ``product.created`` on ``stripe.events``) only after it is back.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter

import pytest
from reliability_support import (
    CREATE_PLAN,
    PLAN_SYNC,
    Login,
    dead_letters,
    dlq_list,
    eventually,
    figure,
    gql,
    nudges_cli,
    sql,
    stripe_faults,
    stripe_list,
)

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: How long the consumer waits on Stripe before it needs ProductApi again (ProductApi takes
#: longer than this to start).
STRIPE_DELAY = 1.5


def _published(platform: Platform, plan_id: str) -> bool:
    rows = sql(
        platform,
        "product",
        "SELECT count(*) FROM outbox WHERE key = %s AND published_at IS NOT NULL",
        plan_id,
    )
    return bool(rows[0][0] > 0)


def _start_plan_then_kill_product(platform: Platform, admin: Login) -> tuple[str, float]:
    """A new plan whose event is published and being handled when ProductApi dies."""
    stripe_faults(platform, clear=True, delays={"seconds": STRIPE_DELAY, "count": 1})
    plan = gql(platform, "product", admin.access_token, CREATE_PLAN, n=f"Outage {uuid.uuid4()}")
    plan_id = plan["createPlan"]["id"]
    eventually(lambda: _published(platform, plan_id), within=20, interval=0.02)
    platform.kill_service("product")
    return plan_id, time.monotonic()


def _product_once(platform: Platform, plan_id: str) -> None:
    products = Counter(p["metadata"].get("plan_id") for p in stripe_list(platform, "products"))
    assert products[plan_id] == 1, products


def test_consumers_retry_through_a_subgraph_restart_and_catch_up(
    platform: Platform, admin: Login
) -> None:
    plan_id, down_at = _start_plan_then_kill_product(platform, admin)
    # Started again at once: the consumer meets the outage while ProductApi starts.
    platform.start_service("product")
    outage = time.monotonic() - down_at

    synced = eventually(
        lambda: gql(platform, "product", admin.access_token, PLAN_SYNC, id=plan_id)["plan"][
            "stripeProductId"
        ],
        within=60,
    )
    caught_up = time.monotonic() - down_at

    assert synced.startswith("prod_")
    _product_once(platform, plan_id)
    assert [x for x in dead_letters(platform, "product.plans") if x.key == plan_id] == []
    figure("subgraph outage: ProductApi down (kill to ready)", f"{outage:.1f} s")
    figure("subgraph outage: consumer caught up after the kill", f"{caught_up:.1f} s")


def test_a_longer_subgraph_outage_dead_letters_nothing(platform: Platform, admin: Login) -> None:
    """ProductApi down for 20 s, three times the consumers' retry budget: they wait for it
    (an unreachable subgraph spends no attempts) and finish when it is back."""
    plan_id, down_at = _start_plan_then_kill_product(platform, admin)
    try:
        while time.monotonic() - down_at < 20:
            letters = [x for x in dead_letters(platform, "product.plans") if x.key == plan_id]
            assert letters == [], f"dead-lettered after {time.monotonic() - down_at:.1f} s"
            time.sleep(1)
    finally:
        platform.start_service("product")
        _recover(platform, admin, plan_id)
    _product_once(platform, plan_id)


def _recover(platform: Platform, admin: Login, plan_id: str) -> None:
    """What an operator does after the outage: list the dead letters and replay them."""
    letters = [x for x in dlq_list(platform, "product.plans") if x["event_id"]]
    ours = [x for x in letters if x["event_type"] == "product.plan.created"]
    for letter in ours:
        nudges_cli(platform, "dlq", "replay", "product.plans", "--event-id", letter["event_id"])
    eventually(
        lambda: gql(platform, "product", admin.access_token, PLAN_SYNC, id=plan_id)["plan"][
            "stripeProductId"
        ],
        within=60,
    )
