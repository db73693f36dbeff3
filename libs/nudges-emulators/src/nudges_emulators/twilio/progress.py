"""Each message's life after it is accepted: queued, sent, then delivered (or failed /
undelivered for numbers configured to fail), one step every few milliseconds, with a signed
status callback for each step after ``queued`` when the message asked for one (Twilio sends
none for ``queued``).

One worker walks a queue ordered by due time (every step waits the same delay, so appending
keeps it ordered); a message's next step is queued only after its callback is done, so a
receiver sees each message's statuses in order."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import deque
from datetime import UTC, datetime
from urllib.parse import urlencode

import httpx

from nudges_emulators.delivery import Delivery, RetryPolicy, post_with_retries
from nudges_emulators.twilio.faults import NumberFailure
from nudges_emulators.twilio.messages import API_VERSION, Message, MessageStore, StatusCallback
from nudges_emulators.twilio.signature import twilio_signature


def plan(failure: NumberFailure | None) -> list[str]:
    """The statuses a new message goes through (``queued`` first, without a callback)."""
    if failure is None:
        return ["queued", "sent", "delivered"]
    if failure.status == "failed":
        return ["queued", "failed"]
    return ["queued", "sent", "undelivered"]


def callback_params(message: Message) -> dict[str, str]:
    """The form parameters of a status callback, as Twilio sends them."""
    params = {
        "AccountSid": message.account_sid,
        "ApiVersion": API_VERSION,
        "From": message.from_ or "",
        "MessageSid": message.sid,
        "MessageStatus": message.status,
        "SmsSid": message.sid,
        "SmsStatus": message.status,
        "To": message.to,
    }
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None:
        params["ErrorCode"] = str(message.error_code)
    if message.status in ("delivered", "undelivered") and message.date_updated is not None:
        # The carrier's delivery receipt time, as Twilio passes it on: YYMMDDHHMM, UTC.
        params["RawDlrDoneDate"] = message.date_updated.astimezone(UTC).strftime("%y%m%d%H%M")
    return params


class StatusProgress:
    """Moves messages through their statuses and sends their status callbacks."""

    def __init__(
        self,
        store: MessageStore,
        auth_token: str,
        phone_number: str,
        delay: float,
        policy: RetryPolicy,
        timeout: float,
    ) -> None:
        self.store = store
        self.auth_token = auth_token
        self.phone_number = phone_number
        self.delay = delay
        self.policy = policy
        self.timeout = timeout
        self.failures: dict[str, NumberFailure] = {}
        self.generation = 0
        self._due: deque[tuple[float, int, str]] = deque()
        self._wake = asyncio.Event()
        self._callbacks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    def start(self, message: Message, failure: NumberFailure | None) -> None:
        """Begin ``message``'s life now."""
        message.pending = plan(failure)
        if failure is not None:
            self.failures[message.sid] = failure
        self._schedule(message.sid, self.generation, 0.0)

    def resume(self, message: Message) -> None:
        """Carry on with the statuses ``message`` still had to go through (after a restart)."""
        self._schedule(message.sid, self.generation, self.delay)

    def forget(self) -> None:
        """Abandon every message in progress (after a reset)."""
        self.generation += 1
        self._due.clear()
        self.failures.clear()

    def _schedule(self, sid: str, generation: int, delay: float) -> None:
        self._due.append((time.monotonic() + delay, generation, sid))
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Step messages as they fall due until ``stop`` is set."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            self._client = client
            while not stop.is_set():
                if not self._due:
                    await self._sleep(0.2)
                    continue
                due_at, generation, sid = self._due[0]
                wait = due_at - time.monotonic()
                if wait > 0:
                    await self._sleep(min(wait, 0.2))
                    continue
                self._due.popleft()
                message = self.store.by_sid.get(sid)
                if generation == self.generation and message is not None and message.pending:
                    self._step(message, generation)
            for task in list(self._callbacks):
                task.cancel()
            await asyncio.gather(*self._callbacks, return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _step(self, message: Message, generation: int) -> None:
        status = message.pending.pop(0)
        at = datetime.now(UTC)
        message.status, message.date_updated = status, at
        if status == "queued" and message.from_ is None:
            message.from_ = self.phone_number  # a Messaging Service picks the sender
        if status == "sent":
            message.date_sent = at
        if status in ("failed", "undelivered"):
            failure = self.failures.pop(message.sid, None) or NumberFailure(status=status)
            message.error_code, message.error_message = failure.code, failure.text
        if status != "queued" and message.status_callback and self._client is not None:
            task = asyncio.create_task(self._callback(self._client, message, generation))
            self._callbacks.add(task)
            task.add_done_callback(self._callbacks.discard)
        elif message.pending:
            self._schedule(message.sid, generation, self.delay)

    async def _callback(self, client: httpx.AsyncClient, message: Message, generation: int) -> None:
        url = str(message.status_callback)
        params = callback_params(message)
        body = urlencode(params).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": twilio_signature(url, params, self.auth_token),
            "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            "User-Agent": "TwilioProxy/1.1",
        }
        record = StatusCallback(message.status, Delivery(url))
        message.callbacks.append(record)
        await post_with_retries(
            client,
            record.delivery,
            lambda: (body, headers),
            self.policy,
            lambda: generation == self.generation,
        )
        if message.pending and generation == self.generation:
            self._schedule(message.sid, generation, self.delay)
