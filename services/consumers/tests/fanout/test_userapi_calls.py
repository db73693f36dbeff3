"""The calls a fan-out of 500 recipients makes to UserApi: a few per announcement and work
item (the audience's page, the STOP check right before sending, the client's final SMS), never
one per recipient or per status callback (UserApi records deliveries from events)."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from nudges_kit.settings import with_database

if TYPE_CHECKING:
    from conftest import ClientAccount, Stack

RECIPIENTS = 500
#: The calls one announcement of one work item may take: the announcement, the audience's
#: page, the STOP check, and the client's profile and number for the final SMS.
MOST_CALLS = 8


def phones(count: int) -> list[str]:
    """``count`` distinct valid US numbers, unlikely to be anyone else's in the session."""
    exchange = random.randint(200, 989)
    return [f"+1628{exchange + n // 10_000}{n % 10_000:04d}" for n in range(count)]


async def members(stack: Stack, client: ClientAccount, numbers: list[str]) -> None:
    """Active members of ``client``, written straight into UserApi's database (no joins, so
    no welcome notices to wait for)."""
    rows = []
    for phone in numbers:
        user_id = uuid.uuid4()
        rows.append((user_id, stack.vault.hash(phone), stack.vault.encrypt(phone), "en"))
    conn = await asyncpg.connect(userdb(stack))
    try:
        async with conn.transaction():
            await conn.copy_records_to_table(
                "users",
                records=[(*r, str(r[0])) for r in rows],
                columns=["id", "phone_hash", "phone_ciphertext", "locale", "identity_subject"],
            )
            await conn.copy_records_to_table(
                "subscribers", records=[(r[0], r[0]) for r in rows], columns=["id", "user_id"]
            )
            await conn.copy_records_to_table(
                "memberships",
                records=[(uuid.uuid4(), uuid.UUID(client.id), r[0], "active", "web") for r in rows],
                columns=["id", "client_id", "subscriber_id", "status", "source"],
            )
    finally:
        await conn.close()


def userdb(stack: Stack) -> str:
    return with_database(stack.settings.postgres_url, stack.platform.databases["user"])


def userapi_requests(stack: Stack) -> float:
    """The HTTP requests UserApi answered so far (its metrics), but the metrics' own."""
    text = httpx.get(stack.platform.url("user", "/metrics"), timeout=5).text
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "nudges_http_requests_total" and sample.labels.get("route") not in (
                "/metrics",
                "/healthz",
                "/readyz",
            ):
                total += sample.value
    return total


@pytest.mark.slow
async def test_a_fan_out_of_500_calls_userapi_a_few_times_not_per_recipient(
    stack: Stack, background_workers: Any, sending: Any, eventually: Any
) -> None:
    client = await stack.client(name="Calls Counted")
    await eventually(lambda: stack.sent_to(client.phone), within=60)  # its welcome, sent
    numbers = phones(RECIPIENTS)
    await members(stack, client, numbers)
    before = userapi_requests(stack)

    announcement_id = await stack.confirm(client, "Counting calls")

    async def completed() -> bool:
        conn = await asyncpg.connect(userdb(stack))
        try:
            return bool(
                await conn.fetchval(
                    "SELECT completed_at IS NOT NULL FROM announcements WHERE id = $1",
                    uuid.UUID(announcement_id),
                )
            )
        finally:
            await conn.close()

    async def final_sms() -> bool:
        texts = [m["body"] for m in await stack.sent_to(client.phone)]
        return any(t.startswith("Your announcement") for t in texts)

    await eventually(completed, within=120)
    await eventually(final_sms, within=60)
    await asyncio.sleep(1)  # a straggler would be counted
    calls = userapi_requests(stack) - before - 1  # but the test's own confirmation
    print(f"\nUserApi HTTP calls during a fan-out of {RECIPIENTS} recipients: {calls:.0f}")
    assert calls <= MOST_CALLS
