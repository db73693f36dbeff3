"""What the SMS dialogue quotes a client is what the allowance is charged: an announcement
texted and confirmed through the Twilio emulator (the real Webhooks dialogue), fanned out to a
mixed-language audience, sent, and totalled by UserApi from the segments Twilio reports."""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Stack

pytestmark = pytest.mark.usefixtures("background_workers", "sending")


async def text(stack: Stack, phone: str, body: str) -> str:
    """What Nudges answers ``body`` texted from ``phone``."""
    answer = await stack.emulator("/_emulator/inbound", {"from": phone, "body": body})
    assert answer["status"] == 200, answer
    return str(answer["reply"])


async def test_the_quote_of_a_mixed_language_audience_is_what_is_charged(
    stack: Stack, eventually: Any
) -> None:
    # 120 characters from "Casa Quoted": the English copy fits one SMS, the Spanish and
    # French copies (longer opt-out lines) take two.
    client = await stack.client(name="Casa Quoted")
    for locale in ("en", "en", "es", "fr"):
        await stack.subscriber(client, locale=locale)
    draft = await text(stack, client.phone, "x" * 120)
    quoted = re.search(r"to 4 subscribers \((\d+) SMS in all\)", draft)
    assert quoted, draft
    assert int(quoted[1]) == 2 * 1 + 2 + 2
    assert await text(stack, client.phone, "CONFIRM") == "Sent to 4 subscribers."
    [announcement] = [
        row["id"]
        for row in await stack.user_sql(
            "SELECT id FROM announcements WHERE client_id = $1", uuid.UUID(client.id)
        )
    ]

    async def completed() -> list[dict[str, Any]]:
        return await stack.completions(str(announcement))

    [completion] = await eventually(completed, within=60)
    assert completion["segments"] == int(quoted[1])

    async def charged() -> int:
        return int((await stack.allowance(client.id))["used"])

    assert await eventually(charged, within=30) == int(quoted[1])
