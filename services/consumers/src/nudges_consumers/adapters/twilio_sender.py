"""Twilio's Messages API at the base URL of the settings (the emulator in development), within
the process's sending rate.

A send is one POST of the Messages resource on a pool of keep-alive connections
(:class:`~nudges_consumers.adapters.form_posts.FormPoster`), its fixed part built once: it is
the hot path of a fan-out, where the official ``twilio`` library's request and resource
objects cost more than the HTTP call itself. The list that reconciles an in-doubt send (rare)
goes through the library.

Errors come out in three kinds: :class:`SendRefused` (this message can never be sent: an
invalid or blocked number, error 21211, 21610...), :class:`SendUnavailable` (429, 5xx, a
timeout or a lost connection: retry later; ``maybe_accepted`` says whether Twilio may have
taken the message anyway, so that it is looked for before sending again).
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from nudges_consumers.adapters.form_posts import ConnectionLost, FormPoster
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.metrics import PROVIDER_CALLS

#: The twilio library logs request URLs (with the To number of a list) at INFO: keep it quiet.
_QUIET = logging.getLogger("nudges_consumers.twilio_http")
_QUIET.setLevel(logging.WARNING)

#: Errors of the account or its configuration, not of one message: retried, then dead-lettered.
_ACCOUNT_ERRORS = frozenset({401, 403, 404})
#: Idle connections to Twilio kept open at most (every sending worker of the process shares
#: them).
MAX_CONNECTIONS = 256


class SendRefused(Exception):
    """Twilio refused this message for good; ``code`` is Twilio's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


class SendUnavailable(Exception):
    """Twilio could not take the message now; ``maybe_accepted`` when it may have anyway."""

    def __init__(self, message: str, *, maybe_accepted: bool) -> None:
        super().__init__(message)
        self.maybe_accepted = maybe_accepted


@dataclass(frozen=True)
class SentMessage:
    """A message Twilio accepted."""

    sid: str
    segments: int


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, bursts of up to ``rate``; 0 means
    no limit. Callers past the budget wait their turn (a debt, not a lock: fair and cheap)."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._capacity = max(rate, 1.0)
        self._tokens = self._capacity
        self._at = time.monotonic()

    async def acquire(self) -> None:
        if self.rate <= 0:
            return
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now
        self._tokens -= 1.0
        if self._tokens < 0:
            await asyncio.sleep(-self._tokens / self.rate)


_BUCKETS: dict[float, TokenBucket] = {}


def process_bucket(rate: float) -> TokenBucket:
    """The token bucket of ``rate`` every sender of this process shares."""
    if rate not in _BUCKETS:
        _BUCKETS[rate] = TokenBucket(rate)
    return _BUCKETS[rate]


def _segments(resource: Any) -> int:
    try:
        return max(1, int(getattr(resource, "num_segments", None) or 1))
    except (TypeError, ValueError):
        return 1


def _segments_of(resource: dict[str, Any]) -> int:
    try:
        return max(1, int(resource.get("num_segments") or 1))
    except (TypeError, ValueError):
        return 1


class TwilioSender:
    """Sends SMS from the configured number and finds messages already sent."""

    def __init__(
        self,
        settings: ConsumersSettings,
        bucket: TokenBucket | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._settings = settings
        self._bucket = bucket or process_bucket(settings.sms_messages_per_second)
        self._timeout = timeout
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None
        token = settings.twilio_auth_token.get_secret_value()
        credentials = base64.b64encode(f"{settings.twilio_account_sid}:{token}".encode())
        self._messages = FormPoster(
            f"{settings.twilio_api_url.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.twilio_account_sid}/Messages.json",
            {"Authorization": f"Basic {credentials.decode()}", "Accept": "application/json"},
            max_idle=MAX_CONNECTIONS,
        )

    def _twilio(self) -> Client:
        # Created on first use, inside the event loop its aiohttp session belongs to.
        if self._client is None:
            self._http = AsyncTwilioHttpClient(logger=_QUIET)
            client = Client(
                self._settings.twilio_account_sid,
                self._settings.twilio_auth_token.get_secret_value(),
                http_client=self._http,
            )
            client.edge = None  # an edge or region would rewrite the host name
            client.region = None
            client.api.base_url = self._settings.twilio_api_url.rstrip("/")
            self._client = client
        return self._client

    async def send(self, to: str, body: str, status_callback: str | None) -> SentMessage:
        """Send ``body`` to ``to`` (E.164), waiting for the sending rate first."""
        await self._bucket.acquire()
        form = {"To": to, "From": self._settings.twilio_from_number, "Body": body}
        if status_callback:
            form["StatusCallback"] = status_callback
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._messages.post(urlencode(form).encode())
        except (TimeoutError, ConnectionLost, OSError) as exc:
            PROVIDER_CALLS.labels("twilio", "send", "unavailable").inc()
            raise SendUnavailable(f"Twilio: {type(exc).__name__}", maybe_accepted=True) from exc
        outcome = "ok" if answer.status < 300 else f"{answer.status // 100}xx"
        PROVIDER_CALLS.labels("twilio", "send", outcome).inc()
        try:
            resource = json.loads(answer.body)
        except ValueError:
            resource = None
        if not isinstance(resource, dict):
            resource = {}
        status = answer.status
        if status >= 400:
            message = resource.get("message") or answer.body[:200].decode(errors="replace")
            raise _classified(status, resource.get("code"), str(message))
        if status >= 300 or not resource.get("sid"):
            raise SendUnavailable(
                f"Twilio answered {status} without a message", maybe_accepted=True
            )
        return SentMessage(sid=str(resource["sid"]), segments=_segments_of(resource))

    async def find_sent(self, to: str, body: str, since: datetime) -> SentMessage | None:
        """A message to ``to`` with exactly ``body`` created since ``since`` (UTC), if any:
        what reconciles a send whose outcome was never recorded."""
        try:
            async with asyncio.timeout(self._timeout):
                found = await self._twilio().messages.list_async(
                    to=to, date_sent_after=since, limit=100
                )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise SendUnavailable(f"Twilio list: {exc.status}", maybe_accepted=False) from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise SendUnavailable(
                f"Twilio list: {type(exc).__name__}", maybe_accepted=False
            ) from exc
        for message in found:
            if message.body == body and str(message.direction or "").startswith("outbound"):
                return SentMessage(sid=str(message.sid), segments=_segments(message))
        return None

    async def close(self) -> None:
        await self._messages.close()
        if self._http is not None:
            http, self._http, self._client = self._http, None, None
            await http.close()


def _classified(status: int, error_code: int | str | None, message: str) -> Exception:
    code = str(error_code or status)
    if status == 429:
        return SendUnavailable(f"Twilio 429 ({code})", maybe_accepted=False)
    if status >= 500:
        return SendUnavailable(f"Twilio {status} ({code})", maybe_accepted=True)
    if status in _ACCOUNT_ERRORS:
        return SendUnavailable(f"Twilio {status} ({code}): {message}", maybe_accepted=False)
    return SendRefused(code, message)
