"""Sending through Twilio (the emulator): 429 and 5xx retried without a second copy, a send
Twilio took despite an error found instead of repeated, invalid numbers recorded as failed
and not retried, and one SMS per idempotency key."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest

from nudges_kit.consumer import EventConsumer
from nudges_kit.events.catalog import sms
from nudges_kit.outbox import add_event

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = pytest.mark.usefixtures("background_workers")

INVALID = "+15005550001"  # Twilio's test number answered with 21211 (invalid number)


@pytest.fixture
async def worker(stack: Stack, sending: EventConsumer) -> AsyncIterator[EventConsumer]:
    yield sending
    await stack.emulator("/_emulator/failures", {"clear": True})


async def queue_sms(stack: Stack, phone: str, body: str, key: str = "") -> str:
    """An ``sms.outbound`` event written to the consumers' outbox; its idempotency key."""
    key = key or f"test:{uuid.uuid4()}"
    async with stack.pool.acquire() as conn:
        await add_event(
            conn,
            sms.sms_outbound,
            key,
            sms.OutboundSmsData(
                to_ciphertext=stack.vault.encrypt(phone), body=body, idempotency_key=key
            ),
        )
    return key


async def intent(stack: Stack, key: str) -> asyncpg.Record | None:
    async with stack.pool.acquire() as conn:
        return await conn.fetchrow("SELECT * FROM sms_sends WHERE idempotency_key = $1", key)


async def settled(stack: Stack, key: str) -> asyncpg.Record | None:
    row = await intent(stack, key)
    return row if row is not None and row["state"] != "pending" else None


async def quiet(stack: Stack, worker: EventConsumer, eventually: Any) -> None:
    """Nothing left to send, so that the failures configured next hit this test's sends."""

    async def nothing_pending() -> bool:
        async with stack.pool.acquire() as conn:
            unpublished = await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE published_at IS NULL"
            )
        return unpublished == 0 and sum((await worker.lag()).values()) == 0

    await eventually(nothing_pending, within=60)


@pytest.mark.parametrize(
    ("status", "attempts"),
    [(429, 3), (500, 3)],
)
async def test_429_and_5xx_are_retried_and_send_one_copy(
    stack: Stack, worker: EventConsumer, eventually: Any, status: int, attempts: int
) -> None:
    await quiet(stack, worker, eventually)
    phone = stack.phone()
    await stack.emulator(
        "/_emulator/failures", {"errors": {"status": status, "count": 2, "to": phone}}
    )
    key = await queue_sms(stack, phone, f"Retried after {status}")

    sent = await eventually(lambda: settled(stack, key))
    assert sent["state"] == "sent"
    assert sent["attempts"] == attempts
    assert [m["body"] for m in await stack.sent_to(phone)] == [f"Retried after {status}"]


async def test_a_send_twilio_took_despite_a_500_is_found_not_repeated(
    stack: Stack, worker: EventConsumer, eventually: Any
) -> None:
    await quiet(stack, worker, eventually)
    phone = stack.phone()
    await stack.emulator(
        "/_emulator/failures",
        {"errors": {"status": 500, "count": 1, "after_create": True, "to": phone}},
    )
    key = await queue_sms(stack, phone, "Accepted, then a 500")

    sent = await eventually(lambda: settled(stack, key))
    assert sent["state"] == "sent"
    assert sent["attempts"] == 1, "found at Twilio, not sent again"
    messages = await stack.sent_to(phone)
    assert [m["body"] for m in messages] == ["Accepted, then a 500"]
    assert sent["message_sid"] == messages[0]["sid"]


async def test_an_invalid_number_is_recorded_as_failed_and_not_retried(
    stack: Stack, worker: EventConsumer, eventually: Any
) -> None:
    key = await queue_sms(stack, INVALID, "Never delivered")
    failed = await eventually(lambda: settled(stack, key))
    assert failed["state"] == "failed"
    assert failed["error_code"] == "21211"
    await asyncio.sleep(1.0)
    again = await intent(stack, key)
    assert again is not None
    assert again["attempts"] == 1


async def test_one_sms_per_idempotency_key(
    stack: Stack, worker: EventConsumer, eventually: Any
) -> None:
    phone = stack.phone()
    key = await queue_sms(stack, phone, "Your code is 123456")
    await queue_sms(stack, phone, "Your code is 123456", key=key)
    await eventually(lambda: settled(stack, key))
    await queue_sms(stack, phone, "Your code is 123456", key=key)
    await asyncio.sleep(1.0)
    assert len(await stack.sent_to(phone)) == 1


async def test_an_invalid_recipient_of_an_announcement_counts_as_failed(
    stack: Stack, worker: EventConsumer, eventually: Any
) -> None:
    client = await stack.client(name="Club Sol")
    good = await stack.subscriber(client)
    await stack.subscriber(client, phone=INVALID)
    announcement_id = await stack.confirm(client, "Match on Sunday")

    async def completed() -> dict[str, Any] | None:
        found = await stack.announcement(announcement_id)
        return found if found["completedAt"] else None

    done = await eventually(completed, within=60)
    assert (done["delivered"], done["failed"], done["status"]) == (1, 1, "SENT")
    announcement_copies = [m for m in await stack.sent_to(good) if "Match on Sunday" in m["body"]]
    assert len(announcement_copies) == 1
    assert await stack.sent_to(INVALID) == []
    # Only what was sent counts: one message of one segment, in the completion UserApi
    # published (what the plan's allowance is charged with).
    completions = await stack.completions(announcement_id)
    assert [(c["segments"], c["failed"]) for c in completions] == [(1, 1)]
