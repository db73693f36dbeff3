"""The end of an announcement, decided once by UserApi from the sender's outcomes and the
status callbacks (repeated and late ones change nothing): one ``user.announcement.completed``
with the segments sent, and one final SMS to the client."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from nudges_consumers.service_layer import notifications
from nudges_devstack.platform import TWILIO_AUTH_TOKEN
from nudges_kit.events.catalog import sms, user
from nudges_kit.outbox import add_event

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = pytest.mark.usefixtures("background_workers", "sending")

#: UserApi's consumer group of the deliveries.
DELIVERIES_GROUP = "user-deliveries"


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
    """Whether UserApi handled the callback of ``sid`` and ``status``."""
    rows = await stack.user_sql(
        "SELECT true FROM handled_events WHERE consumer_group = $1 AND event_id = $2",
        DELIVERIES_GROUP,
        uuid.uuid5(PROVIDER_EVENTS, f"twilio:{sid}:{status}"),
    )
    return bool(rows)


async def test_an_announcement_ends_with_one_completion_and_one_final_sms_to_the_client(
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
    # The sender reported the work item's outcomes as one event, through its outbox.
    async with stack.pool.acquire() as conn:
        outcomes = await conn.fetch(
            "SELECT payload FROM outbox WHERE event_type = $1 AND key = $2",
            sms.announcement_outcomes.name,
            announcement_id,
        )
    assert len(outcomes) == 1

    # Repeated and late callbacks of a delivered message change nothing.
    sid = next(m["sid"] for m in await stack.sent_to(phones[0]) if "Tasting" in m["body"])
    for status in ("delivered", "sent", "failed"):
        await post_status(stack, sid, status)
    await eventually(lambda: status_handled(stack, sid, "failed"))

    again = await stack.announcement(announcement_id)
    assert (again["delivered"], again["failed"]) == (3, 0)
    assert await final_sms() == final
    completions = await stack.completions(announcement_id)
    assert [(c["segments"], c["sent"], c["delivered"]) for c in completions] == [(3, 3, 3)]

    # The completion delivered again (a replay from the dead-letter topic, a producer's
    # retry under a new id) sends no second final SMS.
    async with stack.pool.acquire() as conn:
        replay = await add_event(
            conn,
            user.announcement_completed,
            announcement_id,
            user.AnnouncementCompletedData.model_validate(completions[0]),
        )

    async def replay_handled() -> bool:
        async with stack.pool.acquire() as conn:
            return bool(
                await conn.fetchval(
                    "SELECT true FROM handled_events WHERE consumer_group = $1 AND event_id = $2",
                    notifications.CLIENT_GROUP,
                    replay.id,
                )
            )

    await eventually(replay_handled)
    assert await final_sms() == final
