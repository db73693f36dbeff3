"""Stripe flows end to end: plans become Stripe products and prices (whose ids ProductApi
learns from Stripe's events), a client gets a Stripe customer, buys a plan through checkout
(PaymentApi and ProductApi consume Stripe's news themselves), and the paid invoice is
recorded once."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest
from stripe import WebhookSignature

from nudges_devstack.platform import STRIPE_WEBHOOK_SECRET, Platform
from nudges_kit.auth import user_id_for
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

pytestmark = pytest.mark.slow


#: Stripe ids are for staff: an admin reads a checkout session's.
SESSION_STRIPE_ID = "query($id: ID!) { checkoutSession(id: $id) { stripeSessionId } }"


def _vault() -> PhoneVault:
    settings = NudgesSettings()
    return PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )


def _eventually(check: Callable[[], Any], within: float = 30.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        time.sleep(0.2)


def _login(platform: Platform, phone: str, role: str) -> str:
    with httpx.Client(base_url=platform.url("auth"), timeout=10) as http:
        asked = http.post("/auth/otp", json={"phone": phone, "role": role})
        assert asked.status_code == 202, asked.text
        code = asked.json()["code"]
        verified = http.post("/auth/otp/verify", json={"phone": phone, "code": code, "role": role})
        assert verified.status_code == 200, verified.text
        return str(verified.json()["access_token"])


def _gql(platform: Platform, subgraph: str, token: str, query: str, **variables: Any) -> Any:
    """``query`` through the gateway (``subgraph`` names the owner, for the reader)."""
    response = httpx.post(
        platform.url("gateway", "/graphql"),
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    )
    body = response.json()
    assert not body.get("errors"), body
    return body["data"]


def _make_admin(platform: Platform, phone: str) -> None:
    vault = _vault()
    phone_hash = vault.hash(phone)
    url = with_database(platform.postgres_url, platform.databases["user"])
    with psycopg.connect(url) as conn:
        conn.execute(
            "INSERT INTO users (id, phone_hash, phone_ciphertext) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash), phone_hash, vault.encrypt(phone)),
        )
        conn.execute(
            "INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash),),
        )


def test_a_client_buys_a_plan_through_stripe_checkout(platform: Platform) -> None:
    _make_admin(platform, "+14155550101")
    admin = _login(platform, "+14155550101", "admin")

    plan = _gql(
        platform,
        "product",
        admin,
        """mutation { createPlan(input: {name: "Starter", description: "For new clubs",
          features: {messagesPerPeriod: 1000, supportTier: BASIC, aiAssist: false}}) { id } }""",
    )["createPlan"]
    tier = _gql(
        platform,
        "product",
        admin,
        """mutation($p: ID!) { createPriceTier(planId: $p, input: {name: "Monthly",
          amount: 900, currency: "usd", interval: MONTH}) { id } }""",
        p=plan["id"],
    )["createPriceTier"]
    synced = _eventually(
        lambda: (
            _gql(
                platform,
                "product",
                admin,
                "query($id: ID!) { plan(id: $id) { stripeProductId tiers { id stripePriceId } } }",
                id=plan["id"],
            )["plan"]
            if all(
                t["stripePriceId"]
                for t in _gql(
                    platform,
                    "product",
                    admin,
                    "query($id: ID!) { plan(id: $id) { tiers { stripePriceId } } }",
                    id=plan["id"],
                )["plan"]["tiers"]
            )
            else None
        )
    )
    assert synced["stripeProductId"].startswith("prod_")
    stripe_price = synced["tiers"][0]["stripePriceId"]
    price = httpx.get(
        platform.url("stripe-emulator", f"/v1/prices/{stripe_price}"),
        auth=("sk_test_platform", ""),
    ).json()
    assert price["unit_amount"] == 900
    assert price["product"] == synced["stripeProductId"]

    client = _login(platform, "+14155550102", "client")
    me = _gql(
        platform,
        "user",
        client,
        'mutation { createClient(input: {name: "Trail Runners", slug: "trail-runners"}) { id } }',
    )["createClient"]
    customer = _eventually(
        lambda: _gql(
            platform,
            "user",
            admin,
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            id=me["id"],
        )["client"]["stripeCustomerId"]
    )
    assert customer.startswith("cus_")

    session = _gql(
        platform,
        "payment",
        client,
        "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id url } }",
        t=tier["id"],
    )["createCheckoutSession"]
    session = _gql(platform, "payment", admin, SESSION_STRIPE_ID, id=session["id"])[
        "checkoutSession"
    ]
    completed = httpx.post(
        platform.url(
            "stripe-emulator", f"/_emulator/checkout/{session['stripeSessionId']}/complete"
        )
    )
    assert completed.status_code == 200, completed.text

    allowance = _eventually(
        lambda: (
            (
                found := _gql(
                    platform,
                    "product",
                    admin,
                    "query($c: ID!) { allowance(clientId: $c) { active messagesPerPeriod } }",
                    c=me["id"],
                )["allowance"]
            )["active"]
            and found
        )
    )
    assert allowance["messagesPerPeriod"] == 1000
    confirmations = _eventually(
        lambda: _gql(
            platform,
            "payment",
            admin,
            "{ paymentConfirmations { totalCount nodes { amount currency } } }",
        )["paymentConfirmations"]["nodes"]
    )
    assert confirmations == [{"amount": 900, "currency": "usd"}]

    # Through the gateway: the client (user) with its subscription (product) and payments
    # (payment), in one query.
    through_gateway = httpx.post(
        platform.url("gateway", "/graphql"),
        json={
            "query": "{ viewer { ... on Client { name subscription { status }"
            " payments { nodes { amount } } } } }"
        },
        headers={"Authorization": f"Bearer {client}"},
        timeout=20,
    ).json()
    assert through_gateway == {
        "data": {
            "viewer": {
                "name": "Trail Runners",
                "subscription": {"status": "ACTIVE"},
                "payments": {"nodes": [{"amount": 900}]},
            }
        }
    }, through_gateway


SUBSCRIPTION = """query($c: ID!) { planSubscriptions(clientId: $c) {
  nodes { status stripeSubscriptionId currentPeriodEnd } } }"""


def _subscription(platform: Platform, admin: str, client_id: str) -> dict[str, Any]:
    nodes = _gql(platform, "product", admin, SUBSCRIPTION, c=client_id)["planSubscriptions"]
    return nodes["nodes"][0] if nodes["nodes"] else {}


def test_renewals_failed_payments_and_cancellation_follow_stripe(platform: Platform) -> None:
    _make_admin(platform, "+14155550101")
    admin = _login(platform, "+14155550101", "admin")
    plan = _gql(
        platform,
        "product",
        admin,
        """mutation { createPlan(input: {name: "Pro", description: "",
          features: {messagesPerPeriod: 50, supportTier: STANDARD, aiAssist: true}}) { id } }""",
    )["createPlan"]
    tier = _gql(
        platform,
        "product",
        admin,
        """mutation($p: ID!) { createPriceTier(planId: $p, input: {name: "Weekly",
          amount: 300, currency: "usd", interval: WEEK}) { id } }""",
        p=plan["id"],
    )["createPriceTier"]
    _eventually(
        lambda: _gql(
            platform,
            "product",
            admin,
            "query($id: ID!) { plan(id: $id) { tiers { stripePriceId } } }",
            id=plan["id"],
        )["plan"]["tiers"][0]["stripePriceId"]
    )
    client = _login(platform, "+14155550103", "client")
    me = _gql(
        platform,
        "user",
        client,
        'mutation { createClient(input: {name: "Book Club", slug: "book-club"}) { id } }',
    )["createClient"]
    _eventually(
        lambda: _gql(
            platform,
            "user",
            admin,
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            id=me["id"],
        )["client"]["stripeCustomerId"]
    )
    session = _gql(
        platform,
        "payment",
        client,
        "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id } }",
        t=tier["id"],
    )["createCheckoutSession"]
    session = _gql(platform, "payment", admin, SESSION_STRIPE_ID, id=session["id"])[
        "checkoutSession"
    ]
    httpx.post(
        platform.url(
            "stripe-emulator", f"/_emulator/checkout/{session['stripeSessionId']}/complete"
        )
    ).raise_for_status()
    # The checkout's completion, its paid invoice and the subscription's update reach
    # ProductApi from two topics in any order: active once the paid period is known.
    active = _eventually(
        lambda: (
            (found := _subscription(platform, admin, me["id"])).get("status") == "ACTIVE"
            and found["currentPeriodEnd"]
            and found
        )
    )
    first_end = active["currentPeriodEnd"]
    sub_id = active["stripeSubscriptionId"]

    httpx.post(
        platform.url("stripe-emulator", f"/_emulator/subscriptions/{sub_id}/renew")
    ).raise_for_status()
    renewed = _eventually(
        lambda: (
            (found := _subscription(platform, admin, me["id"]))["currentPeriodEnd"] != first_end
            and found
        )
    )
    assert renewed["status"] == "ACTIVE"

    # The declined renewal's invoice.payment_failed alone (its subscription id at
    # parent.subscription_details, as this API version has it) marks the plan past due;
    # the subscription.updated Stripe sends with it is withheld until after.
    emulator_config = platform.url("stripe-emulator", "/_emulator/config")
    webhook_url = httpx.get(emulator_config).json()["webhook_url"]
    httpx.post(emulator_config, json={"webhook_url": ""}).raise_for_status()
    try:
        httpx.post(
            platform.url("stripe-emulator", f"/_emulator/subscriptions/{sub_id}/renew"),
            params={"fail": "true"},
        ).raise_for_status()
    finally:
        httpx.post(emulator_config, json={"webhook_url": webhook_url}).raise_for_status()
    failed = _emulator_events(platform, "invoice.payment_failed")[-1]
    assert "subscription" not in failed["data"]["object"]
    assert failed["data"]["object"]["parent"]["subscription_details"]["subscription"] == sub_id
    _deliver(platform, failed)
    _eventually(lambda: _subscription(platform, admin, me["id"])["status"] == "PAST_DUE")
    _deliver(platform, _emulator_events(platform, "customer.subscription.updated")[-1])

    httpx.delete(
        platform.url("stripe-emulator", f"/v1/subscriptions/{sub_id}"),
        auth=("sk_test_platform", ""),
    ).raise_for_status()
    _eventually(lambda: _subscription(platform, admin, me["id"])["status"] == "CANCELED")
    paid = _gql(
        platform,
        "payment",
        admin,
        "query($c: ID!) { paymentConfirmations(clientId: $c) { totalCount } }",
        c=me["id"],
    )["paymentConfirmations"]["totalCount"]
    assert paid == 2  # the first invoice and the renewal, each once

    # Every webhook of this client delivered again, three times, shuffled: nothing changes
    # (a stale subscription.updated after the deletion does not resurrect it).
    events = [
        e["event"]
        for e in httpx.get(platform.url("stripe-emulator", "/_emulator/events")).json()["data"]
    ]
    again = [e for e in events * 3 if _concerns(e, sub_id, me["id"])]
    assert len(again) >= 15
    random.Random(7).shuffle(again)
    for event in again:
        assert _deliver(platform, event).json()["published"] is False
    time.sleep(2)
    assert _subscription(platform, admin, me["id"])["status"] == "CANCELED"
    assert (
        _gql(
            platform,
            "payment",
            admin,
            "query($c: ID!) { paymentConfirmations(clientId: $c) { totalCount } }",
            c=me["id"],
        )["paymentConfirmations"]["totalCount"]
        == 2
    )


def _emulator_events(platform: Platform, event_type: str) -> list[dict[str, Any]]:
    answer = httpx.get(
        platform.url("stripe-emulator", "/_emulator/events"), params={"type": event_type}
    )
    return [e["event"] for e in answer.json()["data"]]


def _deliver(platform: Platform, event: dict[str, Any]) -> httpx.Response:
    """``event`` to the webhooks service, signed as Stripe signs it."""
    payload = json.dumps(event)
    header = WebhookSignature.generate_signature_header(payload, STRIPE_WEBHOOK_SECRET)
    answer = httpx.post(
        platform.url("webhooks", "/webhooks/stripe"),
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    return answer


def _concerns(event: dict[str, Any], subscription_id: str, client_id: str) -> bool:
    obj = event["data"]["object"]
    return subscription_id in json.dumps(obj) or client_id in json.dumps(obj)
