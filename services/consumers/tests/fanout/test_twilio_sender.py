"""The Twilio sender against the Twilio emulator: its answers come out as the consumers
domain classifies them, Twilio's segment count is what a send is charged, and a sender's rate
holds however many sends wait for it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from nudges_consumers.adapters.twilio_sender import SendRefused, SendUnavailable, TwilioSender

if TYPE_CHECKING:
    from conftest import Stack

INVALID = "+15005550001"  # Twilio's test number answered with 21211 (invalid number)


@pytest.fixture
async def twilio(stack: Stack) -> AsyncIterator[TwilioSender]:
    sender = TwilioSender(stack.settings, rate=0)
    yield sender
    await sender.close()
    await stack.emulator("/_emulator/failures", {"clear": True})


async def test_an_invalid_number_is_refused_with_twilios_code(twilio: TwilioSender) -> None:
    with pytest.raises(SendRefused) as refused:
        await twilio.send(INVALID, "Hello", None)
    assert refused.value.code == "21211"


@pytest.mark.parametrize(("status", "maybe_accepted"), [(429, False), (500, True), (503, True)])
async def test_429_and_5xx_are_to_retry_and_say_whether_twilio_may_have_it(
    stack: Stack, twilio: TwilioSender, status: int, maybe_accepted: bool
) -> None:
    # Bound to this test's number: the fan-out's background senders share the emulator.
    phone = stack.phone()
    await stack.emulator(
        "/_emulator/failures", {"errors": {"status": status, "count": 1, "to": phone}}
    )
    with pytest.raises(SendUnavailable) as unavailable:
        await twilio.send(phone, "Hello", None)
    assert unavailable.value.maybe_accepted is maybe_accepted
    # The forced error is spent: the next send goes through.
    assert (await twilio.send(phone, "Hello", None)).sid.startswith("SM")


async def test_a_long_message_is_charged_the_segments_twilio_counts(
    stack: Stack, twilio: TwilioSender
) -> None:
    phone = stack.phone()
    sent = await twilio.send(phone, "a" * 161, None)
    assert sent.segments == 2
    found = await twilio.find_sent(phone, "a" * 161, sent_since(60))
    assert found is not None
    assert (found.sid, found.segments) == (sent.sid, 2)


async def test_a_sender_holds_its_rate_after_the_first_burst(stack: Stack) -> None:
    rate, sends = 40, 80
    sender = TwilioSender(stack.settings, rate=rate)
    try:
        started = time.monotonic()
        await asyncio.gather(*(sender.send(stack.phone(), f"Rate {n}", None) for n in range(sends)))
        elapsed = time.monotonic() - started
    finally:
        await sender.close()
    # A burst of ``rate``, then ``rate`` a second: the other 40 take one second.
    assert elapsed >= (sends - rate) / rate * 0.95


def sent_since(seconds: float) -> datetime:
    return datetime.now(UTC) - timedelta(seconds=seconds)
