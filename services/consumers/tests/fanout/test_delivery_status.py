"""Status callbacks into delivery counts (repeated and late ones change nothing), and the end
of an announcement: its usage recorded once and the client's final SMS sent once."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from nudges_consumers.service_layer import delivery_status
from nudges_devstack.platform import TWILIO_AUTH_TOKEN

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = pytest.mark.usefixtures("background_workers", "sending")


async def post_status(stack: Stack, sid: str, status: str) -> None:
    """A status callback as Twilio signs it, to the Webhooks service."""
    url = stack.platform.url("webhooks", "/webhooks/twilio/status")
    params = {"MessageSid": sid, "MessageStatus": status, "AccountSid": "AC0"}
    signature = RequestValidator(TWILIO_AUTH_TOKEN).compute_signature(url, params)
    async with httpx.AsyncClient() as http:
        answer = await http.post(url, data=params, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 204


#: The namespace of the envelope ids the Webhooks service derives from provider event ids.
PROVIDER_EVENTS = uuid.UUID("6e756467-6573-4e75-8467-657300000002")


async def status_handled(stack: Stack, sid: str, status: str) -> bool:
    """Whether the delivery-status consumer handled the callback of ``sid`` and ``status``."""
    async with stack.pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT true FROM handled_events WHERE consumer_group = $1 AND event_id = $2",
                delivery_status.GROUP,
                uuid.uuid5(PROVIDER_EVENTS, f"twilio:{sid}:{status}"),
            )
        )


async def test_an_announcement_ends_with_its_usage_and_one_final_sms_to_the_client(
    stack: Stack, eventually: Any
) -> None:
    client = await stack.client(name="Vinos Ana")
    phones = [await stack.subscriber(client) for _ in range(3)]
    announcement_id = await stack.confirm(client, "Tasting on Friday")

    async def completed() -> dict[str, Any] | None:
        found = await stack.announcement(announcement_id)
        return found if found["completedAt"] else None

    async def final_sms() -> list[str]:
        texts = [m["body"] for m in await stack.sent_to(client.phone)]
        return [t for t in texts if t.startswith("Your announcement")]

    done = await eventually(completed, within=60)
    assert (done["recipients"], done["sent"], done["delivered"], done["failed"]) == (
        3,
        3,
        3,
        0,
    )
    assert done["status"] == "SENT"
    final = await eventually(final_sms, within=30)
    assert final == ["Your announcement was sent to 3 subscribers. Delivered: 3, failed: 0."]

    # Repeated and late callbacks of a delivered message change nothing.
    sid = next(m["sid"] for m in await stack.sent_to(phones[0]) if "Tasting" in m["body"])
    for status in ("delivered", "sent", "failed"):
        await post_status(stack, sid, status)
    await eventually(lambda: status_handled(stack, sid, "failed"))

    again = await stack.announcement(announcement_id)
    assert (again["delivered"], again["failed"]) == (3, 0)
    assert await final_sms() == final
    async with stack.pool.acquire() as conn:
        completions = await conn.fetch(
            "SELECT messages_used FROM announcement_completions WHERE announcement_id = $1",
            uuid.UUID(announcement_id),
        )
        assert [r["messages_used"] for r in completions] == [3]
        assert (await stack.allowance(client.id))["used"] == 3

        # Seeing the completion again (another worker, a redelivery) records nothing more.
        progress = delivery_status.Progress(
            announcement_id=uuid.UUID(announcement_id),
            client_id=uuid.UUID(client.id),
            client_name=client.name,
            client_locale="en",
            status="SENT",
            recipients=3,
            sent=3,
            delivered=3,
            failed=0,
            completed=True,
        )
        async with conn.transaction():
            assert not await delivery_status.finish_announcement(stack.deps, conn, progress)
    assert (await stack.allowance(client.id))["used"] == 3
