"""The Webhooks HTTP app: Stripe and Twilio callbacks, verified before anything else."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from twilio.twiml.messaging_response import MessagingResponse

from nudges_kit.http import add_readiness_check, create_app
from nudges_kit.kafka import start_client
from nudges_kit.logging import get_logger
from nudges_kit.warpcache import CacheError
from nudges_webhooks.bootstrap import bootstrap
from nudges_webhooks.domain.signatures import InvalidSignature, verify_stripe, verify_twilio
from nudges_webhooks.service_layer.dialogue import Dialogue
from nudges_webhooks.service_layer.provider_events import (
    MalformedEvent,
    receive_stripe_event,
    receive_twilio_status,
)
from nudges_webhooks.settings import WebhooksSettings

log = get_logger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: WebhooksSettings = app.state.settings
    deps = bootstrap(settings)
    app.state.publisher = deps.publisher
    app.state.once = deps.once
    app.state.dialogue = deps.dialogue
    started = False

    async def kafka_ready() -> None:
        nonlocal started
        if not started:
            await start_client(deps.producer, settings)
            started = True

    add_readiness_check(app, "kafka", kafka_ready)
    add_readiness_check(app, "warpcache", lambda: deps.cache.get("webhooks:readyz"))
    with contextlib.suppress(KafkaError, OSError):
        await kafka_ready()
    try:
        yield
    finally:
        await deps.close()


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=503, headers={"Retry-After": "5"})


def _twilio_url(request: Request, settings: WebhooksSettings) -> str:
    if settings.twilio_webhook_base_url:
        query = f"?{request.url.query}" if request.url.query else ""
        return settings.twilio_webhook_base_url.rstrip("/") + request.url.path + query
    return str(request.url)


async def _twilio_params(request: Request, settings: WebhooksSettings) -> dict[str, str] | None:
    """The form of a Twilio request whose signature is valid; None otherwise."""
    form = await request.form()
    params = {k: str(v) for k, v in form.items()}
    try:
        verify_twilio(
            _twilio_url(request, settings),
            params,
            request.headers.get("X-Twilio-Signature"),
            settings.twilio_auth_token.get_secret_value(),
        )
    except InvalidSignature:
        log.warning("twilio request with a bad signature", path=request.url.path)
        return None
    return params


def build_app(settings: WebhooksSettings | None = None) -> FastAPI:
    """The Webhooks application."""
    settings = settings or WebhooksSettings()
    app = create_app(settings, title="Nudges Webhooks", lifespan=lifespan)

    @app.post("/webhooks/stripe")
    async def stripe_webhook(request: Request) -> Any:
        payload = await request.body()
        try:
            verify_stripe(
                payload,
                request.headers.get("Stripe-Signature"),
                settings.stripe_webhook_secret.get_secret_value(),
                settings.stripe_signature_tolerance,
            )
        except InvalidSignature as exc:
            log.warning("stripe webhook with a bad signature", reason=str(exc))
            return JSONResponse({"error": f"invalid signature: {exc}"}, status_code=400)
        try:
            published = await receive_stripe_event(
                payload, request.app.state.publisher, request.app.state.once
            )
        except MalformedEvent as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (KafkaError, CacheError, OSError) as exc:
            log.error("stripe event not published, Stripe will retry", error=str(exc))
            return _unavailable("events cannot be recorded right now")
        return {"received": True, "published": published}

    @app.post("/webhooks/twilio/status")
    async def twilio_status(request: Request) -> Response:
        params = await _twilio_params(request, settings)
        if params is None:
            return JSONResponse({"error": "invalid signature"}, status_code=403)
        try:
            await receive_twilio_status(params, request.app.state.publisher)
        except MalformedEvent as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except (KafkaError, OSError) as exc:
            log.error("status callback not published, Twilio will retry", error=str(exc))
            return _unavailable("status cannot be recorded right now")
        return Response(status_code=204)

    @app.post("/webhooks/twilio/sms")
    async def twilio_sms(request: Request) -> Response:
        params = await _twilio_params(request, settings)
        if params is None:
            return JSONResponse({"error": "invalid signature"}, status_code=403)
        dialogue: Dialogue = request.app.state.dialogue
        reply = await dialogue.answer(params.get("From", ""), params.get("Body", ""))
        twiml = MessagingResponse()
        twiml.message(reply)
        return Response(str(twiml), media_type="application/xml")

    return app
