"""The official ``twilio`` library against the emulator: sending, listing and fetching, and
the errors Nudges' senders must handle (401, 400 invalid number, 429 past the rate, forced
500s and timeouts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from nudges_emulators.twilio import client_for

SUBSCRIBER = "+14155550123"


def test_library_sends_lists_and_fetches(twilio_client: Client, harness: Any) -> None:
    sent = twilio_client.messages.create(
        to=SUBSCRIBER, from_=harness.nudges_number, body="Gold Gym: open at 6 tomorrow"
    )

    assert sent.sid.startswith("SM")
    assert len(sent.sid) == 34
    assert sent.status == "queued"
    assert sent.to == SUBSCRIBER
    assert sent.from_ == harness.nudges_number
    assert sent.num_segments == "1"
    assert sent.account_sid == harness.account_sid
    assert sent.date_created is not None
    assert [m.sid for m in twilio_client.messages.list(to=SUBSCRIBER)] == [sent.sid]
    fetched = harness.eventually(
        lambda: (m := twilio_client.messages(sent.sid).fetch()).status == "delivered" and m
    )
    assert fetched.date_sent is not None
    assert fetched.body == "Gold Gym: open at 6 tomorrow"


def test_lists_page_newest_first_and_filter_by_to_and_date_sent(
    twilio_client: Client, harness: Any
) -> None:
    for i in range(5):
        twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body=f"m{i}")
    twilio_client.messages.create(to="+14155550199", from_=harness.nudges_number, body="other")

    paged = twilio_client.messages.list(to=SUBSCRIBER, page_size=2)
    recent = twilio_client.messages.list(
        to=SUBSCRIBER, date_sent_after=datetime.now(UTC) - timedelta(minutes=1)
    )
    future = twilio_client.messages.list(date_sent_after=datetime.now(UTC) + timedelta(days=2))

    assert [m.body for m in paged] == ["m4", "m3", "m2", "m1", "m0"]
    assert len(recent) == 5
    assert future == []
    assert len(twilio_client.messages.list()) == 6


def test_messaging_service_sends_are_accepted_then_get_the_nudges_number(
    twilio_client: Client, harness: Any
) -> None:
    sent = twilio_client.messages.create(
        to=SUBSCRIBER, messaging_service_sid="MG" + "0" * 32, body="hi"
    )
    assert sent.status == "accepted"
    assert sent.from_ is None
    fetched = harness.eventually(
        lambda: (m := twilio_client.messages(sent.sid).fetch()).status == "delivered" and m
    )
    assert fetched.from_ == harness.nudges_number


def test_wrong_credentials_are_refused(twilio_url: str, harness: Any) -> None:
    intruder = client_for(twilio_url, harness.account_sid, "not-the-token")
    with pytest.raises(TwilioRestException) as raised:
        intruder.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="x")
    assert raised.value.status == 401
    assert raised.value.code == 20003


@pytest.mark.parametrize(
    ("to", "body", "code"),
    [
        ("+1555", "hi", 21211),
        ("not a number", "hi", 21211),
        ("+15005550001", "hi", 21211),
        (SUBSCRIBER, "", 21602),
        (SUBSCRIBER, "x" * 1601, 21617),
    ],
)
def test_invalid_sends_answer_400_with_twilio_codes(
    twilio_client: Client, harness: Any, to: str, body: str, code: int
) -> None:
    with pytest.raises(TwilioRestException) as raised:
        twilio_client.messages.create(to=to, from_=harness.nudges_number, body=body)
    assert raised.value.status == 400
    assert raised.value.code == code


def test_sends_past_the_rate_answer_429(
    twilio_client: Client, twilio_url: str, harness: Any
) -> None:
    httpx.post(f"{twilio_url}/_emulator/config", json={"max_mps": 3}).raise_for_status()
    outcomes = []
    for _ in range(8):
        try:
            twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="x")
            outcomes.append((201, 0))
        except TwilioRestException as exc:
            outcomes.append((exc.status, exc.code))
    assert outcomes[:3] == [(201, 0)] * 3
    assert (429, 20429) in outcomes


def test_forced_errors_then_success(twilio_client: Client, twilio_url: str, harness: Any) -> None:
    httpx.post(
        f"{twilio_url}/_emulator/failures", json={"errors": {"status": 500, "count": 2}}
    ).raise_for_status()
    statuses = []
    for _ in range(3):
        try:
            twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="x")
            statuses.append(201)
        except TwilioRestException as exc:
            statuses.append(exc.status)
    assert statuses == [500, 500, 201]
    assert len(twilio_client.messages.list(to=SUBSCRIBER)) == 1


def test_forced_errors_bound_to_a_number_leave_other_numbers_alone(
    twilio_client: Client, twilio_url: str, harness: Any
) -> None:
    other = "+14155550142"
    httpx.post(
        f"{twilio_url}/_emulator/failures",
        json={"errors": {"status": 503, "count": 1, "to": SUBSCRIBER}},
    ).raise_for_status()
    twilio_client.messages.create(to=other, from_=harness.nudges_number, body="not this one")
    with pytest.raises(TwilioRestException) as refused:
        twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="x")
    assert refused.value.status == 503
    twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="spent")
    assert [m.body for m in twilio_client.messages.list(to=SUBSCRIBER)] == ["spent"]


def test_an_in_doubt_send_is_found_in_the_list(
    twilio_client: Client, twilio_url: str, harness: Any
) -> None:
    httpx.post(
        f"{twilio_url}/_emulator/failures",
        json={"errors": {"status": 503, "count": 1, "after_create": True}},
    ).raise_for_status()
    with pytest.raises(TwilioRestException):
        twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="once")
    assert [m.body for m in twilio_client.messages.list(to=SUBSCRIBER)] == ["once"]


def test_a_delayed_answer_times_the_caller_out_but_the_message_exists(
    twilio_url: str, harness: Any
) -> None:
    httpx.post(
        f"{twilio_url}/_emulator/failures", json={"delays": {"seconds": 1.0, "count": 1}}
    ).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{twilio_url}/2010-04-01/Accounts/{harness.account_sid}/Messages.json",
            data={"To": SUBSCRIBER, "From": harness.nudges_number, "Body": "late"},
            auth=(harness.account_sid, harness.auth_token),
            timeout=0.2,
        )
    listed = httpx.get(f"{twilio_url}/_emulator/messages", params={"to": SUBSCRIBER}).json()
    assert [m["body"] for m in listed["messages"]] == ["late"]
