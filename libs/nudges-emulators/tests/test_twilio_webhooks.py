"""Requests from the Twilio emulator to Nudges: status callbacks in order, inbound texts,
all signed so that ``twilio.request_validator.RequestValidator`` accepts them."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from twilio.base.exceptions import TwilioRestException
from twilio.request_validator import RequestValidator
from twilio.rest import Client

SUBSCRIBER = "+14155550123"


def _valid(request: Any, token: str) -> bool:
    return bool(
        RequestValidator(token).validate(
            request.url, request.form, request.headers["x-twilio-signature"]
        )
    )


def test_status_callbacks_arrive_in_order_and_signed(
    twilio_client: Client, rec: Any, receiver_url: str, harness: Any
) -> None:
    callback = f"{receiver_url}/status?announcement=a1"
    sent = twilio_client.messages.create(
        to=SUBSCRIBER, from_=harness.nudges_number, body="hello", status_callback=callback
    )

    calls = harness.eventually(
        lambda: len(rec.received("/status")) >= 2 and rec.received("/status")
    )

    # Twilio sends no callback for queued.
    assert [c.form["MessageStatus"] for c in calls] == ["sent", "delivered"]
    assert re.fullmatch(r"\d{10}", calls[1].form["RawDlrDoneDate"])  # YYMMDDHHMM
    assert "RawDlrDoneDate" not in calls[0].form
    assert all(c.form["MessageSid"] == sent.sid for c in calls)
    assert calls[0].form["To"] == SUBSCRIBER
    assert calls[0].form["From"] == harness.nudges_number
    assert calls[0].form["AccountSid"] == harness.account_sid
    assert all(_valid(c, harness.auth_token) for c in calls)
    assert not _valid(calls[0], "another-token")


def test_failing_numbers_end_undelivered_or_failed_with_an_error_code(
    twilio_client: Client, twilio_url: str, rec: Any, receiver_url: str, harness: Any
) -> None:
    httpx.post(
        f"{twilio_url}/_emulator/failures",
        json={"numbers": {"+14155550111": "undelivered", "+14155550122": "failed"}},
    ).raise_for_status()
    for number in ("+14155550111", "+14155550122"):
        twilio_client.messages.create(
            to=number,
            from_=harness.nudges_number,
            body="x",
            status_callback=f"{receiver_url}/status",
        )

    def final_statuses() -> dict[str, tuple[str, str]]:
        finals = {
            c.form["To"]: (c.form["MessageStatus"], c.form.get("ErrorCode", ""))
            for c in rec.received("/status")
            if c.form["MessageStatus"] in ("undelivered", "failed")
        }
        return finals if len(finals) == 2 else {}

    assert harness.eventually(final_statuses) == {
        "+14155550111": ("undelivered", "30003"),
        "+14155550122": ("failed", "30008"),
    }
    sequence = [
        c.form["MessageStatus"] for c in rec.received("/status") if c.form["To"] == "+14155550122"
    ]
    assert sequence == ["failed"]


def test_a_failing_callback_receiver_gets_the_callback_again(
    twilio_client: Client, twilio_url: str, rec: Any, receiver_url: str, harness: Any
) -> None:
    rec.fail_next("/status", 1)
    sent = twilio_client.messages.create(
        to=SUBSCRIBER,
        from_=harness.nudges_number,
        body="x",
        status_callback=f"{receiver_url}/status",
    )

    def done() -> list[dict[str, Any]]:
        messages = httpx.get(f"{twilio_url}/_emulator/messages").json()["messages"]
        callbacks = messages[0]["callbacks"] if messages else []
        return callbacks if len(callbacks) == 2 and callbacks[-1]["delivered"] else []

    callbacks = harness.eventually(done)
    assert [c["status"] for c in callbacks] == ["sent", "delivered"]
    assert [a["status_code"] for a in callbacks[0]["attempts"]] == [500, 200]
    assert [c.form["MessageStatus"] for c in rec.received("/status")] == [
        "sent",
        "sent",
        "delivered",
    ]
    assert rec.received("/status")[0].form["MessageSid"] == sent.sid


def test_an_inbound_text_is_delivered_signed_and_the_twiml_reply_returned(
    twilio_url: str, rec: Any, harness: Any
) -> None:
    rec.twiml = (
        "<?xml version='1.0' encoding='UTF-8'?>"
        "<Response><Message>Reply CONFIRM to send to 3 subscribers</Message></Response>"
    )

    answer = httpx.post(
        f"{twilio_url}/_emulator/inbound", json={"from": "+14155550100", "body": "Doors at 7"}
    ).json()

    assert answer["status"] == 200
    assert answer["reply"] == "Reply CONFIRM to send to 3 subscribers"
    assert "<Message>" in answer["twiml"]
    (request,) = rec.received("/sms")
    assert _valid(request, harness.auth_token)
    form = request.form
    assert form["From"] == "+14155550100"
    assert form["To"] == harness.nudges_number
    assert form["Body"] == "Doors at 7"
    assert form["NumMedia"] == "0"
    assert form["MessageSid"] == answer["message_sid"]
    assert form["AccountSid"] == harness.account_sid
    everything = httpx.get(f"{twilio_url}/_emulator/messages", params={"direction": "all"}).json()[
        "messages"
    ]
    assert [m["direction"] for m in everything] == ["inbound", "outbound-reply"]


def test_an_inbound_text_without_a_reply(twilio_url: str, rec: Any) -> None:
    answer = httpx.post(
        f"{twilio_url}/_emulator/inbound", json={"from": "+14155550100", "body": "hi"}
    ).json()
    assert answer["status"] == 200
    assert answer["reply"] is None
    assert answer["replies"] == []


def test_stop_blocks_further_sends_when_opt_out_is_enforced(
    twilio_client: Client, twilio_url: str, harness: Any
) -> None:
    httpx.post(f"{twilio_url}/_emulator/config", json={"enforce_opt_out": True})
    try:
        httpx.post(f"{twilio_url}/_emulator/inbound", json={"from": SUBSCRIBER, "body": " stop "})
        with pytest.raises(TwilioRestException) as refused:
            twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="x")
        assert refused.value.code == 21610
        httpx.post(f"{twilio_url}/_emulator/inbound", json={"from": SUBSCRIBER, "body": "START"})
        twilio_client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="back")
    finally:
        httpx.post(f"{twilio_url}/_emulator/config", json={"enforce_opt_out": False})
