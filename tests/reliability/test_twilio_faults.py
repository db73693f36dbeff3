"""Twilio answering 500, 429, in doubt and late while Nudges sends an SMS (a login code, on
``sms.outbound``): each message reaches the phone exactly once; past the attempt limit the
event is dead-lettered and ``nudges dlq replay`` sends it, still once."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from reliability_support import (
    client_ip,
    dlq_list,
    eventually,
    figure,
    new_phone,
    nudges_cli,
)

from nudges_devstack.platform import Platform

pytestmark = [pytest.mark.reliability, pytest.mark.slow]


def _failures(platform: Platform, **change: Any) -> None:
    httpx.post(
        platform.url("twilio-emulator", "/_emulator/failures"), json=change, timeout=10
    ).raise_for_status()


def _ask_code(platform: Platform) -> tuple[str, str]:
    phone = new_phone()
    asked = httpx.post(
        platform.url("auth", "/auth/otp"),
        json={"phone": phone, "role": "subscriber"},
        headers={"X-Forwarded-For": client_ip()},
        timeout=10,
    )
    assert asked.status_code == 202, asked.text
    return phone, str(asked.json()["code"])


def _sent_to(platform: Platform, phone: str) -> list[dict[str, Any]]:
    listed = httpx.get(
        platform.url("twilio-emulator", "/_emulator/messages"), params={"to": phone}, timeout=10
    )
    messages: list[dict[str, Any]] = listed.json()["messages"]
    return messages


def _exactly_once(platform: Platform, phone: str, code: str, within: float) -> None:
    eventually(lambda: _sent_to(platform, phone), within=within)
    time.sleep(1.5)  # a second copy would show up by now
    messages = _sent_to(platform, phone)
    assert len(messages) == 1, messages
    assert code in messages[0]["body"]


def test_codes_reach_the_phone_once_through_twilio_errors(platform: Platform) -> None:
    _failures(platform, clear=True)
    phone, code = _ask_code(platform)
    _exactly_once(platform, phone, code, within=15)

    outcomes: dict[str, str] = {}
    for name, change in {
        "500 x2": {"errors": {"status": 500, "count": 2}},
        "429 x2": {"errors": {"status": 429, "count": 2}},
        "503 after accepting": {"errors": {"status": 503, "count": 1, "after_create": True}},
        "15 s late answer": {"delays": {"seconds": 15, "count": 1}},
    }.items():
        _failures(platform, clear=True, **change)
        phone, code = _ask_code(platform)
        _exactly_once(platform, phone, code, within=60)
        outcomes[name] = "sent once"

    _failures(platform, clear=True, errors={"status": 429, "count": 10_000})
    try:
        phone, code = _ask_code(platform)
        letter = eventually(
            lambda: next(
                (x for x in dlq_list(platform, "sms.outbound") if x["attempts"] > 1), None
            ),
            within=120,
            interval=2,
        )
    finally:
        _failures(platform, clear=True)
    assert _sent_to(platform, phone) == []
    nudges_cli(platform, "dlq", "replay", "sms.outbound", "--event-id", letter["event_id"])
    _exactly_once(platform, phone, code, within=60)
    outcomes["429 until dead-lettered, then replayed"] = "sent once"
    figure("twilio faults", ", ".join(f"{k}: {v}" for k, v in outcomes.items()))
