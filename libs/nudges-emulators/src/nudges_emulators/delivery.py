"""Posting webhooks to a receiver with bounded retries and exponential backoff, and a log of
every attempt that tests and people can read back."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how patiently, a webhook is retried."""

    max_attempts: int = 5
    initial_delay: float = 1.0
    max_delay: float = 30.0

    def delay_after(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.max_delay, self.initial_delay * 2 ** (attempt - 1)))


@dataclass
class Attempt:
    """One POST to the receiver and how it ended."""

    at: float
    status_code: int | None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The attempt as the ``/_emulator`` endpoints show it."""
        return {"at": self.at, "status_code": self.status_code, "error": self.error}


@dataclass
class Delivery:
    """Every attempt to deliver one webhook, and whether it got through."""

    url: str
    attempts: list[Attempt] = field(default_factory=list)
    delivered: bool = False
    gave_up: bool = False

    def as_json(self) -> dict[str, Any]:
        """The delivery as the ``/_emulator`` endpoints show it."""
        return {
            "url": self.url,
            "delivered": self.delivered,
            "gave_up": self.gave_up,
            "attempts": [a.as_json() for a in self.attempts],
        }


#: Builds the body and headers of one attempt (signatures carry a fresh timestamp each time).
RequestBuilder = Callable[[], tuple[bytes, dict[str, str]]]


async def post_once(
    client: httpx.AsyncClient, delivery: Delivery, build: RequestBuilder
) -> httpx.Response | None:
    """One attempt, recorded in ``delivery``; the response when the receiver answered 2xx."""
    body, headers = build()
    try:
        response = await client.post(delivery.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        delivery.attempts.append(Attempt(time.time(), None, f"{type(exc).__name__}: {exc}"))
        return None
    delivery.attempts.append(Attempt(time.time(), response.status_code))
    if response.is_success:
        delivery.delivered = True
        return response
    return None


async def post_with_retries(
    client: httpx.AsyncClient,
    delivery: Delivery,
    build: RequestBuilder,
    policy: RetryPolicy,
    still_wanted: Callable[[], bool] = lambda: True,
) -> bool:
    """Attempt until the receiver answers 2xx or ``policy`` runs out; ``still_wanted`` lets a
    reset of the emulator abandon deliveries of the state it cleared."""
    while len(delivery.attempts) < policy.max_attempts and still_wanted():
        if delivery.attempts:
            await asyncio.sleep(policy.delay_after(len(delivery.attempts)))
            if not still_wanted():
                break
        if await post_once(client, delivery, build) is not None:
            return True
    delivery.gave_up = True
    return False
