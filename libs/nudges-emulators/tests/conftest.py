"""Each emulator served once per session on a free port, and a receiver app standing in for
the Nudges webhooks service, on real HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest
import stripe
from fastapi import FastAPI, Request, Response
from twilio.rest import Client

from nudges_emulators.forms import parse_flat
from nudges_emulators.serving import ServerThread, serve_in_thread
from nudges_emulators.stripe.app import build_app as build_stripe
from nudges_emulators.stripe.settings import StripeEmulatorSettings
from nudges_emulators.twilio import client_for
from nudges_emulators.twilio.app import build_app as build_twilio
from nudges_emulators.twilio.settings import TwilioEmulatorSettings

WEBHOOK_SECRET = "whsec_test_secret"
ACCOUNT_SID = "AC11111111111111111111111111111111"
AUTH_TOKEN = "test-auth-token"
NUDGES_NUMBER = "+15005550006"

T = TypeVar("T")


def eventually(check: Callable[[], T | None], within: float = 5.0) -> T:
    """The first truthy value of ``check()``, polling; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s (last: {value!r})")
        time.sleep(0.02)


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    url: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def form(self) -> dict[str, str]:
        return parse_flat(self.body)


class Receiver:
    """Records every request; answers 500 to the next N requests of a path when told to,
    and TwiML to ``/sms``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: list[Received] = []
        self._failures: dict[str, int] = {}
        self.twiml = "<?xml version='1.0' encoding='UTF-8'?><Response/>"
        self.app = FastAPI()

        @self.app.post("/{path:path}")
        async def receive(path: str, request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.requests.append(
                    Received(str(request.url), f"/{path}", dict(request.headers), body)
                )
                failing = self._failures.get(f"/{path}", 0)
                if failing:
                    self._failures[f"/{path}"] = failing - 1
            if failing:
                return Response("receiver failing on purpose", 500)
            if path == "sms":
                return Response(self.twiml, media_type="application/xml")
            return Response("ok")

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self._failures.clear()
            self.twiml = "<?xml version='1.0' encoding='UTF-8'?><Response/>"

    def fail_next(self, path: str, times: int) -> None:
        with self._lock:
            self._failures[path] = times

    def received(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]


@pytest.fixture(scope="session")
def receiver() -> Iterator[tuple[Receiver, ServerThread]]:
    rec = Receiver()
    with serve_in_thread(rec.app) as server:
        yield rec, server


@pytest.fixture(scope="session")
def stripe_server(receiver: tuple[Receiver, ServerThread]) -> Iterator[ServerThread]:
    _, rec_server = receiver
    settings = StripeEmulatorSettings(
        stripe_webhook_url=f"{rec_server.url}/stripe",
        stripe_webhook_secret=WEBHOOK_SECRET,
        stripe_webhook_max_attempts=4,
        stripe_webhook_retry_seconds=0.05,
        stripe_webhook_timeout_seconds=2.0,
        log_level="WARNING",
    )
    with serve_in_thread(build_stripe(settings)) as server:
        yield server


@pytest.fixture(scope="session")
def twilio_server(receiver: tuple[Receiver, ServerThread]) -> Iterator[ServerThread]:
    _, rec_server = receiver
    settings = TwilioEmulatorSettings(
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_phone_number=NUDGES_NUMBER,
        twilio_sms_webhook_url=f"{rec_server.url}/sms",
        twilio_emulator_status_delay_seconds=0.01,
        twilio_emulator_callback_retry_seconds=0.05,
        twilio_emulator_callback_max_attempts=3,
        log_level="WARNING",
    )
    with serve_in_thread(build_twilio(settings)) as server:
        yield server


@pytest.fixture
def rec(receiver: tuple[Receiver, ServerThread]) -> Receiver:
    """The receiver, with nothing recorded."""
    receiver[0].reset()
    return receiver[0]


@pytest.fixture
def receiver_url(receiver: tuple[Receiver, ServerThread]) -> str:
    return receiver[1].url


@pytest.fixture
def stripe_url(stripe_server: ServerThread, rec: Receiver) -> str:
    """The Stripe emulator's URL, its state reset for this test."""
    httpx.post(f"{stripe_server.url}/_emulator/reset").raise_for_status()
    return stripe_server.url


@pytest.fixture
def stripe_client(stripe_url: str) -> stripe.StripeClient:
    """The official client pointed at the emulator, without retries so errors surface."""
    return stripe.StripeClient(
        "sk_test_emulator", base_addresses={"api": stripe_url}, max_network_retries=0
    )


@pytest.fixture
def twilio_url(twilio_server: ServerThread, rec: Receiver) -> Iterator[str]:
    """The Twilio emulator's URL, its state reset for this test."""
    httpx.post(f"{twilio_server.url}/_emulator/reset").raise_for_status()
    yield twilio_server.url
    httpx.post(f"{twilio_server.url}/_emulator/config", json={"max_mps": 0})


@pytest.fixture
def twilio_client(twilio_url: str) -> Client:
    """The official client pointed at the emulator."""
    return client_for(twilio_url, ACCOUNT_SID, AUTH_TOKEN)


def stripe_events(url: str, event_type: str | None = None) -> list[dict[str, Any]]:
    """The emulator's event log."""
    params = {"type": event_type} if event_type else {}
    data: list[dict[str, Any]] = httpx.get(f"{url}/_emulator/events", params=params).json()["data"]
    return data


@dataclass(frozen=True)
class Harness:
    """What the tests share: the settings the emulators run with, and helpers."""

    webhook_secret: str = WEBHOOK_SECRET
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    nudges_number: str = NUDGES_NUMBER

    @staticmethod
    def eventually(check: Callable[[], T | None], within: float = 5.0) -> T:
        return eventually(check, within)

    @staticmethod
    def stripe_events(url: str, event_type: str | None = None) -> list[dict[str, Any]]:
        return stripe_events(url, event_type)


@pytest.fixture(scope="session")
def harness() -> Harness:
    return Harness()
