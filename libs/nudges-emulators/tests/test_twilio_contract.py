"""Every Message resource the Twilio emulator answers has exactly the fields the ``twilio``
library's ``MessageInstance`` reads, with a documented status and direction; every status
callback carries the parameters Twilio documents, for the statuses Twilio calls back for."""

from __future__ import annotations

from typing import Any

import httpx

from nudges_emulators.contract import check_twilio_callback, check_twilio_message

SUBSCRIBER = "+14155550123"


def test_messages_and_callbacks_have_twilios_shapes(
    twilio_url: str, rec: Any, receiver_url: str, harness: Any
) -> None:
    httpx.post(
        f"{twilio_url}/_emulator/failures",
        json={"numbers": {"+14155550111": "undelivered", "+14155550122": "failed"}},
    ).raise_for_status()
    base = f"{twilio_url}/2010-04-01/Accounts/{harness.account_sid}/Messages"
    auth = (harness.account_sid, harness.auth_token)
    callback = f"{receiver_url}/status"
    sends = [
        {"To": SUBSCRIBER, "From": harness.nudges_number},
        {"To": "+14155550111", "From": harness.nudges_number},
        {"To": "+14155550122", "From": harness.nudges_number},
        {"To": SUBSCRIBER, "MessagingServiceSid": "MG" + "0" * 32},
    ]
    violations: list[str] = []
    sids = []
    for send in sends:
        created = httpx.post(
            f"{base}.json", data={**send, "Body": "hi", "StatusCallback": callback}, auth=auth
        )
        assert created.status_code == 201, created.text
        violations += check_twilio_message(created.json())
        sids.append(created.json()["sid"])

    finals = {"delivered", "undelivered", "failed"}

    def all_final() -> list[Any] | None:
        got = rec.received("/status")
        done = [c for c in got if c.form["MessageStatus"] in finals]
        return got if len(done) == len(sends) else None

    calls = harness.eventually(all_final)
    for call in calls:
        violations += check_twilio_callback(call.form)
    for sid in sids:
        violations += check_twilio_message(httpx.get(f"{base}/{sid}.json", auth=auth).json())
    listed = httpx.get(f"{base}.json", auth=auth).json()
    for message in listed["messages"]:
        violations += check_twilio_message(message)

    assert violations == []
    assert {c.form["MessageStatus"] for c in calls} == {
        "sent",
        "delivered",
        "undelivered",
        "failed",
    }
    assert "queued" not in {c.form["MessageStatus"] for c in calls}


def test_the_twilio_check_catches_undocumented_callbacks() -> None:
    queued = {
        "AccountSid": "AC1",
        "ApiVersion": "2010-04-01",
        "From": "+1",
        "To": "+2",
        "MessageSid": "SM1",
        "SmsSid": "SM1",
        "MessageStatus": "queued",
        "SmsStatus": "queued",
    }
    assert any("no callback for 'queued'" in v for v in check_twilio_callback(queued))
    delivered = {**queued, "MessageStatus": "delivered", "SmsStatus": "delivered"}
    assert any("RawDlrDoneDate" in v for v in check_twilio_callback(delivered))
    assert check_twilio_callback({**delivered, "RawDlrDoneDate": "2612070530"}) == []
    assert any("not a field" in v for v in check_twilio_message({"sid": "SM1", "extra": 1}))
