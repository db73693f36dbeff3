"""Stripe answering 429, 500 and late: the consumers retry with backoff and create each
object once (idempotency keys); past the attempt limit the event goes to its dead-letter
topic, where ``nudges dlq list`` shows it and ``nudges dlq replay`` finishes the job."""

from __future__ import annotations

import signal
import time
import uuid
from collections import Counter
from typing import Any

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
    stripe_faults,
    stripe_list,
)

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def _new_plan(platform: Platform, admin: Login) -> str:
    plan = gql(platform, "product", admin.access_token, CREATE_PLAN, n=f"Faults {uuid.uuid4()}")
    return str(plan["createPlan"]["id"])


def _stripe_product(platform: Platform, admin: Login, plan_id: str) -> str | None:
    found = gql(platform, "product", admin.access_token, PLAN_SYNC, id=plan_id)["plan"]
    return found["stripeProductId"]  # type: ignore[no-any-return]


def _products_of(platform: Platform, plan_id: str) -> int:
    return Counter(p["metadata"].get("plan_id") for p in stripe_list(platform, "products"))[plan_id]


@pytest.mark.parametrize(("status", "count"), [(429, 3), (500, 4)])
def test_stripe_errors_are_retried_and_the_object_is_created_once(
    platform: Platform, admin: Login, status: int, count: int
) -> None:
    stripe_faults(platform, clear=True, errors={"status": status, "count": count})
    started = time.monotonic()
    try:
        plan_id = _new_plan(platform, admin)
        product = eventually(lambda: _stripe_product(platform, admin, plan_id), within=60)
    finally:
        stripe_faults(platform, clear=True)

    assert product.startswith("prod_")
    assert _products_of(platform, plan_id) == 1
    assert [x for x in dead_letters(platform, "product.plans") if x.key == plan_id] == []
    figure(f"stripe {status} x{count}: synced after retries", f"{time.monotonic() - started:.1f} s")


def test_stripe_refusing_past_the_limit_dead_letters_and_replay_succeeds(
    platform: Platform, admin: Login
) -> None:
    stripe_faults(platform, clear=True, errors={"status": 429, "count": 10_000})
    started = time.monotonic()
    try:
        plan_id = _new_plan(platform, admin)
        letter = eventually(lambda: _dead_letter_of(platform, plan_id), within=90, interval=1.0)
        dead_lettered_after = time.monotonic() - started
    finally:
        stripe_faults(platform, clear=True)

    assert letter["attempts"] == 6
    assert letter["group"] == "stripe-sync-catalog"
    assert "429" in letter["error"] or "Too many requests" in letter["error"]
    assert _stripe_product(platform, admin, plan_id) is None

    out = nudges_cli(platform, "dlq", "replay", "product.plans", "--event-id", letter["event_id"])
    assert "replayed 1 dead letters" in out
    product = eventually(lambda: _stripe_product(platform, admin, plan_id), within=60)

    assert product.startswith("prod_")
    assert _products_of(platform, plan_id) == 1
    # A second replay of the same letter changes nothing: the event id was handled.
    nudges_cli(platform, "dlq", "replay", "product.plans", "--event-id", letter["event_id"])
    time.sleep(2)
    assert _products_of(platform, plan_id) == 1
    assert _stripe_product(platform, admin, plan_id) == product
    figure("stripe 429 forever: dead-lettered after", f"{dead_lettered_after:.1f} s (6 attempts)")


def _dead_letter_of(platform: Platform, plan_id: str) -> dict[str, Any] | None:
    """``nudges dlq list product.plans``'s summary of the plan's dead letter, if any."""
    ids = {x.event_id for x in dead_letters(platform, "product.plans") if x.key == plan_id}
    return next((x for x in dlq_list(platform, "product.plans") if x["event_id"] in ids), None)


def test_a_hanging_stripe_call_times_out_and_is_retried(platform: Platform, admin: Login) -> None:
    stripe_faults(platform, clear=True, delays={"seconds": 120, "count": 1})
    try:
        plan_id = _new_plan(platform, admin)
        # The 120 s hang must end at the client timeout (10 s); the id then comes back through
        # Stripe's product.created on stripe.events, which ProductApi records.
        product = eventually(lambda: _stripe_product(platform, admin, plan_id), within=45)
        assert product.startswith("prod_")
        assert _products_of(platform, plan_id) == 1
    finally:
        stripe_faults(platform, clear=True)
        # Without a timeout the consumer is still waiting on the hung call: restart it.
        platform.restart_service("consumers", signal.SIGKILL, timeout=90)
