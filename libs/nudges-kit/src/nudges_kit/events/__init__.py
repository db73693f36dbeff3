"""Event envelope, declarations and the catalog of every Nudges event."""

from nudges_kit.events.envelope import Envelope, new_event_id
from nudges_kit.events.registry import (
    EventRegistry,
    EventType,
    InvalidEvent,
    UnknownEventType,
    dlq_topic,
)

#: The one registry every event type of the platform is declared in.
REGISTRY = EventRegistry()

__all__ = [
    "REGISTRY",
    "Envelope",
    "EventRegistry",
    "EventType",
    "InvalidEvent",
    "UnknownEventType",
    "dlq_topic",
    "new_event_id",
]
