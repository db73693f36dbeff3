"""Twilio's Messages API at the base URL of the settings (the emulator in development), within
the process's sending rate.

A send is one POST of the Messages resource on a pool of keep-alive connections
(:class:`~nudges_consumers.adapters.form_posts.FormPoster`), its fixed part built once: it is
the hot path of a fan-out, where the official ``twilio`` library's request and resource
objects cost more than the HTTP call itself. The list that reconciles an in-doubt send (rare)
goes through the library.

Errors come out in two kinds, as :mod:`nudges_consumers.domain.twilio_answers` classifies
Twilio's answers: :class:`SendRefused` (this message can never be sent: an invalid or blocked
number, error 21211, 21610...), :class:`SendUnavailable` (429, 5xx, a timeout or a lost
connection: retry later; ``maybe_accepted`` says whether Twilio may have taken the message
anyway, so that it is looked for before sending again).

The sending rate is an :class:`aiolimiter.AsyncLimiter` shared by every sender of the process.
Measured against the hand-written token bucket it replaced (64 concurrent senders, rates of
50, 1,000 and 5,000 per second): the same rate held and the same burst, 3 to 17 microseconds
more CPU per message, nothing beside an HTTP call.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

import aiohttp
import orjson
from aiolimiter import AsyncLimiter
from opentelemetry.trace import SpanKind, StatusCode
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.rest import Client

from nudges_consumers.adapters.form_posts import Answer, ConnectionLost, FormPoster
from nudges_consumers.domain.twilio_answers import (
    Outcome,
    Verdict,
    classify_answer,
    classify_transport_failure,
    segments_billed,
)
from nudges_consumers.settings import ConsumersSettings
from nudges_kit.metrics import PROVIDER_CALLS
from nudges_kit.telemetry import current_traceparent, exporting, tracer

#: The twilio library logs request URLs (with the To number of a list) at INFO: keep it quiet.
_QUIET = logging.getLogger("nudges_consumers.twilio_http")
_QUIET.setLevel(logging.WARNING)
_tracer = tracer(__name__)

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


def sending_rate(rate: float) -> AsyncLimiter | None:
    """A limiter of ``rate`` messages per second on average, with bursts of up to ``rate`` (of
    one message under 1 per second); None for 0, no limit."""
    if rate <= 0:
        return None
    burst = max(rate, 1.0)
    return AsyncLimiter(burst, burst / rate)


_LIMITERS: dict[float, AsyncLimiter | None] = {}


def process_rate(rate: float) -> AsyncLimiter | None:
    """The limiter of ``rate`` every sender of this process shares."""
    if rate not in _LIMITERS:
        _LIMITERS[rate] = sending_rate(rate)
    return _LIMITERS[rate]


class TwilioSender:
    """Sends SMS from the configured number and finds messages already sent."""

    def __init__(
        self,
        settings: ConsumersSettings,
        rate: float | None = None,
        timeout: float = 10.0,
    ) -> None:
        """Sends are paced by the process's limiter at the settings' rate, or, given ``rate``
        (messages per second, 0 for no limit), by a limiter of this sender's own."""
        self._settings = settings
        self._limiter = (
            process_rate(settings.sms_messages_per_second) if rate is None else sending_rate(rate)
        )
        self._timeout = timeout
        self._client: Client | None = None
        self._http: AsyncTwilioHttpClient | None = None
        token = settings.twilio_auth_token.get_secret_value()
        credentials = base64.b64encode(f"{settings.twilio_account_sid}:{token}".encode())
        self._messages_url = (
            f"{settings.twilio_api_url.rstrip('/')}/2010-04-01/Accounts/"
            f"{settings.twilio_account_sid}/Messages.json"
        )
        self._messages = FormPoster(
            self._messages_url,
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
        if self._limiter is not None:
            await self._limiter.acquire()
        form = {"To": to, "From": self._settings.twilio_from_number, "Body": body}
        if status_callback:
            form["StatusCallback"] = status_callback
        try:
            async with asyncio.timeout(self._timeout):
                answer = await self._post(urlencode(form).encode())
        except (TimeoutError, ConnectionLost, OSError) as exc:
            PROVIDER_CALLS.labels("twilio", "send", "unavailable").inc()
            raise _error_of(classify_transport_failure(exc)) from exc
        outcome = "ok" if answer.status < 300 else f"{answer.status // 100}xx"
        PROVIDER_CALLS.labels("twilio", "send", outcome).inc()
        try:
            resource = orjson.loads(answer.body)
        except orjson.JSONDecodeError:
            resource = None
        if not isinstance(resource, dict):
            resource = {}
        message = ""
        if answer.status >= 400:
            message = resource.get("message") or answer.body[:200].decode(errors="replace")
        verdict = classify_answer(
            answer.status, resource.get("code"), str(message), has_sid=bool(resource.get("sid"))
        )
        if verdict.outcome is not Outcome.ACCEPTED:
            raise _error_of(verdict)
        return SentMessage(
            sid=str(resource["sid"]), segments=segments_billed(resource.get("num_segments"), body)
        )

    async def _post(self, form: bytes) -> Answer:
        """The Messages POST; while spans are exported, inside a client span whose
        ``traceparent`` it carries (the send continues the trace of its announcement)."""
        if not exporting():
            return await self._messages.post(form)
        with _tracer.start_as_current_span(
            "POST",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": "POST", "url.full": self._messages_url},
        ) as span:
            answer = await self._messages.post(form, current_traceparent())
            span.set_attribute("http.response.status_code", answer.status)
            if answer.status >= 500:
                span.set_status(StatusCode.ERROR)
            return answer

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
                return SentMessage(
                    sid=str(message.sid),
                    segments=segments_billed(getattr(message, "num_segments", None), body),
                )
        return None

    async def close(self) -> None:
        await self._messages.close()
        if self._http is not None:
            http, self._http, self._client = self._http, None, None
            await http.close()


def _error_of(verdict: Verdict) -> Exception:
    if verdict.outcome is Outcome.REFUSED:
        return SendRefused(verdict.code, verdict.reason)
    return SendUnavailable(verdict.reason, maybe_accepted=verdict.maybe_accepted)
