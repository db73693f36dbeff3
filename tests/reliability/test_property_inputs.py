"""Property-based bad input (hypothesis) against the running processes: GraphQL inputs, SMS
bodies, phone numbers and signed webhook payloads. Whatever comes in, no service answers a
server error or crashes, and a refusal is a clear error: a GraphQL error with a stable
``extensions.code`` (or GraphQL's own refusal of a variable), an HTTP 4xx with a reason."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, example, given, settings
from reliability_support import (
    Login,
    PayingClient,
    client_ip,
    gql_body,
    mint_token,
    new_phone,
    stripe_signature,
    twilio_signature,
)

from nudges_devstack.platform import STRIPE_WEBHOOK_SECRET, TWILIO_AUTH_TOKEN, Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

#: The codes a refusal of bad input may carry.
CLEAR_CODES = {"BAD_USER_INPUT", "CONFLICT", "NOT_FOUND", "FORBIDDEN"}
FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
#: Text as people and programs send it: any character, emoji, controls, very long strings.
texts = st.one_of(
    st.text(max_size=60),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=400),
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u202e", "🎉" * 50, "x" * 5000, "Zoë's café"]),
)
CONTROL_AND_EDGE_BODIES = [
    "",
    "   ",
    "🎉🔥 big news 🚀" * 10,
    "x" * 1600,
    "é" * 1600,
    "x" * 1601,
    "line\r\nbreak\ttab\x07bell\x1b[31m",
    "\x00",
    "\u200b\ufeff",
    "CANCEL",
    "help",
]


def assert_clear(body: dict[str, Any]) -> None:
    """Data, or errors that each say what was wrong with a stable code."""
    for error in body.get("errors") or []:
        assert error.get("message"), body
        if "path" not in error:
            continue  # GraphQL refused a variable before any resolver ran
        code = (error.get("extensions") or {}).get("code")
        assert code in CLEAR_CODES, f"unclear error: {error}"


@pytest.fixture(scope="module")
def someone(platform: Platform) -> Login:
    """A subscriber, for calls that need any signed-in person."""
    phone = new_phone()
    return Login(phone, mint_token(platform, phone, "subscriber"), "", "")


def test_create_client_names_and_slugs(platform: Platform) -> None:
    @FUZZ
    @given(
        name=texts,
        slug=st.one_of(st.none(), texts, st.from_regex(r"[a-z0-9-]{1,45}", fullmatch=True)),
    )
    @example(name="Zoë's 🎉 club", slug=None)
    @example(name="a\x00b", slug="ok-slug")
    @example(name="ok", slug="\x00")
    def run(name: str, slug: str | None) -> None:
        token = mint_token(platform, new_phone(), "client")
        body = gql_body(
            platform,
            "user",
            token,
            "mutation($n: String!, $s: String) { createClient(input: {name: $n, slug: $s})"
            " { id slug } }",
            n=name,
            s=slug,
        )
        assert_clear(body)

    run()


def test_client_by_slug_and_join_client_slugs(platform: Platform, someone: Login) -> None:
    @FUZZ
    @given(slug=texts)
    @example(slug="no-such-club")
    @example(slug="\x00")
    def run(slug: str) -> None:
        found = gql_body(
            platform, "user", None, "query($s: String!) { clientBySlug(slug: $s) { id } }", s=slug
        )
        assert_clear(found)
        joined = gql_body(
            platform,
            "user",
            someone.access_token,
            "mutation($s: String!) { joinClient(slug: $s) { id } }",
            s=slug,
        )
        assert_clear(joined)

    run()


def test_create_plan_and_price_tier_inputs(platform: Platform, admin: Login) -> None:
    @FUZZ
    @given(
        name=texts,
        description=texts,
        messages=st.integers(min_value=-(2**31), max_value=2**31 - 1),
        tier_name=texts,
        amount=st.one_of(st.integers(), st.sampled_from([0, -1, 99_999_999, 100_000_000])),
        currency=st.one_of(texts, st.sampled_from(["usd", "EUR", "jpy", "xyz", "US", "usdd"])),
    )
    @example(name="a\x00b", description="", messages=1, tier_name="M", amount=5, currency="usd")
    def run(
        name: str, description: str, messages: int, tier_name: str, amount: int, currency: str
    ) -> None:
        plan = gql_body(
            platform,
            "product",
            admin.access_token,
            "mutation($n: String!, $d: String!, $m: Int!) { createPlan(input: {name: $n,"
            " description: $d, features: {messagesPerPeriod: $m, supportTier: BASIC}}) { id } }",
            n=name,
            d=description,
            m=messages,
        )
        assert_clear(plan)
        plan_id = (plan.get("data") or {}).get("createPlan", {}) or {}
        tier = gql_body(
            platform,
            "product",
            admin.access_token,
            "mutation($p: ID!, $n: String!, $a: Int!, $c: String!) { createPriceTier(planId: $p,"
            " input: {name: $n, amount: $a, currency: $c, interval: MONTH}) { id } }",
            p=plan_id.get("id", str(uuid.uuid4())),
            n=tier_name,
            a=amount,
            c=currency,
        )
        assert_clear(tier)

    run()


def test_discount_codes(platform: Platform, admin: Login) -> None:
    @FUZZ
    @given(
        code=st.one_of(texts, st.from_regex(r"[A-Za-z0-9_-]{1,45}", fullmatch=True)),
        percent=st.one_of(st.none(), st.integers(min_value=-(2**31), max_value=2**31 - 1)),
        amount=st.one_of(st.none(), st.integers(min_value=-(2**31), max_value=2**31 - 1)),
        currency=st.one_of(st.none(), texts),
        duration=st.sampled_from(["ONCE", "REPEATING", "FOREVER"]),
        months=st.one_of(st.none(), st.integers(min_value=-5, max_value=100)),
    )
    @example(code="SPRING20", percent=20, amount=None, currency=None, duration="ONCE", months=None)
    @example(code="A\x00B", percent=5, amount=None, currency=None, duration="ONCE", months=None)
    def run(
        code: str,
        percent: int | None,
        amount: int | None,
        currency: str | None,
        duration: str,
        months: int | None,
    ) -> None:
        body = gql_body(
            platform,
            "product",
            admin.access_token,
            "mutation($i: CreateDiscountCodeInput!) { createDiscountCode(input: $i) { id } }",
            i={
                "code": code,
                "percentOff": percent,
                "amountOff": amount,
                "currency": currency,
                "duration": duration,
                "durationInMonths": months,
            },
        )
        assert_clear(body)

    run()


def _inbound_sms(platform: Platform, sender: str, text: str) -> httpx.Response:
    url = platform.url("webhooks", "/webhooks/twilio/sms")
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "AC00000000000000000000000000000000",
        "From": sender,
        "To": "+15005550006",
        "Body": text,
    }
    return httpx.post(
        url,
        data=params,
        headers={"X-Twilio-Signature": twilio_signature(url, params, TWILIO_AUTH_TOKEN)},
        timeout=30,
    )


def test_sms_bodies_get_a_reply(platform: Platform, paying_client: PayingClient) -> None:
    stranger = new_phone()

    @FUZZ
    @given(text=st.one_of(texts, st.sampled_from(CONTROL_AND_EDGE_BODIES)))
    def run(text: str) -> None:
        for sender in (paying_client.login.phone, stranger):
            response = _inbound_sms(platform, sender, text)
            assert response.status_code == 200, (text, response.text)
            assert "<Message>" in response.text, (text, response.text)

    for text in CONTROL_AND_EDGE_BODIES:
        response = _inbound_sms(platform, paying_client.login.phone, text)
        assert response.status_code == 200, (text, response.text)
        assert "<Message>" in response.text, (text, response.text)
    run()


@pytest.mark.parametrize("text", ["🎉 Launch day! 🚀", "x" * 1600, "", "\x07\x1b"])
def test_texts_through_the_twilio_emulator(
    platform: Platform, paying_client: PayingClient, text: str
) -> None:
    response = httpx.post(
        platform.url("twilio-emulator", "/_emulator/inbound"),
        json={"from": paying_client.login.phone, "body": text},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    assert response.json()["status"] == 200, response.text
    assert response.json()["reply"], response.text


def test_phone_numbers_at_otp(platform: Platform) -> None:
    @FUZZ
    @given(
        phone=st.one_of(
            st.text(max_size=50),
            st.from_regex(r"\+?[0-9 ().-]{0,30}", fullmatch=True),
            st.sampled_from(["+1415555010", "+999999999999", "00", "+", "\x00", "+1 (415) 555"]),
        ),
        role=st.sampled_from(["client", "subscriber", "admin", "root", ""]),
    )
    def run(phone: str, role: str) -> None:
        response = httpx.post(
            platform.url("auth", "/auth/otp"),
            json={"phone": phone, "role": role},
            headers={"X-Forwarded-For": client_ip()},
            timeout=30,
        )
        assert response.status_code in (202, 422, 429), (phone, response.text)
        assert "detail" in response.json() or response.status_code == 202

    run()


def test_signed_stripe_garbage(platform: Platform) -> None:
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    )
    event_like = st.fixed_dictionaries(
        {},
        optional={
            "id": json_values,
            "type": st.one_of(st.text(), st.sampled_from(["invoice.paid", "customer.created"])),
            "data": st.one_of(json_values, st.fixed_dictionaries({"object": json_values})),
        },
    )

    @FUZZ
    @given(
        payload=st.one_of(
            st.text(max_size=300).map(str.encode),
            json_values.map(lambda v: json.dumps(v).encode()),
            event_like.map(lambda v: json.dumps(v).encode()),
        )
    )
    @example(payload=b"")
    @example(payload=b'{"id": "evt_1", "type": "x", "data": {"object": [1, 2]}}')
    def run(payload: bytes) -> None:
        url = platform.url("webhooks", "/webhooks/stripe")
        signed = httpx.post(
            url,
            content=payload,
            headers={"Stripe-Signature": stripe_signature(payload, STRIPE_WEBHOOK_SECRET)},
            timeout=30,
        )
        assert signed.status_code in (200, 400), (payload, signed.text)
        forged = httpx.post(
            url,
            content=payload,
            headers={"Stripe-Signature": stripe_signature(payload, "whsec_someone_else")},
            timeout=30,
        )
        assert forged.status_code == 400, (payload, forged.text)

    run()


def test_a_stripe_body_that_is_not_utf8_is_refused(platform: Platform) -> None:
    payload = b"\x80\xff not UTF-8"
    url = platform.url("webhooks", "/webhooks/stripe")
    answers = [
        httpx.post(url, content=payload, headers=headers, timeout=30).status_code
        for headers in (
            {"Stripe-Signature": stripe_signature(payload, STRIPE_WEBHOOK_SECRET)},
            {"Stripe-Signature": "t=1,v1=00"},
            {},
        )
    ]

    assert answers == [400, 400, 400]


def test_signed_twilio_status_garbage(platform: Platform) -> None:
    @FUZZ
    @given(
        params=st.dictionaries(
            st.sampled_from(["MessageSid", "MessageStatus", "ErrorCode", "SmsSid", "x"]),
            st.text(max_size=40),
            max_size=4,
        )
    )
    def run(params: dict[str, str]) -> None:
        url = platform.url("webhooks", "/webhooks/twilio/status")
        signed = httpx.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": twilio_signature(url, params, TWILIO_AUTH_TOKEN)},
            timeout=30,
        )
        assert signed.status_code in (204, 400), (params, signed.text)
        forged = httpx.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": twilio_signature(url, params, "not-the-token")},
            timeout=30,
        )
        assert forged.status_code == 403, (params, forged.text)

    run()
