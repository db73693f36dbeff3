"""Declarations of event types: each is declared once with its topic, version and schema."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from pydantic import BaseModel, ValidationError

from nudges_kit.events.envelope import Envelope

D = TypeVar("D", bound=BaseModel)


class UnknownEventType(LookupError):
    """An envelope names a type nobody declared."""


class InvalidEvent(ValueError):
    """An envelope's data does not validate against its declared schema."""


@dataclass(frozen=True)
class EventType(Generic[D]):
    """One event type: its name, topic, version and the pydantic schema of its data."""

    name: str
    topic: str
    schema: type[D]
    version: int = 1

    def envelope(self, key: str, data: D) -> Envelope:
        """A new envelope of this type for aggregate ``key``."""
        return Envelope(
            type=self.name, version=self.version, key=key, data=data.model_dump(mode="json")
        )

    def parse(self, envelope: Envelope) -> D:
        """The validated data of ``envelope``."""
        try:
            return self.schema.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEvent(f"{self.name} v{envelope.version}: {exc}") from exc


class EventRegistry:
    """Every declared event type, by name and by topic."""

    def __init__(self) -> None:
        self._by_name: dict[str, EventType[BaseModel]] = {}
        self._topics: dict[str, list[str]] = {}

    def declare(self, name: str, topic: str, schema: type[D], version: int = 1) -> EventType[D]:
        """Declare an event type; a second declaration of one name is an error."""
        if name in self._by_name:
            raise ValueError(f"event type {name} is already declared")
        event_type = EventType(name=name, topic=topic, schema=schema, version=version)
        self._by_name[name] = event_type  # type: ignore[assignment]
        self._topics.setdefault(topic, []).append(name)
        return event_type

    def declare_topic(self, topic: str) -> str:
        """Declare a topic whose messages are not envelopes of declared types."""
        self._topics.setdefault(topic, [])
        return topic

    def get(self, name: str) -> EventType[BaseModel]:
        """The declaration of ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownEventType(f"unknown event type {name!r}") from None

    def validate(self, envelope: Envelope) -> BaseModel:
        """The typed data of ``envelope``; raises when unknown or invalid."""
        return self.get(envelope.type).parse(envelope)

    def topics(self) -> list[str]:
        """Every topic with a declared event, sorted."""
        return sorted(self._topics)

    def types_of(self, topic: str) -> list[str]:
        """Event type names published on ``topic``."""
        return list(self._topics.get(topic, []))


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of ``topic``."""
    return f"{topic}.dlq"
