"""An announcement reaches every active subscriber once, in their language, even when the
sending worker is killed in the middle of the fan-out."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import ClientAccount, Stack

pytestmark = pytest.mark.usefixtures("background_workers")

OPT_OUT = {
    "en": "Reply STOP to unsubscribe",
    "es": "Responde STOP para darte de baja",
    "fr": "Répondez STOP pour vous désabonner",
}


def expected_text(client: ClientAccount, body: str, locale: str) -> str:
    separator = " : " if locale == "fr" else ": "
    return f"{client.name}{separator}{body}\n{OPT_OUT[locale]}"


async def copies(stack: Stack, phones: list[str], client: ClientAccount) -> dict[str, list[str]]:
    """The announcement copies each phone received (messages that start with the client's
    name; welcome notices do not)."""
    found = await asyncio.gather(*(stack.sent_to(phone) for phone in phones))
    return {
        phone: [m["body"] for m in messages if m["body"].startswith(client.name)]
        for phone, messages in zip(phones, found, strict=True)
    }


async def completed(stack: Stack, announcement_id: str) -> dict[str, Any] | None:
    found = await stack.announcement(announcement_id)
    return found if found["completedAt"] else None


@pytest.mark.slow
async def test_fifty_subscribers_in_three_languages_each_get_one_copy(
    stack: Stack, sending: Any, eventually: Any
) -> None:
    client = await stack.client(name="Bakery Luz")
    locales = {}
    for locale in ("en", "es", "fr"):
        count = 17 if locale != "fr" else 16
        phones = await asyncio.gather(*(stack.subscriber(client, locale) for _ in range(count)))
        locales.update(dict.fromkeys(phones, locale))
    phones = list(locales)
    body_renders = stack.renders("announcement.body")
    opt_out_renders = stack.renders("announcement.opt_out")

    announcement_id = await stack.confirm(client, "Fresh bread at 7, croissants at 8")

    async def all_sent() -> bool:
        return all(len(c) >= 1 for c in (await copies(stack, phones, client)).values())

    await eventually(all_sent, within=60)
    done = await eventually(lambda: completed(stack, announcement_id), within=60)

    received = await copies(stack, phones, client)
    assert sum(len(c) for c in received.values()) == 50
    for phone, texts in received.items():
        assert texts == [expected_text(client, "Fresh bread at 7, croissants at 8", locales[phone])]
    # Each language rendered once for the whole announcement, not once per subscriber.
    assert stack.renders("announcement.body") - body_renders == 3
    assert stack.renders("announcement.opt_out") - opt_out_renders == 3
    # Status callbacks counted every delivery.
    assert done["recipients"] == 50
    assert done["delivered"] == 50
    assert done["failed"] == 0
    assert done["status"] == "SENT"
    # 50 messages of one segment each, in the one completion UserApi published.
    assert [c["segments"] for c in await stack.completions(announcement_id)] == [50]


@pytest.mark.slow
async def test_a_worker_killed_mid_fan_out_sends_nobody_a_second_copy(
    stack: Stack,
    spawn_sender: Any,
    sending_worker: Any,
    sender: Any,
    run_consumers: Any,
    eventually: Any,
) -> None:
    # This test's workers are the only senders.
    await sending_worker.stop()
    client = await stack.client(name="Gym Norte")
    phones = list(await asyncio.gather(*(stack.subscriber(client) for _ in range(30))))

    async def sent_count() -> int:
        return sum(len(c) for c in (await copies(stack, phones, client)).values())

    async def welcomed() -> bool:
        found = await asyncio.gather(*(stack.sent_to(phone) for phone in phones))
        # The client's own welcome and a notice per new subscriber.
        return all(found) and len(await stack.sent_to(client.phone)) >= 31

    worker = spawn_sender(rate=15)
    # The notices first, so that only the announcement's sends are in flight below.
    await eventually(welcomed, within=60)
    announcement_id = await stack.confirm(client, "Classes move to 6 pm")
    await eventually(lambda: _at_least(sent_count, 10), within=60)
    # The next sends are accepted by Twilio but answered late: the worker dies waiting, so
    # their outcome is never recorded (in doubt).
    await stack.emulator("/_emulator/failures", {"delays": {"seconds": 5, "count": 4}})
    await asyncio.sleep(0.6)
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    async with stack.pool.acquire() as conn:
        in_doubt = await conn.fetchval(
            "SELECT count(*) FROM sms_sends WHERE announcement_id = $1"
            " AND state = 'pending' AND attempts > 0",
            announcement_id,
        )
        sent_before = await conn.fetchval(
            "SELECT count(*) FROM sms_sends WHERE announcement_id = $1 AND state = 'sent'",
            announcement_id,
        )
    assert in_doubt >= 1
    assert 10 <= sent_before < 30

    try:
        async with run_consumers(sender()):
            done = await eventually(lambda: completed(stack, announcement_id), within=60)
    finally:
        await stack.emulator("/_emulator/failures", {"clear": True})

    received = await copies(stack, phones, client)
    assert Counter(len(c) for c in received.values()) == {1: 30}
    assert done["delivered"] == 30


async def _at_least(count: Any, minimum: int) -> bool:
    return bool(await count() >= minimum)
