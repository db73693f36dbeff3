"""The Twilio emulator's HTTP interface: the Messages API of ``2010-04-01`` as the ``twilio``
library calls it, and ``/_emulator`` controls for tests and people."""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from nudges_emulators.delivery import RetryPolicy
from nudges_emulators.forms import parse_flat
from nudges_emulators.twilio.errors import TwilioError, forced
from nudges_emulators.twilio.faults import (
    MAGIC_TO_NUMBERS,
    FailurePlan,
    Failures,
    TokenBucket,
)
from nudges_emulators.twilio.inbound import (
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    deliver,
    inbound_params,
    twiml_replies,
)
from nudges_emulators.twilio.messages import (
    Message,
    MessageFilter,
    MessageStore,
    new_sid,
)
from nudges_emulators.twilio.persistence import TwilioStateFile
from nudges_emulators.twilio.progress import StatusProgress
from nudges_emulators.twilio.settings import TwilioEmulatorSettings
from nudges_kit.http import background, create_app
from nudges_kit.logging import get_logger
from nudges_kit.phone import InvalidPhoneNumber, normalize

log = get_logger(__name__)

MAX_BODY = 1600


class TwilioEmulator:
    """Messages, the simulated network and the status worker, shared by every route."""

    def __init__(self, settings: TwilioEmulatorSettings) -> None:
        self.settings = settings
        self.account_sid = settings.twilio_account_sid
        self.auth_token = settings.twilio_auth_token.get_secret_value()
        self.phone_number = settings.twilio_phone_number
        self.sms_webhook_url = settings.twilio_sms_webhook_url
        self.enforce_opt_out = settings.twilio_emulator_enforce_opt_out
        self.messages = MessageStore()
        self.failures = FailurePlan()
        self.rate = TokenBucket(settings.twilio_emulator_max_mps)
        self.opted_out: set[str] = set()
        self.progress = StatusProgress(
            self.messages,
            self.auth_token,
            self.phone_number,
            settings.twilio_emulator_status_delay_seconds,
            RetryPolicy(
                max_attempts=settings.twilio_emulator_callback_max_attempts,
                initial_delay=settings.twilio_emulator_callback_retry_seconds,
            ),
            settings.twilio_emulator_callback_timeout_seconds,
        )
        state_file = settings.twilio_emulator_state_file
        self.state_file = TwilioStateFile(Path(state_file)) if state_file else None
        if self.state_file is not None:
            for message in self.state_file.load(self.messages, self.opted_out):
                self.progress.resume(message)

    def reset(self) -> None:
        """Forget messages, failures, opt-outs and the rate's history."""
        self.progress.forget()
        self.messages.clear()
        self.failures.clear()
        self.opted_out.clear()
        self.rate = TokenBucket(self.rate.rate)

    def authenticate(self, request: Request, account_sid: str) -> None:
        """HTTP basic auth with the account SID and auth token (401 otherwise), for the
        account in the path (404 otherwise)."""
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user, password = "", ""
        if (
            scheme.lower() != "basic"
            or not hmac.compare_digest(user, self.account_sid)
            or not hmac.compare_digest(password, self.auth_token)
        ):
            raise TwilioError(401, 20003)
        if account_sid != self.account_sid:
            raise TwilioError(404, 20404, request.url.path)

    def validate_send(self, form: dict[str, str]) -> tuple[str, str | None]:
        """The normalised To and the From of a send, or Twilio's error for it."""
        raw_to = form.get("To", "").strip()
        if not raw_to:
            raise TwilioError(400, 21604)
        if not form.get("Body") and not form.get("MediaUrl"):
            raise TwilioError(400, 21602)
        if len(form.get("Body", "")) > MAX_BODY:
            raise TwilioError(400, 21617)
        sender = form.get("From") or None
        if sender is None and not form.get("MessagingServiceSid"):
            raise TwilioError(400, 21603)
        if (magic := MAGIC_TO_NUMBERS.get(raw_to)) is not None:
            raise TwilioError(400, magic, raw_to)
        try:
            to = normalize(raw_to)
        except InvalidPhoneNumber:
            raise TwilioError(400, 21211, raw_to) from None
        if self.enforce_opt_out and to in self.opted_out:
            raise TwilioError(400, 21610)
        return to, sender

    def accept(self, form: dict[str, str], to: str, sender: str | None) -> Message:
        """Record a message and start its life."""
        service = form.get("MessagingServiceSid") or None
        message = self.messages.add(
            Message(
                sid=new_sid(),
                account_sid=self.account_sid,
                to=to,
                from_=sender,
                body=form.get("Body", ""),
                direction="outbound-api",
                status="queued" if sender else "accepted",
                messaging_service_sid=service,
                status_callback=form.get("StatusCallback") or None,
            )
        )
        self.progress.start(message, self.failures.numbers.get(to))
        return message


def _error(error: TwilioError) -> JSONResponse:
    headers = {"WWW-Authenticate": 'Basic realm="Twilio API"'} if error.status == 401 else None
    return JSONResponse(error.as_json(), error.status, headers=headers)


class InboundText(BaseModel):
    """``POST /_emulator/inbound``: a phone texts the Nudges number."""

    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    body: str
    to: str | None = None


class EmulatorConfig(BaseModel):
    """``POST /_emulator/config``: change where inbound texts go, or the sending rate."""

    sms_webhook_url: str | None = None
    max_mps: float | None = None
    enforce_opt_out: bool | None = None


def build_app(settings: TwilioEmulatorSettings) -> FastAPI:
    """The Twilio emulator app."""
    emulator = TwilioEmulator(settings)
    clients: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        async with httpx.AsyncClient(timeout=15.0) as client:
            clients["inbound"] = client
            tasks = [emulator.progress.run(stop)]
            if emulator.state_file is not None:
                tasks.append(emulator.state_file.keep(emulator.messages, emulator.opted_out, stop))
            async with background(stop, *tasks):
                log.info("twilio emulator ready", sms_webhook_url=emulator.sms_webhook_url)
                yield

    app: FastAPI = create_app(settings, title="Twilio emulator", lifespan=lifespan)
    app.state.emulator = emulator
    messages_path = "/2010-04-01/Accounts/{account_sid}/Messages"

    @app.post(f"{messages_path}.json", status_code=201)
    async def send_message(account_sid: str, request: Request) -> Response:
        """Send an SMS: 201 with the message resource, or Twilio's error."""
        try:
            emulator.authenticate(request, account_sid)
            form = parse_flat(await request.body())
            if (forced_error := emulator.failures.next_error(form.get("To"))) is not None:
                if forced_error.after_create:
                    to, sender = emulator.validate_send(form)
                    emulator.accept(form, to, sender)
                raise forced(forced_error.status)
            if not emulator.rate.take():
                raise TwilioError(429, 20429)
            to, sender = emulator.validate_send(form)
            message = emulator.accept(form, to, sender)
            resource = message.resource()
        except TwilioError as error:
            return _error(error)
        if (delay := emulator.failures.next_delay(form.get("To"))) > 0:
            await asyncio.sleep(delay)
        return JSONResponse(resource, 201)

    @app.get(f"{messages_path}.json")
    async def list_messages(account_sid: str, request: Request) -> Response:
        """A page of messages, newest first (``To``, ``From``, ``DateSent`` filters)."""
        try:
            emulator.authenticate(request, account_sid)
            query = dict(request.query_params)
            page_size = min(max(int(query.get("PageSize", "50")), 1), 1000)
            page = max(int(query.get("Page", "0")), 0)
            where = MessageFilter.from_query(query)
            return JSONResponse(
                emulator.messages.page(account_sid, where, page_size, page, query.get("PageToken"))
            )
        except TwilioError as error:
            return _error(error)
        except ValueError as exc:
            return JSONResponse(
                {"code": 20001, "message": f"Invalid parameter: {exc}", "status": 400}, 400
            )

    @app.get(f"{messages_path}/{{sid}}.json")
    async def fetch_message(account_sid: str, sid: str, request: Request) -> Response:
        """One message by sid."""
        try:
            emulator.authenticate(request, account_sid)
            message = emulator.messages.by_sid.get(sid)
            if message is None:
                raise TwilioError(404, 20404, request.url.path)
            return JSONResponse(message.resource())
        except TwilioError as error:
            return _error(error)

    @app.get("/_emulator/messages")
    async def sent_messages(
        to: str | None = None, direction: str = "outbound-api"
    ) -> dict[str, Any]:
        """What was sent, oldest first: by default what Nudges sent through the API;
        ``direction=all`` adds inbound texts and TwiML replies."""
        where = MessageFilter(to=to)
        return {
            "messages": [
                m.record()
                for m in emulator.messages.select(where)
                if direction == "all" or m.direction == direction
            ]
        }

    @app.post("/_emulator/inbound")
    async def inbound(text: InboundText) -> Response:
        """A phone texts the Nudges number: the signed webhook Twilio would send, and the
        TwiML reply (``reply`` is the text of its first ``<Message>``)."""
        try:
            sender = normalize(text.from_)
            to = normalize(text.to) if text.to else emulator.phone_number
        except InvalidPhoneNumber as exc:
            return JSONResponse({"error": str(exc)}, 400)
        message = emulator.messages.add(
            Message(
                sid=new_sid(),
                account_sid=emulator.account_sid,
                to=to,
                from_=sender,
                body=text.body,
                direction="inbound",
                status="received",
            )
        )
        keyword = text.body.strip().upper()
        if keyword in OPT_OUT_KEYWORDS:
            emulator.opted_out.add(sender)
        elif keyword in OPT_IN_KEYWORDS:
            emulator.opted_out.discard(sender)
        try:
            response = await deliver(
                clients["inbound"],
                emulator.sms_webhook_url,
                inbound_params(message),
                emulator.auth_token,
            )
        except httpx.HTTPError as exc:
            return JSONResponse(
                {
                    "status": None,
                    "error": f"{type(exc).__name__}: {exc}",
                    "message_sid": message.sid,
                },
                502,
            )
        replies = twiml_replies(response.text) if response.is_success else []
        for reply in replies:
            reply_message = emulator.messages.add(
                Message(
                    sid=new_sid(),
                    account_sid=emulator.account_sid,
                    to=sender,
                    from_=to,
                    body=reply,
                    direction="outbound-reply",
                    status="queued",
                )
            )
            emulator.progress.start(reply_message, emulator.failures.numbers.get(sender))
        return JSONResponse(
            {
                "status": response.status_code,
                "twiml": response.text,
                "reply": replies[0] if replies else None,
                "replies": replies,
                "message_sid": message.sid,
            }
        )

    @app.post("/_emulator/failures")
    async def configure_failures(change: Failures) -> dict[str, Any]:
        """Make numbers fail, or the next sends answer an error or time out."""
        emulator.failures.apply(change)
        return emulator.failures.as_json()

    @app.get("/_emulator/failures")
    async def show_failures() -> dict[str, Any]:
        """What is configured to fail."""
        return emulator.failures.as_json()

    @app.delete("/_emulator/failures")
    async def clear_failures() -> dict[str, Any]:
        """Nothing fails any more."""
        emulator.failures.clear()
        return emulator.failures.as_json()

    @app.post("/_emulator/reset")
    async def reset() -> dict[str, str]:
        """Forget everything (between tests)."""
        emulator.reset()
        return {"status": "reset"}

    @app.get("/_emulator/config")
    async def show_config() -> dict[str, Any]:
        """The current webhook URL, rate and opt-out enforcement."""
        return {
            "sms_webhook_url": emulator.sms_webhook_url,
            "max_mps": emulator.rate.rate,
            "enforce_opt_out": emulator.enforce_opt_out,
            "account_sid": emulator.account_sid,
            "phone_number": emulator.phone_number,
        }

    @app.post("/_emulator/config")
    async def configure(config: EmulatorConfig) -> dict[str, Any]:
        """Send inbound texts elsewhere, change the rate, enforce opt-outs (tests)."""
        if config.sms_webhook_url is not None:
            emulator.sms_webhook_url = config.sms_webhook_url
        if config.max_mps is not None:
            emulator.rate = TokenBucket(config.max_mps)
        if config.enforce_opt_out is not None:
            emulator.enforce_opt_out = config.enforce_opt_out
        return await show_config()

    return app
