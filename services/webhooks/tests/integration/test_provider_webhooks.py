"""Stripe and Twilio webhooks: verified, published once, refused when not signed."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from fastapi.testclient import TestClient
from stripe import WebhookSignature
from twilio.request_validator import RequestValidator

from nudges_kit.events import Envelope
from nudges_kit.kafka import all_topics, ensure_topics
from nudges_webhooks.settings import WebhooksSettings


def _stripe_event(object_id: str) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "type": "invoice.paid",
        "created": int(time.time()),
        "data": {"object": {"id": object_id, "object": "invoice", "amount_paid": 900}},
    }


def _post_stripe(
    client: TestClient, event: dict[str, Any], secret: str = "whsec_test", ts: int | None = None
) -> Any:
    payload = orjson.dumps(event).decode()
    header = WebhookSignature.generate_signature_header(payload, secret, ts)
    return client.post(
        "/webhooks/stripe",
        content=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )


async def _messages(settings: WebhooksSettings, topic: str, key: str) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batches = await consumer.getmany(timeout_ms=2000)
        while more := await consumer.getmany(timeout_ms=500):
            for tp, records in more.items():
                batches.setdefault(tp, []).extend(records)
    finally:
        await consumer.stop()
    return [
        Envelope.from_bytes(r.value or b"")
        for records in batches.values()
        for r in records
        if r.key == key.encode()
    ]


def _ensure_topics(settings: WebhooksSettings) -> None:
    asyncio.run(ensure_topics(settings.kafka_bootstrap_servers, all_topics()))


def test_a_stripe_event_delivered_three_times_is_published_once(
    webhooks: TestClient, settings: WebhooksSettings
) -> None:
    _ensure_topics(settings)
    invoice = f"in_{uuid.uuid4().hex[:12]}"
    event = _stripe_event(invoice)
    answers = [_post_stripe(webhooks, event) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["published"] for a in answers] == [True, False, False]
    published = asyncio.run(_messages(settings, "stripe.events", invoice))
    assert len(published) == 1
    assert published[0].type == "stripe.event"
    assert published[0].data["stripe_event_id"] == event["id"]
    assert published[0].data["object"]["amount_paid"] == 900


def test_unsigned_or_badly_signed_stripe_events_are_refused_and_not_published(
    webhooks: TestClient, settings: WebhooksSettings
) -> None:
    _ensure_topics(settings)
    invoice = f"in_{uuid.uuid4().hex[:12]}"
    event = _stripe_event(invoice)
    missing = webhooks.post("/webhooks/stripe", content=orjson.dumps(event))
    wrong = _post_stripe(webhooks, event, secret="whsec_other")
    stale = _post_stripe(webhooks, event, ts=int(time.time()) - 3600)
    assert [r.status_code for r in (missing, wrong, stale)] == [400, 400, 400]
    assert "invalid signature" in missing.json()["error"]
    assert asyncio.run(_messages(settings, "stripe.events", invoice)) == []
    not_an_event = _post_stripe(webhooks, {"id": "evt_x"})
    assert not_an_event.status_code == 400


def _twilio_post(client: TestClient, path: str, params: dict[str, str], token: str) -> Any:
    signature = RequestValidator(token).compute_signature(f"http://testserver{path}", params)
    return client.post(path, data=params, headers={"X-Twilio-Signature": signature})


def test_a_signed_status_callback_is_published_keyed_by_message(
    webhooks: TestClient, settings: WebhooksSettings
) -> None:
    _ensure_topics(settings)
    sid = f"SM{uuid.uuid4().hex}"
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC1"}
    answer = _twilio_post(webhooks, "/webhooks/twilio/status", params, "twilio-test-token")
    assert answer.status_code == 204
    published = asyncio.run(_messages(settings, "twilio.status", sid))
    assert [(e.type, e.data["status"]) for e in published] == [
        ("twilio.message.status", "delivered")
    ]


def test_twilio_requests_with_a_wrong_signature_get_403(webhooks: TestClient) -> None:
    params = {"MessageSid": "SMx", "MessageStatus": "sent"}
    for path in ("/webhooks/twilio/status", "/webhooks/twilio/sms"):
        assert _twilio_post(webhooks, path, params, "not-the-token").status_code == 403
        assert webhooks.post(path, data=params).status_code == 403
    inbound = {"From": "+14155550100", "Body": "HELP", "MessageSid": "SMin"}
    answer = _twilio_post(webhooks, "/webhooks/twilio/sms", inbound, "twilio-test-token")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/xml")
