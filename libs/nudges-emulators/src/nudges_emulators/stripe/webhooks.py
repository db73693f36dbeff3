"""Events to the configured endpoint, signed exactly as Stripe signs them, delivered in the
background with bounded retries and backoff."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx

from nudges_emulators.delivery import Delivery, RetryPolicy, post_once, post_with_retries
from nudges_emulators.stripe.state import StripeObject, StripeState


def stripe_signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header: ``t=<unix>,v1=<hex HMAC-SHA256 of "t.payload">``."""
    at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


@dataclass
class WebhookEndpoint:
    """Where events go and the secret they are signed with (changeable at run time)."""

    url: str
    secret: str


class WebhookSender:
    """Sends every event the state emits: first attempts in the order the events happened,
    retries of a failed one in the background so that it does not hold up the others."""

    def __init__(
        self, state: StripeState, endpoint: WebhookEndpoint, policy: RetryPolicy, timeout: float
    ) -> None:
        self.state = state
        self.endpoint = endpoint
        self.policy = policy
        self.timeout = timeout
        self.deliveries: dict[str, Delivery] = {}
        self._queue: asyncio.Queue[tuple[int, StripeObject]] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._retries: set[asyncio.Task[bool]] = set()
        state.listeners.append(self.enqueue)

    def enqueue(self, event: StripeObject) -> None:
        """Queue ``event`` for delivery (safe from any thread)."""
        if not self.endpoint.url:
            event["pending_webhooks"] = 0
            return
        item = (self.state.generation, event)
        if self._loop is None or threading.get_ident() == self._loop_thread:
            self._queue.put_nowait(item)
        else:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def forget(self) -> None:
        """Drop the delivery log and what is queued (after a reset)."""
        self.deliveries.clear()
        while not self._queue.empty():
            self._queue.get_nowait()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver queued events until ``stop`` is set."""
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            while not stop.is_set():
                try:
                    generation, event = await asyncio.wait_for(self._queue.get(), 0.2)
                except TimeoutError:
                    continue
                if generation == self.state.generation:
                    await self._first_attempt(client, generation, event)
            for task in list(self._retries):
                task.cancel()
            await asyncio.gather(*self._retries, return_exceptions=True)

    async def _first_attempt(
        self, client: httpx.AsyncClient, generation: int, event: StripeObject
    ) -> None:
        payload = json.dumps(event, indent=2).encode()
        secret = self.endpoint.secret

        def build() -> tuple[bytes, dict[str, str]]:
            return payload, {
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": stripe_signature(payload, secret),
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            }

        delivery = self.deliveries[event["id"]] = Delivery(self.endpoint.url)
        if await post_once(client, delivery, build) is not None:
            event["pending_webhooks"] = 0
            return

        def still_wanted() -> bool:
            return self.state.generation == generation

        async def retry() -> bool:
            delivered = await post_with_retries(client, delivery, build, self.policy, still_wanted)
            if delivered:
                event["pending_webhooks"] = 0
            return delivered

        task = asyncio.create_task(retry())
        self._retries.add(task)
        task.add_done_callback(self._retries.discard)

    def log(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """Every event, oldest first, with its delivery attempts."""
        events = list(self.state.objects["event"].values())
        return [
            {
                "id": event["id"],
                "type": event["type"],
                "created": event["created"],
                "object_id": event["data"]["object"].get("id"),
                "delivery": d.as_json() if (d := self.deliveries.get(event["id"])) else None,
                "event": event,
            }
            for event in events
            if event_type is None or event["type"] == event_type
        ]
