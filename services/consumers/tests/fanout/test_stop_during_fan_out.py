"""STOP between CONFIRM and the send: the number gets nothing (carrier rules), and the
announcement still ends, its counts adding up to the audience counted at the confirmation and
the client told once."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from nudges_consumers.service_layer import fan_out
from nudges_kit.events.catalog import fanout

if TYPE_CHECKING:
    from conftest import ClientAccount, Stack

pytestmark = pytest.mark.usefixtures("background_workers")

STOP_ALL = "mutation($h: String!) { setMembershipsByPhone(phoneHash: $h, status: STOPPED) }"


async def texted_stop(stack: Stack, phone: str) -> None:
    """``phone`` texts STOP to the Nudges number, through the Twilio emulator."""
    answer = await stack.emulator("/_emulator/inbound", {"from": phone, "body": "STOP"})
    assert answer["status"] == 200, answer
    assert answer["reply"].startswith("Nudges: you are unsubscribed"), answer


async def batches_written(stack: Stack, announcement_id: str) -> int:
    """How many work items the fan-out wrote for the announcement (and the relay published)."""
    async with stack.pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM outbox WHERE event_type = $1 AND key LIKE $2"
                " AND published_at IS NOT NULL",
                fanout.announcement_batch.name,
                f"{announcement_id}:%",
            )
        )


async def final_sms(stack: Stack, client: ClientAccount) -> list[str]:
    return [
        m["body"]
        for m in await stack.sent_to(client.phone)
        if m["body"].startswith("Your announcement")
    ]


async def test_subscribers_who_stop_after_confirm_get_nothing_and_the_announcement_ends(
    stack: Stack, sending_worker: Any, eventually: Any
) -> None:
    await sending_worker.start()
    client = await stack.client(name="Huerta Sol")
    phones = [await stack.subscriber(client) for _ in range(5)]

    async def welcomed() -> bool:
        found = await asyncio.gather(*(stack.sent_to(phone) for phone in phones))
        return all(found)

    # The welcome notices go first: after this, nothing is waiting to be sent to them.
    await eventually(welcomed, within=60)
    # No sending until both have stopped: the fan-out writes its work items meanwhile.
    await sending_worker.stop()
    before = {phone: len(await stack.sent_to(phone)) for phone in phones}

    announcement_id = await stack.confirm(client, "Tomatoes are in, come early")
    # One stops right after CONFIRM (most likely before the fan-out lists the audience) ...
    await stack.gql("user", STOP_ALL, stack.service_token, h=stack.vault.hash(phones[0]))
    # ... the other once the fan-out has written every work item, by texting STOP.
    await eventually(lambda: batches_written(stack, announcement_id), within=60)
    await texted_stop(stack, phones[1])

    await sending_worker.start()

    async def completed() -> dict[str, Any] | None:
        found = await stack.announcement(announcement_id)
        return found if found["completedAt"] else None

    done = await eventually(completed, within=60)
    final = await eventually(lambda: final_sms(stack, client), within=30)

    for phone in phones[:2]:
        assert len(await stack.sent_to(phone)) == before[phone], "a stopped number got an SMS"
    for phone in phones[2:]:
        copies = [m["body"] for m in await stack.sent_to(phone) if "Tomatoes" in m["body"]]
        assert copies == ["Huerta Sol: Tomatoes are in, come early\nReply STOP to unsubscribe"]
    assert done["status"] == "SENT"
    assert (done["recipients"], done["sent"], done["delivered"], done["failed"]) == (5, 3, 3, 0)
    assert done["stopped"] == 2
    assert done["delivered"] + done["failed"] + done["stopped"] == done["recipients"]
    assert final == ["Your announcement was sent to 3 subscribers. Delivered: 3, failed: 0."]
    # Only the messages sent are charged: the completion's segments.
    assert [c["segments"] for c in await stack.completions(announcement_id)] == [3]

    # Nothing more comes later: no second final SMS, no late copy.
    await asyncio.sleep(2)
    assert await final_sms(stack, client) == final
    for phone in phones[:2]:
        assert len(await stack.sent_to(phone)) == before[phone]


async def test_the_audience_is_the_one_counted_at_the_confirmation(stack: Stack) -> None:
    """Who stopped after CONFIRM stays in the audience (their copy is held back and counted
    as stopped); who joined after it is not (they were not counted nor charged for)."""
    client = await stack.client(name="Radio Faro")
    phones = [await stack.subscriber(client) for _ in range(3)]
    announcement_id = await stack.confirm(client, "On air at 8")
    await stack.gql("user", STOP_ALL, stack.service_token, h=stack.vault.hash(phones[0]))
    await stack.subscriber(client)  # joins after the confirmation

    audience = await fan_out.recipients_of(
        stack.deps, uuid.UUID(client.id), uuid.UUID(announcement_id)
    )

    assert sorted(stack.vault.decrypt(r.to_ciphertext) for r in audience) == sorted(phones)
