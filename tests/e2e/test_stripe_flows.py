"""Stripe flows end to end: plans become Stripe products and prices, a client gets a
Stripe customer, buys a plan through checkout, and the paid invoice is recorded once."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from nudges_devstack.platform import Platform
from nudges_kit.auth import user_id_for
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

pytestmark = pytest.mark.slow


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
    response = httpx.post(
        platform.url(subgraph, "/graphql"),
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
            client,
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            id=me["id"],
        )["client"]["stripeCustomerId"]
    )
    assert customer.startswith("cus_")

    session = _gql(
        platform,
        "payment",
        client,
        "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id stripeSessionId url } }",
        t=tier["id"],
    )["createCheckoutSession"]
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
