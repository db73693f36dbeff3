"""WarpCache killed and restarted (it keeps everything in memory): sessions fail closed, as
401 at AuthApi's session lookup once the cache is back and 503 with Retry-After while it is
down, never 500 and never a session; codes sent before the restart are gone and new ones can
be requested; Stripe webhooks are refused with 503 while it is down, so Stripe retries them."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest
from reliability_support import (
    client_ip,
    eventually,
    figure,
    login,
    new_phone,
    stripe_signature,
)

from nudges_devstack.platform import STRIPE_WEBHOOK_SECRET, Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def _session(platform: Platform, token_id: str) -> httpx.Response:
    return httpx.get(
        platform.url("auth", "/auth/session"), cookies={"TokenId": token_id}, timeout=10
    )


def _otp(platform: Platform, phone: str, ip: str) -> httpx.Response:
    return httpx.post(
        platform.url("auth", "/auth/otp"),
        json={"phone": phone, "role": "subscriber"},
        headers={"X-Forwarded-For": ip},
        timeout=10,
    )


def _verify(platform: Platform, phone: str, code: str, ip: str) -> httpx.Response:
    return httpx.post(
        platform.url("auth", "/auth/otp/verify"),
        json={"phone": phone, "code": code, "role": "subscriber"},
        headers={"X-Forwarded-For": ip},
        timeout=10,
    )


def _stripe_event(platform: Platform, event: dict[str, Any]) -> httpx.Response:
    payload = json.dumps(event).encode()
    return httpx.post(
        platform.url("webhooks", "/webhooks/stripe"),
        content=payload,
        headers={"Stripe-Signature": stripe_signature(payload, STRIPE_WEBHOOK_SECRET)},
        timeout=10,
    )


def test_sessions_fail_closed_and_codes_can_be_asked_again_after_a_restart(
    platform: Platform,
) -> None:
    person = login(platform, new_phone(), "subscriber")
    assert _session(platform, person.token_id).status_code == 200
    event = {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": f"cus_{uuid.uuid4().hex}", "object": "customer"}},
    }
    waiting, ip = new_phone(), client_ip()
    asked = _otp(platform, waiting, ip)
    assert asked.status_code == 202, asked.text
    old_code = asked.json()["code"]

    platform.kill_service("warpcache")
    try:
        down = _session(platform, person.token_id)
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"]
        assert "access_token" not in down.text
        assert _otp(platform, new_phone(), client_ip()).status_code == 503
        assert _verify(platform, waiting, old_code, ip).status_code == 503
        refresh = httpx.post(
            platform.url("auth", "/auth/refresh"),
            json={"refresh_token": person.refresh_token},
            timeout=10,
        )
        assert refresh.status_code == 503, refresh.text
        # A verified Stripe event cannot be recorded once: refused, so Stripe sends it again.
        assert _stripe_event(platform, event).status_code == 503
    finally:
        platform.start_service("warpcache")
    back_at = time.monotonic()
    assert eventually(lambda: _stripe_event(platform, event).status_code == 200, within=30)

    gone = eventually(
        lambda: (r := _session(platform, person.token_id)).status_code != 503 and r, within=30
    )
    assert gone.status_code == 401, gone.text
    refresh = httpx.post(
        platform.url("auth", "/auth/refresh"),
        json={"refresh_token": person.refresh_token},
        timeout=10,
    )
    assert refresh.status_code == 401, refresh.text
    stale = _verify(platform, waiting, old_code, ip)
    assert stale.status_code == 400, stale.text
    assert "no valid code" in stale.json()["detail"]

    again = _otp(platform, waiting, ip)
    assert again.status_code == 202, again.text
    verified = _verify(platform, waiting, again.json()["code"], ip)
    assert verified.status_code == 200, verified.text
    recovered = time.monotonic() - back_at
    assert _session(platform, verified.cookies["TokenId"]).status_code == 200
    figure("warpcache restart: new login works after restart", f"{recovered:.2f} s")
