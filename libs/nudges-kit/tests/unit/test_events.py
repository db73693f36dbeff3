"""Event declarations and the envelope."""

from __future__ import annotations

import uuid

import pytest
from pydantic import BaseModel

from nudges_kit.events import REGISTRY, Envelope, EventRegistry, InvalidEvent, UnknownEventType
from nudges_kit.events.catalog import user
from nudges_kit.kafka import all_topics


class Data(BaseModel):
    n: int


def test_envelope_round_trips_with_a_time_ordered_id() -> None:
    first = Envelope(type="t", key="k", data={"n": 1})
    second = Envelope(type="t", key="k", data={"n": 2})
    assert first.id.version == 7
    assert first.id < second.id
    assert Envelope.from_bytes(first.to_bytes()) == first


def test_an_event_type_is_declared_once() -> None:
    registry = EventRegistry()
    registry.declare("a.b.created", "a.bs", Data)
    with pytest.raises(ValueError, match="already declared"):
        registry.declare("a.b.created", "a.bs", Data)


def test_validation_names_the_problem() -> None:
    registry = EventRegistry()
    created = registry.declare("a.b.created", "a.bs", Data)
    assert registry.validate(created.envelope("k", Data(n=1))) == Data(n=1)
    with pytest.raises(InvalidEvent, match=r"a\.b\.created"):
        registry.validate(Envelope(type="a.b.created", key="k", data={"n": "x"}))
    with pytest.raises(UnknownEventType):
        registry.validate(Envelope(type="nope", key="k", data={}))


def test_the_catalog_declares_the_topics_of_the_spec() -> None:
    topics = set(all_topics())
    for topic in [
        "user.clients",
        "user.memberships",
        "user.announcements",
        "product.plans",
        "product.price-tiers",
        "product.plan-subscriptions",
        "payment.checkouts",
        "stripe.events",
        "twilio.status",
        "sms.outbound",
        "auth.logins",
    ]:
        assert topic in topics
        assert f"{topic}.dlq" in topics
    assert REGISTRY.get("user.client.created") is user.client_created
    envelope = user.client_created.envelope(
        "c1",
        user.ClientData(
            client_id=uuid.uuid4(),
            user_id=uuid.uuid4(),
            name="Ada",
            slug="ada",
            locale="en",
            phone_hash="h",
        ),
    )
    assert envelope.key == "c1"
    assert "phone" not in envelope.data or envelope.data.get("phone") is None
