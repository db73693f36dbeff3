"""A number that joins a client by text (JOIN, then YES, to the Nudges number through the
Twilio emulator and the Webhooks service) is welcomed once, by the notifications of the
``user.membership.joined`` its YES makes, however often YES comes."""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = pytest.mark.usefixtures("background_workers", "sending")


async def texts_to(stack: Stack, phone: str) -> list[str]:
    return [m["body"] for m in await stack.sent_to(phone)]


async def inbound(stack: Stack, phone: str, body: str) -> str:
    """Nudges' reply to ``body`` texted from ``phone``."""
    answer = await stack.emulator("/_emulator/inbound", {"from": phone, "body": body})
    return str(answer["reply"])


async def test_a_number_that_joins_by_text_is_welcomed_once(stack: Stack, eventually: Any) -> None:
    client = await stack.client(name=f"Taller {uuid.uuid4().hex[:4]}", messages_per_period=None)
    phone = stack.phone()
    asked = await inbound(stack, phone, f"JOIN {client.slug}")
    assert asked.startswith(f"Nudges: reply YES to get texts from {client.name}.")
    await asyncio.sleep(1.0)
    assert await texts_to(stack, phone) == [], "nobody is welcomed before YES"

    for _ in range(2):
        assert await inbound(stack, phone, "YES") == f"Nudges: confirmed, you joined {client.name}."
    welcome = await eventually(lambda: texts_to(stack, phone))
    await asyncio.sleep(2.0)
    assert await texts_to(stack, phone) == welcome
    [text] = welcome
    assert text.startswith(f"Nudges: you are now subscribed to {client.name}.")
    assert "STOP" in text
