"""Quiet hours (SPEC §5): no announcement copy between 21:00 and 08:00 in the recipient's time
zone. At one instant a Los Angeles subscriber is at 22:00 and a Karachi one at 10:00: the
daytime copy goes at once, the other is held (in the ledger, and ``held`` in the progress),
goes once at 08:00 in Los Angeles, and only then does the client get the final SMS. A client
who turned quiet hours off has every copy sent at once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from nudges_consumers.adapters.twilio_sender import TwilioSender
from nudges_consumers.service_layer import sms_outbound
from nudges_consumers.service_layer.sms_outbound import HeldCopies, SmsSending

if TYPE_CHECKING:
    from conftest import ClientAccount, SendingWorker, Stack

pytestmark = pytest.mark.usefixtures("background_workers")

#: 22:00 on 30 June in Los Angeles, 10:00 on 1 July in Karachi.
NIGHT_IN_LOS_ANGELES = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
#: 08:00 on 1 July in Los Angeles.
MORNING_IN_LOS_ANGELES = datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


@dataclasses.dataclass
class Clock:
    """The senders' clock, moved by the test."""

    at: datetime

    def now(self) -> datetime:
        return self.at


@dataclasses.dataclass
class QuietSender:
    clock: Clock
    sending: SmsSending


@contextlib.asynccontextmanager
async def quiet_sender(
    stack: Stack, sending_worker: SendingWorker, run_consumers: Any, clock: Clock
) -> AsyncIterator[QuietSender]:
    """A sending consumer and the release of held copies, with quiet hours on and ``clock``,
    in place of the session's sending consumer."""
    await sending_worker.stop()
    deps = dataclasses.replace(
        stack.deps,
        settings=stack.settings.model_copy(update={"quiet_hours": True}),
        now=clock.now,
    )
    sending = SmsSending(deps, TwilioSender(deps.settings, rate=0))
    stop = asyncio.Event()
    release = asyncio.create_task(HeldCopies(sending, interval=0.1).run(stop))
    try:
        async with run_consumers(sms_outbound.sending_consumer(deps, sending)):
            yield QuietSender(clock, sending)
    finally:
        stop.set()
        await release
        await sending.close()


def karachi_phone() -> str:
    """A fresh Pakistani mobile number (Asia/Karachi, UTC+5 all year)."""
    return f"+92300{random.randint(0, 9_999_999):07d}"


async def copies(stack: Stack, phone: str, text: str) -> list[dict[str, Any]]:
    return [m for m in await stack.sent_to(phone) if text in m["body"]]


async def final_sms(stack: Stack, client: ClientAccount) -> list[str]:
    return [
        m["body"]
        for m in await stack.sent_to(client.phone)
        if m["body"].startswith("Your announcement")
    ]


async def test_a_copy_in_quiet_hours_is_held_until_8_local_and_the_client_told_after_it(
    stack: Stack, sending_worker: SendingWorker, run_consumers: Any, eventually: Any
) -> None:
    async with quiet_sender(stack, sending_worker, run_consumers, Clock(NIGHT_IN_LOS_ANGELES)):
        client = await stack.client(name="Panaderia Luz")
        night = await stack.subscriber(client, phone=stack.phone())  # +1 415: Los Angeles
        day = await stack.subscriber(client, phone=karachi_phone())
        announcement_id = await stack.confirm(client, "Fresh bread at dawn")

        assert await eventually(lambda: copies(stack, day, "Fresh bread"), within=60)
        # The daytime copy is delivered; the held one shows as held and keeps it open.
        progress = await eventually(
            lambda: _announcement_is(stack, announcement_id, delivered=1, held=1), within=30
        )
        assert (progress["recipients"], progress["status"], progress["completedAt"]) == (
            2,
            "SENDING",
            None,
        )
        async with stack.pool.acquire() as conn:
            ledger = await conn.fetch(
                "SELECT state, attempts, held_until FROM sms_sends WHERE announcement_id = $1"
                " AND held_until IS NOT NULL",
                announcement_id,
            )
        assert [(r["state"], r["attempts"], r["held_until"]) for r in ledger] == [
            ("pending", 0, MORNING_IN_LOS_ANGELES)
        ]
        await asyncio.sleep(1.0)
        assert await copies(stack, night, "Fresh bread") == []
        assert await final_sms(stack, client) == []

    # 08:00 in Los Angeles, in a sender started afresh (what it knows is in the database):
    # the held copy goes, once, and the announcement completes.
    async with quiet_sender(
        stack, sending_worker, run_consumers, Clock(MORNING_IN_LOS_ANGELES)
    ) as sender:

        async def completed() -> dict[str, Any] | None:
            found = await stack.announcement(announcement_id)
            return found if found["completedAt"] else None

        done = await eventually(completed, within=60)
        assert (done["sent"], done["delivered"], done["held"], done["status"]) == (
            2,
            2,
            0,
            "SENT",
        )
        final = await eventually(lambda: final_sms(stack, client), within=30)
        assert final == ["Your announcement was sent to 2 subscribers. Delivered: 2, failed: 0."]
        assert await sender.sending.release_due() == 0
        assert len(await copies(stack, night, "Fresh bread")) == 1
        assert len(await copies(stack, day, "Fresh bread")) == 1


async def _announcement_is(
    stack: Stack, announcement_id: str, **counts: int
) -> dict[str, Any] | None:
    found = await stack.announcement(announcement_id)
    return found if all(found[name] == value for name, value in counts.items()) else None


UPDATE_CLIENT = (
    "mutation($id: ID!, $i: UpdateClientInput!) {"
    " updateClient(id: $id, input: $i) { id quietHours } }"
)
CLIENT_QUIET_HOURS = "query($id: ID!) { client(id: $id) { quietHours } }"


async def test_a_client_who_turned_quiet_hours_off_has_every_copy_sent_at_once(
    stack: Stack, sending_worker: SendingWorker, run_consumers: Any, eventually: Any
) -> None:
    clock = Clock(NIGHT_IN_LOS_ANGELES)
    async with quiet_sender(stack, sending_worker, run_consumers, clock):
        client = await stack.client(name="Night Owl Radio")
        admin = stack.issuer.token("admin-of-tests", "admin")
        before = await stack.gql("user", CLIENT_QUIET_HOURS, admin, id=client.id)
        assert before["client"]["quietHours"] is True
        changed = await stack.gql(
            "user",
            UPDATE_CLIENT,
            stack.token(client.phone, "client"),
            id=client.id,
            i={"quietHours": False},
        )
        assert changed["updateClient"]["quietHours"] is False
        after = await stack.gql("user", CLIENT_QUIET_HOURS, admin, id=client.id)
        assert after["client"]["quietHours"] is False

        night = await stack.subscriber(client, phone=stack.phone())
        day = await stack.subscriber(client, phone=karachi_phone())
        announcement_id = await stack.confirm(client, "Live until 3 am")

        async def completed() -> dict[str, Any] | None:
            found = await stack.announcement(announcement_id)
            return found if found["completedAt"] else None

        done = await eventually(completed, within=60)
        assert (done["delivered"], done["held"]) == (2, 0)
        assert len(await copies(stack, night, "Live until 3 am")) == 1
        assert len(await copies(stack, day, "Live until 3 am")) == 1
        async with stack.pool.acquire() as conn:
            held = await conn.fetchval(
                "SELECT count(*) FROM sms_sends WHERE announcement_id = $1"
                " AND held_until IS NOT NULL",
                announcement_id,
            )
        assert held == 0
