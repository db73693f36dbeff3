"""Plan changes and trials end to end, through the real services and the Stripe emulator: an
upgrade is billed at once with Stripe's prorations and the allowance grows; a downgrade waits
for the period's end, and once withdrawn the next period is billed at the old price; a trial
checkout starts ``trialing`` and the client is told once, three
days before the first charge."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from nudges_devstack.platform import Platform
from nudges_kit.auth import user_id_for
from nudges_kit.phone import PhoneVault
from nudges_kit.settings import NudgesSettings, with_database

pytestmark = pytest.mark.slow

STRIPE_KEY = ("sk_test_platform", "")
ADMIN_PHONE = "+14155550181"

VIEWER = """{ viewer { ... on Client { id
  subscription { id status currentPeriodEnd pendingChangeAt trialEndsAt
    priceTier { id } pendingPriceTier { id } }
  allowance { messagesPerPeriod } } } }"""
CHANGE_PLAN = """mutation($id: ID!, $t: ID!) { changePlanSubscription(id: $id, priceTierId: $t) {
  id priceTier { id } pendingPriceTier { id } pendingChangeAt currentPeriodEnd } }"""
CANCEL_CHANGE = """mutation($id: ID!) { cancelPlanChange(id: $id) {
  id priceTier { id } pendingPriceTier { id } pendingChangeAt } }"""
STRIPE_SUBSCRIPTION = """query($c: ID!) { planSubscriptions(clientId: $c) {
  nodes { stripeSubscriptionId } } }"""


def _eventually(check: Callable[[], Any], within: float = 40.0) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {within}s")
        time.sleep(0.3)


def _login(platform: Platform, phone: str, role: str) -> str:
    with httpx.Client(base_url=platform.url("auth"), timeout=10) as http:
        code = http.post("/auth/otp", json={"phone": phone, "role": role}).json()["code"]
        verified = http.post("/auth/otp/verify", json={"phone": phone, "code": code, "role": role})
        assert verified.status_code == 200, verified.text
        return str(verified.json()["access_token"])


def _gql(platform: Platform, token: str, query: str, **variables: Any) -> Any:
    body = httpx.post(
        platform.url("gateway", "/graphql"),
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
        timeout=20,
    ).json()
    assert not body.get("errors"), body
    return body["data"]


#: The admin's token per platform: one login for the module's tests, as AuthApi allows a
#: number only a few codes per window.
_ADMIN_TOKENS: dict[int, str] = {}


def _admin(platform: Platform) -> str:
    settings = NudgesSettings()
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    phone_hash = vault.hash(ADMIN_PHONE)
    with psycopg.connect(with_database(platform.postgres_url, platform.databases["user"])) as conn:
        conn.execute(
            "INSERT INTO users (id, phone_hash, phone_ciphertext) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash), phone_hash, vault.encrypt(ADMIN_PHONE)),
        )
        conn.execute(
            "INSERT INTO admins (user_id) VALUES (%s) ON CONFLICT DO NOTHING",
            (user_id_for(phone_hash),),
        )
    if id(platform) not in _ADMIN_TOKENS:
        _ADMIN_TOKENS[id(platform)] = _login(platform, ADMIN_PHONE, "admin")
    return _ADMIN_TOKENS[id(platform)]


def _plan(
    platform: Platform, admin: str, name: str, amount: int, messages: int, **tier: Any
) -> str:
    """A plan of one monthly tier, synced to Stripe; the tier's id."""
    name = f"{name} {uuid.uuid4().hex[:4]}"
    plan = _gql(
        platform,
        admin,
        """mutation($n: String!, $m: Int!) { createPlan(input: {name: $n, description: "",
          features: {messagesPerPeriod: $m, supportTier: BASIC, aiAssist: false}}) { id } }""",
        n=name,
        m=messages,
    )["createPlan"]
    tier_id = _gql(
        platform,
        admin,
        """mutation($p: ID!, $i: CreatePriceTierInput!) {
          createPriceTier(planId: $p, input: $i) { id } }""",
        p=plan["id"],
        i={"name": "Monthly", "amount": amount, "currency": "usd", "interval": "MONTH", **tier},
    )["createPriceTier"]["id"]
    _eventually(
        lambda: _gql(
            platform,
            admin,
            "query($id: ID!) { plan(id: $id) { tiers { stripePriceId } } }",
            id=plan["id"],
        )["plan"]["tiers"][0]["stripePriceId"]
    )
    return str(tier_id)


def _client_on(platform: Platform, admin: str, phone: str, tier_id: str) -> tuple[str, str]:
    """A new client who bought ``tier_id`` through checkout: its token and Stripe subscription."""
    client = _login(platform, phone, "client")
    slug = f"club-{uuid.uuid4().hex[:8]}"
    me = _gql(
        platform,
        client,
        'mutation($s: String!) { createClient(input: {name: "Club", slug: $s}) { id } }',
        s=slug,
    )["createClient"]
    _eventually(
        lambda: _gql(
            platform,
            admin,
            "query($id: ID!) { client(id: $id) { stripeCustomerId } }",
            id=me["id"],
        )["client"]["stripeCustomerId"]
    )
    session = _gql(
        platform,
        client,
        "mutation($t: ID!) { createCheckoutSession(priceTierId: $t) { id } }",
        t=tier_id,
    )["createCheckoutSession"]
    stripe_session = _gql(
        platform,
        admin,
        "query($id: ID!) { checkoutSession(id: $id) { stripeSessionId } }",
        id=session["id"],
    )["checkoutSession"]["stripeSessionId"]
    httpx.post(
        platform.url("stripe-emulator", f"/_emulator/checkout/{stripe_session}/complete")
    ).raise_for_status()
    _eventually(
        lambda: (
            (sub := _viewer(platform, client)["subscription"])
            and sub["status"] == "ACTIVE"
            and sub["currentPeriodEnd"]
        )
    )
    stripe_id = _gql(platform, admin, STRIPE_SUBSCRIPTION, c=me["id"])["planSubscriptions"][
        "nodes"
    ][0]["stripeSubscriptionId"]
    return client, str(stripe_id)


def _viewer(platform: Platform, token: str) -> dict[str, Any]:
    return dict(_gql(platform, token, VIEWER)["viewer"])


def _stripe(platform: Platform, path: str, **params: Any) -> Any:
    answer = httpx.get(platform.url("stripe-emulator", path), params=params, auth=STRIPE_KEY)
    answer.raise_for_status()
    return answer.json()


def _payments(platform: Platform, token: str) -> list[int]:
    nodes = _gql(platform, token, "{ viewer { ... on Client { payments { nodes { amount } } } } }")
    return sorted(n["amount"] for n in nodes["viewer"]["payments"]["nodes"])


def test_an_upgrade_is_billed_at_once_with_prorations_and_grows_the_allowance(
    platform: Platform,
) -> None:
    admin = _admin(platform)
    basic = _plan(platform, admin, "Basic", 900, 100)
    pro = _plan(platform, admin, "Pro", 2900, 1000)
    client, stripe_id = _client_on(platform, admin, "+14155550182", basic)
    before = _viewer(platform, client)
    assert before["allowance"]["messagesPerPeriod"] == 100

    asked = _gql(platform, client, CHANGE_PLAN, id=before["subscription"]["id"], t=pro)
    assert asked["changePlanSubscription"]["pendingPriceTier"] == {"id": pro}
    assert asked["changePlanSubscription"]["pendingChangeAt"] is None  # at once

    after = _eventually(
        lambda: (
            (found := _viewer(platform, client))["subscription"]["priceTier"]["id"] == pro and found
        )
    )
    assert after["subscription"]["pendingPriceTier"] is None
    assert after["allowance"]["messagesPerPeriod"] == 1000
    # Stripe bills the new price from now: the prorations invoiced at once, and paid.
    invoices = _stripe(platform, "/v1/invoices", subscription=stripe_id)["data"]
    proration = [i for i in invoices if i["billing_reason"] == "subscription_update"]
    assert len(proration) == 1
    assert proration[0]["status"] == "paid"
    # About the unused 9.00 back and 29.00 for the rest of the month: close to 20.00.
    assert 1990 <= proration[0]["amount_paid"] <= 2000
    sub = _stripe(platform, f"/v1/subscriptions/{stripe_id}")
    assert sub["items"]["data"][0]["price"]["unit_amount"] == 2900
    # PaymentApi records the proration's payment as any other.
    prorated = proration[0]["amount_paid"]
    assert _eventually(lambda: _payments(platform, client) == sorted([900, prorated]))


def test_a_downgrade_waits_for_the_period_end(platform: Platform) -> None:
    admin = _admin(platform)
    basic = _plan(platform, admin, "Basic", 900, 100)
    pro = _plan(platform, admin, "Pro", 2900, 1000)
    client, stripe_id = _client_on(platform, admin, "+14155550183", pro)
    before = _viewer(platform, client)
    period_end = before["subscription"]["currentPeriodEnd"]

    asked = _gql(platform, client, CHANGE_PLAN, id=before["subscription"]["id"], t=basic)
    assert asked["changePlanSubscription"]["pendingPriceTier"] == {"id": basic}
    assert asked["changePlanSubscription"]["pendingChangeAt"] == period_end

    # Stripe bills the lower price from the next period, with no prorations now ...
    _eventually(
        lambda: (
            _stripe(platform, f"/v1/subscriptions/{stripe_id}")["items"]["data"][0]["price"][
                "unit_amount"
            ]
            == 900
        )
    )
    time.sleep(3)  # Stripe's customer.subscription.updated reaches ProductApi meanwhile
    invoices = _stripe(platform, "/v1/invoices", subscription=stripe_id)["data"]
    assert [i["billing_reason"] for i in invoices] == ["subscription_create"]
    # ... and the client keeps what they paid for until the period ends.
    pending = _viewer(platform, client)
    assert pending["subscription"]["priceTier"] == {"id": pro}
    assert pending["subscription"]["pendingPriceTier"] == {"id": basic}
    assert pending["subscription"]["pendingChangeAt"] == period_end
    assert pending["allowance"]["messagesPerPeriod"] == 1000

    httpx.post(
        platform.url("stripe-emulator", f"/_emulator/subscriptions/{stripe_id}/renew")
    ).raise_for_status()

    after = _eventually(
        lambda: (
            (found := _viewer(platform, client))["subscription"]["priceTier"]["id"] == basic
            and found
        )
    )
    assert after["subscription"]["pendingPriceTier"] is None
    assert after["subscription"]["pendingChangeAt"] is None
    assert after["subscription"]["currentPeriodEnd"] != period_end
    assert after["allowance"]["messagesPerPeriod"] == 100
    assert _eventually(lambda: _payments(platform, client) == [900, 2900])


def _stripe_price(platform: Platform, stripe_id: str) -> int:
    sub = _stripe(platform, f"/v1/subscriptions/{stripe_id}")
    return int(sub["items"]["data"][0]["price"]["unit_amount"])


def test_a_withdrawn_downgrade_keeps_the_plan_and_its_price(platform: Platform) -> None:
    admin = _admin(platform)
    basic = _plan(platform, admin, "Basic", 900, 100)
    pro = _plan(platform, admin, "Pro", 2900, 1000)
    client, stripe_id = _client_on(platform, admin, "+14155550185", pro)
    subscription_id = _viewer(platform, client)["subscription"]["id"]
    _gql(platform, client, CHANGE_PLAN, id=subscription_id, t=basic)
    _eventually(lambda: _stripe_price(platform, stripe_id) == 900)

    kept = _gql(platform, client, CANCEL_CHANGE, id=subscription_id)["cancelPlanChange"]
    again = _gql(platform, client, CANCEL_CHANGE, id=subscription_id)["cancelPlanChange"]

    assert kept == {
        "id": subscription_id,
        "priceTier": {"id": pro},
        "pendingPriceTier": None,
        "pendingChangeAt": None,
    }
    assert again == kept
    # The consumers move Stripe back to the price in force, without prorations.
    _eventually(lambda: _stripe_price(platform, stripe_id) == 2900)
    invoices = _stripe(platform, "/v1/invoices", subscription=stripe_id)["data"]
    assert [i["billing_reason"] for i in invoices] == ["subscription_create"]

    httpx.post(
        platform.url("stripe-emulator", f"/_emulator/subscriptions/{stripe_id}/renew")
    ).raise_for_status()

    # The next period is billed at the old price, and the plan stays as it was.
    assert _eventually(lambda: _payments(platform, client) == [2900, 2900])
    after = _viewer(platform, client)
    assert after["subscription"]["priceTier"] == {"id": pro}
    assert after["subscription"]["pendingPriceTier"] is None
    assert after["allowance"]["messagesPerPeriod"] == 1000


def test_a_trial_checkout_is_trialing_and_texts_once_before_the_first_charge(
    platform: Platform,
) -> None:
    admin = _admin(platform)
    tier = _plan(platform, admin, "Trial", 1500, 200, trialDays=14)
    phone = "+14155550184"
    client, stripe_id = _client_on(platform, admin, phone, tier)

    sub = _stripe(platform, f"/v1/subscriptions/{stripe_id}")
    assert sub["status"] == "trialing"
    shown = _eventually(lambda: _viewer(platform, client)["subscription"]["trialEndsAt"])
    trial_end = datetime.fromisoformat(shown)
    assert trial_end == datetime.fromtimestamp(sub["trial_end"], UTC)
    assert abs(trial_end - datetime.now(UTC) - timedelta(days=14)) < timedelta(minutes=5)
    assert _viewer(platform, client)["allowance"]["messagesPerPeriod"] == 200

    # Three days before the end, Stripe says so; it may say it more than once.
    for _ in range(2):
        httpx.post(
            platform.url("stripe-emulator", f"/_emulator/subscriptions/{stripe_id}/trial_will_end")
        ).raise_for_status()

    def trial_texts() -> list[str]:
        messages = httpx.get(platform.url("twilio-emulator", "/_emulator/messages")).json()
        return [
            m["body"]
            for m in messages["messages"]
            if m["to"] == phone and "free trial" in m["body"]
        ]

    texts = _eventually(trial_texts)
    time.sleep(4)  # a second text, were there one, would be out by now
    assert trial_texts() == texts
    assert len(texts) == 1
    assert texts[0].startswith("Your free trial of the Trial ")
    assert "plan ends in 14 days." in texts[0]
