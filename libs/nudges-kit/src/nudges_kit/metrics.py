"""Prometheus metrics shared by every service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PUBLISHED = Counter(
    "nudges_outbox_published_total", "Outbox events published to Kafka", ["topic"]
)
OUTBOX_PENDING = Gauge("nudges_outbox_pending", "Outbox events not yet published")
OUTBOX_PUBLISH_FAILURES = Counter(
    "nudges_outbox_publish_failures_total", "Failed outbox publish attempts"
)
EVENTS_HANDLED = Counter(
    "nudges_events_handled_total", "Events handled by consumers", ["group", "topic", "outcome"]
)
EVENT_HANDLING_SECONDS = Histogram(
    "nudges_event_handling_seconds", "Time to handle one event", ["group", "topic"]
)
CONSUMER_LAG = Gauge(
    "nudges_consumer_lag",
    "Messages between the committed offset and the end",
    ["group", "topic", "partition"],
)
DEAD_LETTERS = Counter(
    "nudges_dead_letters_total", "Events sent to a dead-letter topic", ["group", "topic"]
)
HTTP_REQUESTS = Counter(
    "nudges_http_requests_total",
    "HTTP requests answered, by method, route template and status",
    ["method", "route", "status"],
)
HTTP_REQUEST_SECONDS = Histogram(
    "nudges_http_request_seconds", "Time to answer an HTTP request", ["route"]
)
PROVIDER_CALLS = Counter(
    "nudges_provider_calls_total",
    "Calls to Stripe and Twilio, by provider, operation and outcome (ok, unavailable, 4xx, 5xx)",
    ["provider", "operation", "outcome"],
)
