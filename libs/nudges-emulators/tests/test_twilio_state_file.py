"""The Twilio emulator with a state file: a second process on the same file lists the
messages of the first (with their statuses) and still knows who texted STOP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from nudges_emulators.serving import serve_in_thread
from nudges_emulators.twilio import client_for
from nudges_emulators.twilio.app import build_app
from nudges_emulators.twilio.settings import TwilioEmulatorSettings

SUBSCRIBER = "+14155550142"


def test_messages_and_opt_outs_outlive_the_process(
    tmp_path: Path, rec: Any, receiver_url: str, harness: Any
) -> None:
    path = tmp_path / "twilio-emulator.json"
    settings = TwilioEmulatorSettings(
        twilio_account_sid=harness.account_sid,
        twilio_auth_token=harness.auth_token,
        twilio_phone_number=harness.nudges_number,
        twilio_sms_webhook_url=f"{receiver_url}/sms",
        twilio_emulator_status_delay_seconds=0.01,
        twilio_emulator_enforce_opt_out=True,
        twilio_emulator_state_file=str(path),
        log_level="WARNING",
    )
    with serve_in_thread(build_app(settings)) as first:
        client = client_for(first.url, harness.account_sid, harness.auth_token)
        sent = client.messages.create(to=SUBSCRIBER, from_=harness.nudges_number, body="Hello")
        harness.eventually(lambda: client.messages(sent.sid).fetch().status == "delivered")
        stopped = httpx.post(
            f"{first.url}/_emulator/inbound", json={"from": SUBSCRIBER, "body": "STOP"}
        )
        assert stopped.status_code == 200, stopped.text
    saved = json.loads(path.read_text())
    assert SUBSCRIBER in saved["opted_out"]
    assert [p.name for p in tmp_path.iterdir()] == [path.name]

    with serve_in_thread(build_app(settings)) as second:
        client = client_for(second.url, harness.account_sid, harness.auth_token)
        kept = client.messages(sent.sid).fetch()
        assert (kept.body, kept.status) == ("Hello", "delivered")
        listed = httpx.get(f"{second.url}/_emulator/messages", params={"to": SUBSCRIBER}).json()
        assert [m["body"] for m in listed["messages"]] == ["Hello"]
        refused = httpx.post(
            f"{second.url}/2010-04-01/Accounts/{harness.account_sid}/Messages.json",
            data={"To": SUBSCRIBER, "From": harness.nudges_number, "Body": "again"},
            auth=(harness.account_sid, harness.auth_token),
        )
        assert refused.json()["code"] == 21610
