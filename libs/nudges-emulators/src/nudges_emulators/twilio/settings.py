"""Twilio emulator settings, from environment variables."""

from __future__ import annotations

from pydantic import SecretStr

from nudges_kit.settings import NudgesSettings


class TwilioEmulatorSettings(NudgesSettings):  # type: ignore[misc]  # kit: no py.typed
    """The account the emulator answers for, the Nudges number, and its simulated network."""

    service_name: str = "twilio-emulator"
    http_port: int = 12112

    twilio_account_sid: str = "AC00000000000000000000000000000000"
    #: The auth token API callers authenticate with and every webhook is signed with.
    twilio_auth_token: SecretStr = SecretStr("dev-auth-token")
    #: The Nudges number: inbound texts go to it, TwiML replies come from it.
    twilio_phone_number: str = "+15005550006"
    #: Where inbound SMS are delivered (the webhooks service).
    twilio_sms_webhook_url: str = "http://127.0.0.1:4005/webhooks/twilio/sms"
    #: Messages accepted per second per account; past it, 429 (error 20429). 0: unlimited.
    twilio_emulator_max_mps: float = 0.0
    #: Seconds between a message's status steps (queued, sent, delivered).
    twilio_emulator_status_delay_seconds: float = 0.05
    twilio_emulator_callback_max_attempts: int = 3
    twilio_emulator_callback_retry_seconds: float = 0.5
    twilio_emulator_callback_timeout_seconds: float = 10.0
    #: Refuse sends to numbers that texted STOP (error 21610) as Twilio's Advanced Opt-Out
    #: does. Off by default so that tests see it when Nudges itself texts a stopped number.
    twilio_emulator_enforce_opt_out: bool = False
    #: The file the emulator keeps its messages and opt-outs in across restarts
    #: (``nudges-dev up``: ``.nudges/twilio-emulator.json``); empty: memory only.
    twilio_emulator_state_file: str = ""
