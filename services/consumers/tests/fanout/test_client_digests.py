"""The client hears of subscribers joining and leaving: each notice with the count as of its
change (carried by UserApi's event), and at most one notice per interval, the changes after
the first waiting for one digest."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest

from nudges_kit.events import Envelope

if TYPE_CHECKING:
    from conftest import ClientAccount, Stack

pytestmark = pytest.mark.usefixtures("background_workers", "sending")

#: The digest interval of the digest test: long enough for its changes to fall in one window.
INTERVAL = 6.0


async def texts_to(stack: Stack, phone: str) -> list[str]:
    return [m["body"] for m in await stack.sent_to(phone)]


def _at_least(stack: Stack, phone: str, count: int) -> Any:
    async def check() -> list[dict[str, Any]] | None:
        found = await stack.sent_to(phone)
        return found if len(found) >= count else None

    return check


def _new_subscriber(count: int) -> str:
    noun = "subscriber" if count == 1 else "subscribers"
    return f"You have a new subscriber! You now have {count} {noun}."


async def test_five_joins_at_once_tell_the_client_one_to_five(
    stack: Stack, eventually: Any
) -> None:
    client = await stack.client(name="Five Joins", messages_per_period=None)
    await eventually(_at_least(stack, client.phone, 1))  # the welcome
    await asyncio.gather(*(stack.subscriber(client) for _ in range(5)))
    await eventually(_at_least(stack, client.phone, 6))
    await asyncio.sleep(1.0)
    notices = (await texts_to(stack, client.phone))[1:]
    assert sorted(notices) == sorted(_new_subscriber(n) for n in range(1, 6))


async def _leave(stack: Stack, client: ClientAccount, phone: str) -> None:
    await stack.gql(
        "user",
        "mutation($c: ID!) { leaveClient(clientId: $c) { status } }",
        stack.token(phone, "subscriber"),
        c=client.id,
    )


async def _joined_event(stack: Stack, client: ClientAccount, nth: int) -> Envelope:
    rows = await stack.user_sql(
        "SELECT payload FROM outbox WHERE key = $1 AND event_type = 'user.membership.joined'"
        " ORDER BY id",
        client.id,
    )
    return Envelope.model_validate(json.loads(rows[nth]["payload"]))


async def test_changes_within_the_interval_are_told_in_one_digest(
    stack: Stack, eventually: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The running handlers and the digests' sender read the interval from their deps.
    monkeypatch.setattr(
        stack.deps,
        "settings",
        stack.settings.model_copy(update={"client_digest_interval_seconds": INTERVAL}),
    )
    client = await stack.client(name="Digest Club", messages_per_period=None)
    await eventually(_at_least(stack, client.phone, 1))  # the welcome
    fans = [stack.phone() for _ in range(4)]
    # The first change after a quiet interval is told at once.
    await stack.subscriber(client, phone=fans[0])
    first = (await eventually(_at_least(stack, client.phone, 2)))[1]
    assert first["body"] == _new_subscriber(1)
    # Within the interval: three joins and a leave, and one join delivered a second time.
    window_opened = asyncio.get_running_loop().time()
    for phone in fans[1:]:
        await stack.subscriber(client, phone=phone)
    await _leave(stack, client, fans[0])
    await stack.publish(await _joined_event(stack, client, 1))
    assert asyncio.get_running_loop().time() - window_opened < INTERVAL - 1, "too slow a setup"
    assert len(await stack.sent_to(client.phone)) == 2  # nothing told yet
    digest = (await eventually(_at_least(stack, client.phone, 3), within=INTERVAL + 20))[2]
    assert digest["body"] == (
        "Since our last message: 3 joined, 1 left. You now have 3 subscribers."
    )
    # Queued (the consumers' outbox) no sooner than the interval after the first notice.
    queued = await stack.pool.fetch(
        "SELECT created_at FROM outbox WHERE key = $1 AND event_type = 'sms.outbound' ORDER BY id",
        client.id,
    )
    assert queued[2]["created_at"] - queued[1]["created_at"] >= timedelta(seconds=INTERVAL)
    # Nothing more: one digest for the window, and no change since.
    await asyncio.sleep(INTERVAL + 1)
    assert len(await stack.sent_to(client.phone)) == 3
