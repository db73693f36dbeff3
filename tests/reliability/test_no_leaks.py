"""No phone number and no secret in clear in what the platform wrote: every service's log
under the platform's state folder and every message on every topic of its broker, after the
whole reliability run and a full flow of its own (admin, client buying a plan, subscribers
joining from two countries, texts to the Nudges number, STOP and START).

Runs after every other reliability test (``conftest.LAST``), so it also scans what the
faults, the soak and the fuzzing made the services log. The emulators stand in for Stripe
and Twilio, which do see phone numbers: their logs are not scanned."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import httpx
import pytest
from reliability_support import (
    PHONES_USED,
    Login,
    PayingClient,
    Record,
    eventually,
    every_message,
    gql,
    login,
    new_phone,
    use_phone,
    written_forms,
)

from nudges_devstack.platform import Platform
from nudges_kit.settings import NudgesSettings

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

NOT_SCANNED = {"stripe-emulator.log", "twilio-emulator.log"}
#: A subscriber abroad, for the national written forms of another numbering plan.
FRENCH_MOBILE = "+33612345678"


@dataclass(frozen=True)
class Captured:
    logs: dict[str, list[str]]
    messages: list[Record]
    logins: list[Login]


def _text(platform: Platform, sender: str, body: str) -> str:
    answer = httpx.post(
        platform.url("twilio-emulator", "/_emulator/inbound"),
        json={"from": sender, "body": body},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    reply: str = answer.json()["reply"] or ""
    return reply


#: The topics the flow below publishes on.
FLOW_TOPICS = frozenset({"sms.outbound", "auth.logins", "user.memberships", "user.announcements"})


@pytest.fixture(scope="module")
def captured(platform: Platform, admin: Login, paying_client: PayingClient) -> Captured:
    """The full flow, then everything the services logged and published."""
    fans = [
        login(platform, use_phone(FRENCH_MOBILE), "subscriber"),
        login(platform, new_phone(), "subscriber"),
    ]
    for fan in fans:
        gql(
            platform,
            "user",
            fan.access_token,
            "mutation($s: String!) { joinClient(slug: $s) { id } }",
            s=paying_client.slug,
        )
    owner = paying_client.login.phone
    assert _text(platform, owner, "Trail run moved to 7pm tonight!")
    assert _text(platform, owner, "CONFIRM")
    assert _text(platform, fans[0].phone, "HELP")
    assert _text(platform, fans[1].phone, "STOP")
    assert _text(platform, fans[1].phone, "START")
    assert _text(platform, new_phone(), "hello?")
    gql(
        platform,
        "user",
        admin.access_token,
        "{ subscribers { nodes { subscriber { phoneMasked } } } }",
    )
    # Every topic the flow writes has its events (a relay may be backing off after an
    # earlier test's fault), then the consumers handle them.
    eventually(
        lambda: {record.topic for record in every_message(platform)} >= FLOW_TOPICS, within=60
    )
    time.sleep(3)
    logs = {
        path.name: path.read_text(errors="replace").splitlines()
        for path in sorted(platform.state_dir.glob("*.log"))
        if path.name not in NOT_SCANNED
    }
    return Captured(logs, every_message(platform), [admin, paying_client.login, *fans])


def _hits(captured: Captured, needles: dict[str, str]) -> list[str]:
    """Where any needle (value -> what it is) appears, as 'file:line' or 'topic@offset'."""
    found: list[str] = []
    for name, lines in captured.logs.items():
        for number, line in enumerate(lines, 1):
            for needle, what in needles.items():
                if needle in line:
                    found.append(f"{what} in {name}:{number}: {line[:300]}")
    for record in captured.messages:
        for text in record.texts():
            for needle, what in needles.items():
                if needle in text:
                    found.append(f"{what} on {record.topic}: {text[:300]}")
    return found


def test_no_phone_number_in_any_log_line_or_event(captured: Captured) -> None:
    needles = {
        form: f"phone {phone}"
        for phone in sorted(PHONES_USED)
        for form in written_forms(phone)
        if len(form) >= 7
    }

    assert len(captured.logs) >= 8, sorted(captured.logs)
    topics = {record.topic for record in captured.messages}
    assert topics >= FLOW_TOPICS
    assert FRENCH_MOBILE in PHONES_USED
    assert _hits(captured, needles) == []


def test_no_secret_in_any_log_line_or_event(platform: Platform, captured: Captured) -> None:
    settings = NudgesSettings()
    needles = {value: name for name, value in platform.secrets().items()}
    needles[settings.phone_encryption_key.get_secret_value()] = "PHONE_ENCRYPTION_KEY"
    needles[settings.phone_hash_key.get_secret_value()] = "PHONE_HASH_KEY"
    needles["dev-only-otp-hmac-secret"] = "OTP_HMAC_SECRET"
    for key in json.loads((platform.state_dir / "jwt-keys.json").read_text())["keys"]:
        for line in key["private_key"].splitlines():
            if len(line) >= 40 and "PRIVATE KEY" not in line:
                needles[line] = f"JWT private key {key['kid']}"
    for person in captured.logins:
        needles[person.access_token] = "an access token"
        needles[person.refresh_token] = "a refresh token"
        needles[person.token_id] = "a session id"

    assert _hits(captured, needles) == []
